from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base
from switchboard.kit.clock import utcnow


class EventRecord(Base):
    """The transactional outbox: one row per change, written in the change's transaction.

    The audience is fixed when the change happens (API.md "Real time"): the employees and the
    person who may see it then, and whether holders of `supervise` do.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    type: Mapped[str] = mapped_column(String(48))
    dialog_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    data: Mapped[dict[str, Any]] = mapped_column()
    employee_ids: Mapped[list[int]] = mapped_column(default=list)
    person_ids: Mapped[list[int]] = mapped_column(default=list)
    supervisors: Mapped[bool] = mapped_column(Boolean, default=False)
    all_employees: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
