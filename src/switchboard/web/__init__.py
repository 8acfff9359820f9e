"""The web UI: server-rendered page shells and small JavaScript modules over the public API."""

from switchboard.web.pages import router

__all__ = ["router"]
