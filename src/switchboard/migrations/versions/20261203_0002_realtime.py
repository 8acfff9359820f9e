"""real time: event recipients, live connections, presence

Revision ID: 20261203_0002
Revises: 20261203_0001
Create Date: 2026-12-03 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261203_0002"
down_revision = "20261203_0001"
branch_labels = None
depends_on = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("employee_ids")
        batch.drop_column("person_ids")
    op.create_table(
        "event_recipients",
        sa.Column("event_id", EVENT_ID, nullable=False),
        sa.Column("reader_type", sa.String(length=1), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_recipients_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "event_id", "reader_type", "reader_id", name=op.f("pk_event_recipients")
        ),
    )
    op.create_index(
        "ix_event_recipients_reader",
        "event_recipients",
        ["reader_type", "reader_id", "event_id"],
    )
    op.create_table(
        "live_connections",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=64), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_live_connections_employee_id_employees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_connections")),
    )
    op.create_index("ix_live_connections_employee", "live_connections", ["employee_id"])
    op.create_index(op.f("ix_live_connections_process_id"), "live_connections", ["process_id"])
    with op.batch_alter_table("employees") as batch:
        batch.add_column(sa.Column("disconnected_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("employees") as batch:
        batch.drop_column("disconnected_at")
    op.drop_table("live_connections")
    op.drop_table("event_recipients")
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("employee_ids", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("person_ids", sa.JSON(), nullable=False, server_default="[]"))
