"""Security headers on every response, the API's and its errors included (the UI's pages set
their own policy and are checked in tests/web)."""

from __future__ import annotations

import pytest

from tests.support import World


def _directives(csp: str) -> dict[str, str]:
    pairs = (d.strip().partition(" ") for d in csp.split(";") if d.strip())
    return {name: value for name, _, value in pairs}


@pytest.mark.parametrize(
    ("method", "path", "authed", "status"),
    [
        ("GET", "/api/v1/me", True, 200),
        ("GET", "/api/v1/me", False, 401),
        ("GET", "/api/v1/employees?limit=500", True, 422),
        ("GET", "/api/v1/appeals/999999", True, 404),
        ("DELETE", "/api/v1/audit", True, 405),
        ("GET", "/api/v1/audit", True, 200),
        ("GET", "/api/v1/audit.csv", True, 200),
        ("GET", "/api/v1/openapi.json", False, 200),
        ("GET", "/api/v1/docs", False, 200),
        ("GET", "/healthz", False, 200),
        ("GET", "/readyz", False, 200),
        ("GET", "/no/such/thing", False, 404),
        ("GET", "/login", False, 200),
    ],
)
async def test_every_response_carries_the_security_headers(
    world: World, method: str, path: str, authed: bool, status: int
) -> None:
    headers = world.admin.headers if authed else {}
    response = await world.api.request(method, path, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    directives = _directives(response.headers["content-security-policy"])
    assert directives["frame-ancestors"] == "'none'"
    if path.startswith("/api/v1") and path != "/api/v1/docs":
        # JSON and CSV load nothing: a response opened as a page can run nothing either.
        assert directives["default-src"] == "'none'"
        assert response.headers["cache-control"] == "no-store"


async def test_login_issues_no_cookie(world: World) -> None:
    """The UI keeps the bearer token in sessionStorage: no session cookie, so no CSRF surface."""
    response = await world.api.post(
        "/api/v1/auth/token", json={"login": world.admin.login, "password": "correct-horse-battery"}
    )
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
