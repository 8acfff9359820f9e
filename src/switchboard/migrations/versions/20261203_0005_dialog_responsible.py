"""dialogs.responsible_id: the client's manager beside the Inbox's ordering key

A copy of clients.personal_manager_id on each personal-manager dialog, indexed with the dialog's
last activity, so a manager's Inbox reads its first page from an index instead of sorting every
dialog of every client they manage.

Revision ID: 20261203_0005
Revises: 20261203_0004
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261203_0005"
down_revision = "20261203_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dialogs") as batch:
        batch.add_column(sa.Column("responsible_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_dialogs_responsible_id_employees"), "employees", ["responsible_id"], ["id"]
        )
        batch.create_check_constraint(
            batch.f("ck_dialogs_responsible_only_pm"),
            "kind = 'personal_manager' OR responsible_id IS NULL",
        )
    op.execute(
        "UPDATE dialogs SET responsible_id = (SELECT c.personal_manager_id FROM clients c"
        " WHERE c.id = dialogs.client_id) WHERE kind = 'personal_manager'"
    )
    op.create_index(
        op.f("ix_dialogs_responsible"), "dialogs", ["responsible_id", "last_activity_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_dialogs_responsible", table_name="dialogs")
    with op.batch_alter_table("dialogs") as batch:
        batch.drop_constraint("ck_dialogs_responsible_only_pm", type_="check")
        batch.drop_constraint("fk_dialogs_responsible_id_employees", type_="foreignkey")
        batch.drop_column("responsible_id")
