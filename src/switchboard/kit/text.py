from __future__ import annotations

import unicodedata

MAX_MESSAGE_LENGTH = 4096
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def has_forbidden_controls(value: str, *, allow_line_breaks: bool) -> bool:
    for ch in value:
        if unicodedata.category(ch) == "Cc":
            if allow_line_breaks and ch in _ALLOWED_CONTROLS:
                continue
            return True
    return False


def check_name(value: str | None) -> str | None:
    """Names: not blank, no control characters; kept exactly as given otherwise."""
    if value is None:
        return None
    if not value.strip():
        raise ValueError("must not be blank")
    if has_forbidden_controls(value, allow_line_breaks=False):
        raise ValueError("must not contain control characters")
    return value


def check_message_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be only white space")
    if len(value) > MAX_MESSAGE_LENGTH:
        raise ValueError(f"must be at most {MAX_MESSAGE_LENGTH} characters")
    if has_forbidden_controls(value, allow_line_breaks=True):
        raise ValueError("must not contain control characters other than line breaks and tabs")
    return value


def fold(value: str) -> str:
    """Case-folded form for search, the same on SQLite and PostgreSQL (Cyrillic included)."""
    return unicodedata.normalize("NFKC", value).casefold()
