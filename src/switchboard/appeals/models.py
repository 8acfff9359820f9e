from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base
from switchboard.kit.clock import utcnow

APPEAL_STATUSES = ("queued", "assigned", "closed")


class Appeal(Base):
    __tablename__ = "appeals"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'assigned', 'closed')", name="status_valid"),
        CheckConstraint("kind IN ('general', 'personal_manager')", name="kind_valid"),
        CheckConstraint(
            "(status = 'queued' AND assignee_id IS NULL)"
            " OR (status = 'assigned' AND assignee_id IS NOT NULL)"
            " OR status = 'closed'",
            name="assignee_matches_status",
        ),
        CheckConstraint(
            "waiting_for_id IS NULL OR status = 'queued'", name="waiting_only_when_queued"
        ),
        # SPEC 9.1: at most one open appeal per dialog, enforced by the database itself.
        Index(
            "uq_appeals_one_open_per_dialog",
            "dialog_id",
            unique=True,
            sqlite_where=text("status <> 'closed'"),
            postgresql_where=text("status <> 'closed'"),
        ),
        Index(
            "ix_appeals_queue",
            "kind",
            "id",
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
        Index(
            "ix_appeals_assignee_open",
            "assignee_id",
            "kind",
            sqlite_where=text("status = 'assigned'"),
            postgresql_where=text("status = 'assigned'"),
        ),
        Index(
            "ix_appeals_waiting_for",
            "waiting_for_id",
            sqlite_where=text("status = 'queued'"),
            postgresql_where=text("status = 'queued'"),
        ),
        Index("ix_appeals_dialog", "dialog_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dialog_id: Mapped[int] = mapped_column(ForeignKey("dialogs.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    waiting_for_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    # Whoever held it last (kept while queued): a handover is an assignment to someone else.
    last_assignee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(48))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AppealEvent(Base):
    """The routing history of an appeal (SPEC 3.4, 8)."""

    __tablename__ = "appeal_history"
    __table_args__ = (Index("ix_appeal_history_appeal", "appeal_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(48), nullable=True)
    employee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
