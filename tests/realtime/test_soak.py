"""A short soak (`python -m bench soak` is the long one): two processes with Redis under a mixed
load of messages, closes, status changes, manager changes and reconnecting WebSockets."""

from __future__ import annotations

import pytest
from bench.soak import run_soak

from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.postgres_only


def test_a_short_mixed_load_on_two_processes_leaves_no_error_and_no_violation() -> None:
    outcome = run_soak(TEST_DATABASE_URL, "redis://127.0.0.1:6379/7", seconds=12, rate=25)

    assert outcome.errors == []
    assert outcome.violations == []
    for kind in ("message", "close", "status", "manager_change"):
        assert outcome.requests.get(kind, 0) > 0, outcome.requests
    assert outcome.requests["message"] >= 200
    assert outcome.events_seen > 0
    assert outcome.reconnects >= 8  # every employee's socket came back at least once
    assert outcome.order_breaks == 0
    for warm, end in outcome.rss_mib:
        assert end - warm < 64, outcome.rss_mib
