"""initial schema

Revision ID: 20261203_0001
Revises:
Create Date: 2026-12-03 15:57:11.805692
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261203_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_employee_id"), ["employee_id"], unique=False)

    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("general_limit", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("last_general_assigned_seq", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'break', 'offline')", name=op.f("ck_employees_status_valid")
        ),
        sa.CheckConstraint(
            "general_limit IS NULL OR general_limit >= 0", name=op.f("ck_employees_limit_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("login", name=op.f("uq_employees_login")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("employee_ids", sa.JSON(), nullable=False),
        sa.Column("person_ids", sa.JSON(), nullable=False),
        sa.Column("supervisors", sa.Boolean(), nullable=False),
        sa.Column("all_employees", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_dialog_id"), ["dialog_id"], unique=False)

    op.create_table(
        "settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("default_general_limit", sa.Integer(), nullable=False),
        sa.Column("requeue_general_on_inactive", sa.Boolean(), nullable=False),
        sa.Column("pm_appeals_count_toward_limit", sa.Boolean(), nullable=False),
        sa.Column("offline_grace_seconds", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "default_general_limit >= 0", name=op.f("ck_settings_default_limit_valid")
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_settings_single_row")),
        sa.CheckConstraint("offline_grace_seconds >= 0", name=op.f("ck_settings_grace_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_folded", sa.String(length=300), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("personal_manager_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('individual', 'legal_entity')", name=op.f("ck_clients_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["personal_manager_id"],
            ["employees.id"],
            name=op.f("fk_clients_personal_manager_id_employees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("external_id", name=op.f("uq_clients_external_id")),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clients_name_folded"), ["name_folded"], unique=False)
        batch_op.create_index(
            "ix_clients_personal_manager_id", ["personal_manager_id"], unique=False
        )

    op.create_table(
        "personal_manager_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("previous_employee_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["employees.id"],
            name=op.f("fk_personal_manager_changes_changed_by_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_personal_manager_changes_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_personal_manager_changes_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_employee_id"],
            ["employees.id"],
            name=op.f("fk_personal_manager_changes_previous_employee_id_employees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_manager_changes")),
    )
    with op.batch_alter_table("personal_manager_changes", schema=None) as batch_op:
        batch_op.create_index("ix_pm_changes_client", ["client_id", "id"], unique=False)

    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_persons_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("external_id", name=op.f("uq_persons_external_id")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_client_id"), ["client_id"], unique=False)

    op.create_table(
        "dialogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('general', 'personal_manager')", name=op.f("ck_dialogs_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_dialogs_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_dialogs_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialogs")),
        sa.UniqueConstraint("person_id", "kind", name="uq_dialogs_person_kind"),
    )
    with op.batch_alter_table("dialogs", schema=None) as batch_op:
        batch_op.create_index("ix_dialogs_activity", ["last_activity_at", "id"], unique=False)
        batch_op.create_index("ix_dialogs_client", ["client_id", "kind"], unique=False)

    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("waiting_for_id", sa.Integer(), nullable=True),
        sa.Column("last_assignee_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'queued' AND assignee_id IS NULL) OR (status = 'assigned' AND assignee_id IS NOT NULL) OR status = 'closed'",
            name=op.f("ck_appeals_assignee_matches_status"),
        ),
        sa.CheckConstraint(
            "kind IN ('general', 'personal_manager')", name=op.f("ck_appeals_kind_valid")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'assigned', 'closed')", name=op.f("ck_appeals_status_valid")
        ),
        sa.CheckConstraint(
            "waiting_for_id IS NULL OR status = 'queued'",
            name=op.f("ck_appeals_waiting_only_when_queued"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["employees.id"], name=op.f("fk_appeals_assignee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_appeals_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["dialog_id"], ["dialogs.id"], name=op.f("fk_appeals_dialog_id_dialogs")
        ),
        sa.ForeignKeyConstraint(
            ["last_assignee_id"],
            ["employees.id"],
            name=op.f("fk_appeals_last_assignee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["waiting_for_id"], ["employees.id"], name=op.f("fk_appeals_waiting_for_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appeals_assignee_open",
            ["assignee_id", "kind"],
            unique=False,
            sqlite_where=sa.text("status = 'assigned'"),
            postgresql_where=sa.text("status = 'assigned'"),
        )
        batch_op.create_index(batch_op.f("ix_appeals_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_appeals_dialog", ["dialog_id", "id"], unique=False)
        batch_op.create_index(
            "ix_appeals_queue",
            ["kind", "id"],
            unique=False,
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.create_index(
            "ix_appeals_waiting_for",
            ["waiting_for_id"],
            unique=False,
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.create_index(
            "uq_appeals_one_open_per_dialog",
            ["dialog_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'closed'"),
            postgresql_where=sa.text("status <> 'closed'"),
        )

    op.create_table(
        "dialog_participants",
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dialog_id"], ["dialogs.id"], name=op.f("fk_dialog_participants_dialog_id_dialogs")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_dialog_participants_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["employees.id"],
            name=op.f("fk_dialog_participants_invited_by_employees"),
        ),
        sa.PrimaryKeyConstraint("dialog_id", "employee_id", name=op.f("pk_dialog_participants")),
    )
    with op.batch_alter_table("dialog_participants", schema=None) as batch_op:
        batch_op.create_index("ix_participants_employee", ["employee_id"], unique=False)

    op.create_table(
        "read_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("reader_type", sa.String(length=16), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column("last_read_message_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "reader_type IN ('employee', 'person')", name=op.f("ck_read_marks_reader_type_valid")
        ),
        sa.ForeignKeyConstraint(
            ["dialog_id"], ["dialogs.id"], name=op.f("fk_read_marks_dialog_id_dialogs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_marks")),
        sa.UniqueConstraint("dialog_id", "reader_type", "reader_id", name="uq_read_marks_reader"),
    )
    op.create_table(
        "appeal_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_history_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_history")),
    )
    with op.batch_alter_table("appeal_history", schema=None) as batch_op:
        batch_op.create_index("ix_appeal_history_appeal", ["appeal_id", "id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dialog_id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("author_type", sa.String(length=16), nullable=False),
        sa.Column("author_person_id", sa.Integer(), nullable=True),
        sa.Column("author_employee_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("client_message_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(author_type = 'person' AND author_person_id IS NOT NULL AND author_employee_id IS NULL) OR (author_type = 'employee' AND author_employee_id IS NOT NULL AND author_person_id IS NULL) OR (author_type = 'system' AND author_person_id IS NULL AND author_employee_id IS NULL)",
            name=op.f("ck_messages_author_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_messages_appeal_id_appeals")
        ),
        sa.ForeignKeyConstraint(
            ["author_employee_id"],
            ["employees.id"],
            name=op.f("fk_messages_author_employee_id_employees"),
        ),
        sa.ForeignKeyConstraint(
            ["author_person_id"], ["persons.id"], name=op.f("fk_messages_author_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["dialog_id"], ["dialogs.id"], name=op.f("fk_messages_dialog_id_dialogs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_appeal_id"), ["appeal_id"], unique=False)
        batch_op.create_index("ix_messages_dialog", ["dialog_id", "id"], unique=False)
        batch_op.create_index(
            "uq_messages_employee_idempotency",
            ["author_employee_id", "client_message_id"],
            unique=True,
        )
        batch_op.create_index(
            "uq_messages_person_idempotency", ["author_person_id", "client_message_id"], unique=True
        )
    settings = sa.table(
        "settings",
        sa.column("id", sa.Integer()),
        sa.column("default_general_limit", sa.Integer()),
        sa.column("requeue_general_on_inactive", sa.Boolean()),
        sa.column("pm_appeals_count_toward_limit", sa.Boolean()),
        sa.column("offline_grace_seconds", sa.Integer()),
    )
    op.bulk_insert(
        settings,
        [
            {
                "id": 1,
                "default_general_limit": 3,
                "requeue_general_on_inactive": True,
                "pm_appeals_count_toward_limit": False,
                "offline_grace_seconds": 60,
            }
        ],
    )


def downgrade() -> None:

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("uq_messages_person_idempotency")
        batch_op.drop_index("uq_messages_employee_idempotency")
        batch_op.drop_index("ix_messages_dialog")
        batch_op.drop_index(batch_op.f("ix_messages_appeal_id"))

    op.drop_table("messages")
    with op.batch_alter_table("appeal_history", schema=None) as batch_op:
        batch_op.drop_index("ix_appeal_history_appeal")

    op.drop_table("appeal_history")
    op.drop_table("read_marks")
    with op.batch_alter_table("dialog_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_employee")

    op.drop_table("dialog_participants")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_appeals_one_open_per_dialog",
            sqlite_where=sa.text("status <> 'closed'"),
            postgresql_where=sa.text("status <> 'closed'"),
        )
        batch_op.drop_index(
            "ix_appeals_waiting_for",
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.drop_index(
            "ix_appeals_queue",
            sqlite_where=sa.text("status = 'queued'"),
            postgresql_where=sa.text("status = 'queued'"),
        )
        batch_op.drop_index("ix_appeals_dialog")
        batch_op.drop_index(batch_op.f("ix_appeals_client_id"))
        batch_op.drop_index(
            "ix_appeals_assignee_open",
            sqlite_where=sa.text("status = 'assigned'"),
            postgresql_where=sa.text("status = 'assigned'"),
        )

    op.drop_table("appeals")
    with op.batch_alter_table("dialogs", schema=None) as batch_op:
        batch_op.drop_index("ix_dialogs_client")
        batch_op.drop_index("ix_dialogs_activity")

    op.drop_table("dialogs")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_client_id"))

    op.drop_table("persons")
    with op.batch_alter_table("personal_manager_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_pm_changes_client")

    op.drop_table("personal_manager_changes")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index("ix_clients_personal_manager_id")
        batch_op.drop_index(batch_op.f("ix_clients_name_folded"))

    op.drop_table("clients")
    op.drop_table("settings")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_dialog_id"))
        batch_op.drop_index(batch_op.f("ix_events_created_at"))

    op.drop_table("events")
    op.drop_table("employees")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_employee_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_client_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
