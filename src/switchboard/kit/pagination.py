from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from switchboard.kit.errors import BadRequest
from switchboard.kit.schemas import MAX_ID

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("invalid_cursor", "cursor is not one this server issued") from exc
    if not isinstance(value, dict):
        raise BadRequest("invalid_cursor", "cursor is not one this server issued")
    return value


def cursor_int(cursor: dict[str, Any] | None, key: str, *, maximum: int = MAX_ID) -> int | None:
    if cursor is None:
        return None
    value = cursor.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise BadRequest("invalid_cursor", "cursor is not one this server issued")
    return value


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    key: InstrumentedAttribute[int],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of `stmt` ordered by the integer `key`, from an opaque cursor; returns the rows
    and the cursor of the next page (None on the last one)."""
    position = cursor_int(decode_cursor(cursor), "id")
    if position is not None:
        stmt = stmt.where(key < position if newest_first else key > position)
    stmt = stmt.order_by(key.desc() if newest_first else key).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars().all())
    page = rows[:limit]
    more = len(rows) > limit
    return page, encode_cursor({"id": getattr(page[-1], key.key)}) if more else None
