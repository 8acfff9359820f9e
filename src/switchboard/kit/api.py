"""Shared pieces of the HTTP edge: language, documented problem responses, page limits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from switchboard.kit.errors import PROBLEM_JSON
from switchboard.kit.i18n import preferred_language
from switchboard.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str


async def language(request: Request) -> str:
    return preferred_language(request.headers.get("accept-language"))


Lang = Annotated[str, Depends(language)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
# Search text: no control characters (PostgreSQL refuses NUL in text; SPEC 10: never a 500).
NO_CONTROLS = r"^[^\x00-\x1f\x7f]*$"
DEFAULT_PAGE = DEFAULT_LIMIT

_DESCRIPTIONS = {
    400: "Bad request",
    401: "No token, or a bad or expired one",
    403: "The caller lacks the permission",
    404: "Unknown, or not visible to the caller",
    409: "A rule of the specification forbids it",
    422: "Invalid input",
    429: "Too many failed attempts: wait for the seconds of Retry-After",
}


_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "Seconds until the attempt may be made again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        responses[status] = {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status in _HEADERS:
            responses[status]["headers"] = _HEADERS[status]
    return responses


AUTHED = (401, 422)
