"""Login throttling counters; audit_log gains a second employee, an actor index, and refuses
UPDATE and DELETE

The triggers make the audit trail append-only for the application's own database role as well
as for anyone else; TRUNCATE is left to the table's owner (retention is an operator's act).
SQLite drops a table's triggers when a batch migration copies the table: a later migration that
rebuilds audit_log must create them again.

Revision ID: 20261203_0004
Revises: 20261203_0003
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261203_0004"
down_revision = "20261203_0003"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$
"""
_PG_TRIGGER = (
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
)
_SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle") as batch:
        batch.create_index(
            batch.f("ix_login_throttle_window_started_at"), ["window_started_at"], unique=False
        )
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("related_employee_id", sa.Integer(), nullable=True))
        batch.create_index(
            batch.f("ix_audit_log_related_employee_id"), ["related_employee_id"], unique=False
        )
        batch.create_index("ix_audit_log_actor", ["actor_id", "actor_type"], unique=False)
    if _is_sqlite():
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)


def downgrade() -> None:
    if _is_sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_actor")
        batch.drop_index(batch.f("ix_audit_log_related_employee_id"))
        batch.drop_column("related_employee_id")
    with op.batch_alter_table("login_throttle") as batch:
        batch.drop_index(batch.f("ix_login_throttle_window_started_at"))
    op.drop_table("login_throttle")
