"""Throttling of failed logins per login and per client address (API.md `POST /auth/token`).

Counters live in the database so that every server process shares them. An attempt is counted
*before* its password is checked, by one atomic upsert that returns the new count: concurrent
guesses each get a distinct count, so no more than the limit ever reach the password check. A
success gives back the address's count and clears the login's; a failure keeps both. The window
is fixed and starts at the first failure: attempts refused meanwhile do not prolong it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from switchboard.auth.models import LoginThrottle
from switchboard.config import Settings
from switchboard.db.session import Uow
from switchboard.kit.clock import as_utc, utcnow


@dataclass(frozen=True)
class ThrottlePolicy:
    login_failures: int
    address_failures: int
    window_seconds: int

    @staticmethod
    def from_settings(settings: Settings) -> ThrottlePolicy:
        return ThrottlePolicy(
            login_failures=settings.login_max_failures,
            address_failures=settings.login_address_max_failures,
            window_seconds=settings.login_window_seconds,
        )


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until every exceeded window has passed
    scopes: tuple[str, ...] = ()  # "login", "address": which limits are exceeded


def login_key(login: str) -> str:
    return f"login:{login}"


def address_key(address: str) -> str:
    return f"address:{address}"


async def _count_txn(uow: Uow, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
    insert: Any = sqlite_insert if uow.is_sqlite else pg_insert
    stmt = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now)
    expired = LoginThrottle.window_started_at <= now - window
    stmt = stmt.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
            "window_started_at": case(
                (expired, stmt.excluded.window_started_at), else_=LoginThrottle.window_started_at
            ),
        },
    ).returning(LoginThrottle.failures, LoginThrottle.window_started_at)
    row = (await uow.session.execute(stmt)).one()
    return int(row.failures), as_utc(row.window_started_at)


async def count_attempt_txn(
    uow: Uow, policy: ThrottlePolicy, login: str, address: str | None
) -> Verdict:
    """Count one login attempt; refuse it when a limit is already exceeded.

    The caller commits at once, before checking the password, so that the count is shared."""
    now = utcnow()
    window = timedelta(seconds=policy.window_seconds)
    checks = [("login", login_key(login), policy.login_failures)]
    if address:
        checks.append(("address", address_key(address), policy.address_failures))
    scopes: list[str] = []
    retry_after = 0
    for scope, key, limit in checks:
        count, started = await _count_txn(uow, key, now, window)
        if count > limit:
            scopes.append(scope)
            remaining = (started + window - now).total_seconds()
            retry_after = max(retry_after, max(1, math.ceil(remaining)))
    return Verdict(allowed=not scopes, retry_after=retry_after, scopes=tuple(scopes))


async def login_succeeded_txn(uow: Uow, login: str, address: str | None) -> None:
    """A success resets the login's count and gives back the address's one (a busy office
    behind one address is not throttled by its own successful logins)."""
    await uow.session.execute(delete(LoginThrottle).where(LoginThrottle.key == login_key(login)))
    if address:
        await uow.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == address_key(address), LoginThrottle.failures > 0)
            .values(failures=LoginThrottle.failures - 1)
        )


async def forget_expired_txn(uow: Uow, policy: ThrottlePolicy) -> None:
    """Counters whose window has passed mean nothing: drop them (guessed logins add rows)."""
    cutoff = utcnow() - timedelta(seconds=policy.window_seconds)
    await uow.session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_started_at <= cutoff)
    )
