"""clients.name_folded holds the whole folded name

Case folding may lengthen a name many times over (NFKC of one character can be 18), so the
folded copy is unbounded text; a plain b-tree index never served a substring search anyway.

Revision ID: 20261203_0003
Revises: 20261203_0002
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261203_0003"
down_revision = "20261203_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_index("ix_clients_name_folded")
        batch.alter_column(
            "name_folded",
            existing_type=sa.String(length=300),
            type_=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.alter_column(
            "name_folded",
            existing_type=sa.Text(),
            type_=sa.String(length=300),
            existing_nullable=False,
        )
        batch.create_index("ix_clients_name_folded", ["name_folded"])
