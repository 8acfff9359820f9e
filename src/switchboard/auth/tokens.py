"""Signed, expiring bearer tokens for employees and persons.

A token names its subject and the subject's `token_version`; every request re-reads the subject,
so disabling it or changing a password (which bumps the version) voids its tokens at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Literal

SubjectType = Literal["employee", "person"]
_PREFIX = "sb1"


@dataclass(frozen=True)
class TokenClaims:
    subject_type: SubjectType
    subject_id: int
    version: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("switchboard-token:" + secret).encode()).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(
        self, subject_type: SubjectType, subject_id: int, version: int, ttl_seconds: int
    ) -> tuple[str, int]:
        expires_at = int(time.time()) + ttl_seconds
        body = {"t": subject_type[0], "s": subject_id, "v": version, "e": expires_at}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{_PREFIX}.{payload}.{self._sign(payload)}", ttl_seconds

    def verify(self, token: str, *, now: float | None = None) -> TokenClaims | None:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _PREFIX:
            return None
        _, payload, signature = parts
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            body = json.loads(_unb64(payload))
            subject_type: SubjectType = "employee" if body["t"] == "e" else "person"
            if body["t"] not in ("e", "p"):
                return None
            claims = TokenClaims(subject_type, int(body["s"]), int(body["v"]), int(body["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if claims.expires_at <= (now if now is not None else time.time()):
            return None
        return claims
