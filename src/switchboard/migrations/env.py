from __future__ import annotations

from typing import Any

from alembic import context

from switchboard.db.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection: Any = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through switchboard.db.migrate")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
