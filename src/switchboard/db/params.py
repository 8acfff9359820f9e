"""Bind parameters: a statement carries at most 32,767 (the PostgreSQL protocol's limit)."""

from __future__ import annotations

from collections.abc import Sequence

IN_LIST_SIZE = 5000  # ids per `IN (...)`, well under the limit with the statement's other values


def chunked(ids: Sequence[int], size: int = IN_LIST_SIZE) -> list[Sequence[int]]:
    """`ids` in slices small enough for one `IN (...)` each."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]
