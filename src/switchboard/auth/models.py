from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchboard.db.base import Base


class LoginThrottle(Base):
    """Failed logins counted per key (`login:<login>` or `address:<ip>`) in a fixed window that
    starts at the first failure. Kept in the database so every server process shares it."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[datetime] = mapped_column(index=True)
