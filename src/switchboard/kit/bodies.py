"""Request bodies: a size limit enforced before anything is read, and the errors any body can get.

No request of API.md needs more than a few kilobytes (the longest is a message of 4,096
characters: at most 48 KiB even with every character JSON-escaped as a surrogate pair), so a
body above `MAX_BODY_BYTES` is refused with `413 request_too_large`: at once when its
`Content-Length` says so, else as soon as the bytes received pass the limit — it is never read
into memory whole.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.kit.errors import PROBLEM_JSON, problem

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE_CODE = "request_too_large"


def _too_large_detail(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class BodyTooLarge(HTTPException):
    """Raised from `receive`: the app's error handler answers it as 413 problem JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large_detail(limit))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = problem(413, TOO_LARGE_CODE, _too_large_detail(self.max_bytes))
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


_BODY_ERRORS = {
    400: "The body is not readable as JSON text (for example, not UTF-8)",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes",
}


def document_body_errors(schema: dict[str, Any]) -> None:
    """Every operation that takes a body may answer 400 and 413: say so in the document."""
    problem_ref = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _BODY_ERRORS.items():
                responses.setdefault(
                    str(status), {"description": description, "content": problem_ref}
                )
