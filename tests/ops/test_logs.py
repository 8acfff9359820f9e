"""Structured logs with a request id (docs/operations.md "Logs"): every request gets an id,
answered in X-Request-ID and bound into every line written while it runs; one access line per
request; no token in any line."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import structlog

from switchboard.app import create_app
from switchboard.config import Settings
from switchboard.kit.logs import configure_logging

HEX_ID = re.compile(r"[0-9a-f]{32}")


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
async def logged_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"log_format": "json"}), run_sweeper_task=False)
    inner = structlog.get_logger("tests.inner")

    @app.get("/test/log-inside")
    async def log_inside() -> dict[str, str]:
        inner.warning("inside.request", note="bound by the middleware, not passed here")
        return {"ok": "yes"}

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:
            yield api
    configure_logging(settings.log_format, settings.log_level)


async def test_a_sane_incoming_request_id_is_kept_and_answered(
    logged_api: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await logged_api.get("/test/log-inside", headers={"X-Request-ID": "edge-42.a:b_c"})
    assert response.headers["x-request-id"] == "edge-42.a:b_c"
    lines = json_lines(capsys.readouterr().err)
    inside = [line for line in lines if line["event"] == "inside.request"]
    access = [line for line in lines if line["event"] == "request"]
    assert len(inside) == 1 and inside[0]["request_id"] == "edge-42.a:b_c"
    assert inside[0]["level"] == "warning" and "timestamp" in inside[0]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "edge-42.a:b_c"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/test/log-inside", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


@pytest.mark.parametrize(
    "incoming",
    [None, "", "has spaces", "x" * 200, "-starts-with-dash", 'quote"d', "кириллица"],
)
async def test_a_missing_or_odd_request_id_is_replaced(
    logged_api: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], incoming: str | None
) -> None:
    capsys.readouterr()
    headers = {"X-Request-ID": incoming.encode()} if incoming is not None else {}
    response = await logged_api.get("/healthz", headers=headers)
    answered = response.headers["x-request-id"]
    assert HEX_ID.fullmatch(answered)
    access = [line for line in json_lines(capsys.readouterr().err) if line["event"] == "request"]
    assert [line["request_id"] for line in access] == [answered]


async def test_every_request_has_its_own_id_and_errors_carry_it(
    logged_api: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    ids = set()
    for _ in range(3):
        ids.add((await logged_api.get("/api/v1/me")).headers["x-request-id"])
    refused = await logged_api.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert len(ids) == 3
    access = [line for line in json_lines(capsys.readouterr().err) if line["event"] == "request"]
    assert [(a["route"], a["status"]) for a in access] == [("/api/v1/me", 401)] * 4
    assert refused.headers["x-request-id"] == access[-1]["request_id"]


async def test_tokens_never_reach_a_line(
    logged_api: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    secret = "sb1.SECRETSECRET.signature"
    log = structlog.get_logger("tests.redaction")
    log.warning("careless", url=f"/api/v1/ws?token={secret}&after=3", auth=f"Bearer {secret}")
    await logged_api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    err = capsys.readouterr().err
    assert secret not in err
    careless = next(line for line in json_lines(err) if line["event"] == "careless")
    assert careless["url"] == "/api/v1/ws?token=[redacted]&after=3"
    assert careless["auth"] == "Bearer [redacted]"
