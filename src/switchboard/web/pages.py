"""Page shells and static files of the web UI.

The pages carry no data: their JavaScript reads it from /api/v1 with the bearer token kept in
sessionStorage, so every rule of visibility stays in the API. Security headers are set here,
on the UI's own responses only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from switchboard.kit.errors import NotFound
from switchboard.web.i18n import LANGUAGES, strings

HERE = Path(__file__).parent
STATIC = HERE / "static"
LANG_COOKIE = "sb_lang"
_STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css|svg)$")
_MEDIA_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
}
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )
    # `tojson` still escapes <, >, & and ' for the <script type="application/json"> block.
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env


def language_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "ru")
    return lang if lang in LANGUAGES else "ru"


def security_headers(request: Request) -> dict[str, str]:
    """No inline script or style at all; the WebSocket of this very host is the only other
    connection a page makes."""
    host = request.headers.get("host", "")
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self'{sockets}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-cache",
    }


def _page(request: Request, template: str, page: str, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    table = strings(lang)
    html = (
        _templates()
        .get_template(template)
        .render(
            lang=lang,
            page=page,
            t=table,
            **context,
        )
    )
    return HTMLResponse(html, headers=security_headers(request))


@router.get("/")
async def home(request: Request) -> RedirectResponse:
    # The token lives in sessionStorage, out of the server's sight: the Inbox sends a visitor
    # without one on to /login.
    return RedirectResponse("/inbox", status_code=307, headers=security_headers(request))


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html", "login")


@router.get("/inbox")
async def inbox_page(request: Request) -> HTMLResponse:
    return _page(request, "inbox.html", "inbox")


@router.get("/dialogs/{dialog_id}")
async def dialog_page(request: Request, dialog_id: int) -> HTMLResponse:
    return _page(request, "dialog.html", "dialog", dialog_id=dialog_id)


@router.get("/queue")
async def queue_page(request: Request) -> HTMLResponse:
    return _page(request, "queue.html", "queue")


@router.get("/managers")
async def managers_page(request: Request) -> HTMLResponse:
    return _page(request, "managers.html", "managers")


@router.get("/my-clients")
async def my_clients_page(request: Request) -> HTMLResponse:
    return _page(request, "my-clients.html", "my-clients")


@router.get("/chat")
async def chat_page(request: Request) -> HTMLResponse:
    return _page(request, "chat.html", "chat")


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    match = _STATIC_NAME.match(name)
    path = STATIC / name
    if match is None or not path.is_file():
        raise NotFound("not_found", "no such file")
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[match.group(1)],
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )
