"""Telling "the database is not there right now" from "this request went wrong"."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATEs that mean "the database is not there right now", not "this request is wrong":
# connection exceptions, shutting down or starting up, too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def driver_unreachable(orig: BaseException | None) -> bool:
    """A driver's error (asyncpg's, or the one a SQLAlchemy error wraps) that says so."""
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    # asyncpg's "the underlying connection is closed" and the like.
    return type(orig).__name__ == "InterfaceError" and "closed" in str(orig)


def database_away(exc: BaseException) -> bool:
    """Whether a failure means the database could not be reached (answered with 503)."""
    if isinstance(exc, (OperationalError, OSError, PoolTimeout)):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or driver_unreachable(exc.orig)
    return driver_unreachable(exc)
