from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base
from switchboard.kit.clock import utcnow

DIALOG_KINDS = ("general", "personal_manager")


class Dialog(Base):
    """One person's lasting conversation of one kind (SPEC 2.1).

    The responsible employee of a personal-manager dialog is the client's current manager
    (clients.personal_manager_id, the one place it is decided). `responsible_id` is its copy
    beside the ordering key, for the manager's Inbox: written with the dialog under a share lock
    on the client's row and rewritten in the same transaction as every change of manager
    (docs/decisions.md, "The manager's Inbox").
    """

    __tablename__ = "dialogs"
    __table_args__ = (
        UniqueConstraint("person_id", "kind", name="uq_dialogs_person_kind"),
        CheckConstraint("kind IN ('general', 'personal_manager')", name="kind_valid"),
        CheckConstraint(
            "kind = 'personal_manager' OR responsible_id IS NULL", name="responsible_only_pm"
        ),
        Index("ix_dialogs_client", "client_id", "kind"),
        Index("ix_dialogs_activity", "last_activity_at", "id"),
        Index("ix_dialogs_responsible", "responsible_id", "last_activity_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[str] = mapped_column(String(24))
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_message_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)


class Participant(Base):
    """An employee invited into a personal-manager dialog (SPEC 5.5)."""

    __tablename__ = "dialog_participants"
    __table_args__ = (Index("ix_participants_employee", "employee_id"),)

    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialogs.id"), primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(
            "(author_type = 'person' AND author_person_id IS NOT NULL"
            " AND author_employee_id IS NULL)"
            " OR (author_type = 'employee' AND author_employee_id IS NOT NULL"
            " AND author_person_id IS NULL)"
            " OR (author_type = 'system' AND author_person_id IS NULL"
            " AND author_employee_id IS NULL)",
            name="author_valid",
        ),
        Index("ix_messages_dialog", "dialog_id", "id"),
        Index(
            "uq_messages_person_idempotency",
            "author_person_id",
            "client_message_id",
            unique=True,
        ),
        Index(
            "uq_messages_employee_idempotency",
            "author_employee_id",
            "client_message_id",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialogs.id"))
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), index=True)
    author_type: Mapped[str] = mapped_column(String(16))
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    author_employee_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    client_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadMark(Base):
    """How far a reader has read a dialog; one row per (dialog, employee) or (dialog, person)."""

    __tablename__ = "read_marks"
    __table_args__ = (
        UniqueConstraint("dialog_id", "reader_type", "reader_id", name="uq_read_marks_reader"),
        CheckConstraint("reader_type IN ('employee', 'person')", name="reader_type_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialogs.id"))
    reader_type: Mapped[str] = mapped_column(String(16))
    reader_id: Mapped[int] = mapped_column(Integer)
    last_read_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
