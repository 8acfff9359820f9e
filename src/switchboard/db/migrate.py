from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from switchboard.db.engine import create_engine
from switchboard.db.session import MIGRATION_LOCK

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Several processes starting at once: one migrates, the others wait, then find nothing.
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
    try:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()


async def upgrade(url: str, revision: str = "head") -> None:
    # No statement timeout: waiting for another process's migration is expected.
    engine = create_engine(url, pool_size=1, command_timeout=None)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()
