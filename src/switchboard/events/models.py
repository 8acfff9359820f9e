from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base
from switchboard.kit.clock import utcnow

EventId = BigInteger().with_variant(Integer, "sqlite")


class EventRecord(Base):
    """The transactional outbox: one row per change, written in the change's transaction.

    Its audience is fixed when the change happens (API.md "Real time"): the recipients listed in
    `event_recipients`, plus every holder of `supervise` when `supervisors` is set, plus every
    employee when `all_employees` is set.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    type: Mapped[str] = mapped_column(String(48))
    dialog_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    data: Mapped[dict[str, Any]] = mapped_column()
    supervisors: Mapped[bool] = mapped_column(Boolean, default=False)
    all_employees: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EventRecipient(Base):
    """One employee or person an event is for; the index answers "my events after N"."""

    __tablename__ = "event_recipients"
    __table_args__ = (Index("ix_event_recipients_reader", "reader_type", "reader_id", "event_id"),)

    event_id: Mapped[int] = mapped_column(
        EventId, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    reader_type: Mapped[str] = mapped_column(String(1), primary_key=True)  # "e" or "p"
    reader_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class LiveConnection(Base):
    """A WebSocket of an employee, on some server process; refreshed while it lives (SPEC 10)."""

    __tablename__ = "live_connections"
    __table_args__ = (Index("ix_live_connections_employee", "employee_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
