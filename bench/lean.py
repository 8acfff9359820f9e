"""A minimal HTTP/1.1 keep-alive client over asyncio streams, for the high-rate loads.

httpx spends ~1 ms of Python per request, enough to make the load generator the bottleneck at a
few hundred requests a second. This client does only what the benchmarks need: JSON bodies, a
bearer token, Content-Length or chunked responses, a bounded pool of kept-alive connections.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class HTTPError(Exception):
    pass


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes, bool]:
        """Send one request; returns (status, body, keep the connection)."""
        self.writer.write(head + body)
        status_line_and_headers = await self.reader.readuntil(b"\r\n\r\n")
        lines = status_line_and_headers.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length: int | None = None
        chunked = False
        keep = True
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            value = value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and value.lower() == b"close":
                keep = False
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(parts)
        elif length is not None:
            data = await self.reader.readexactly(length) if length else b""
        elif status in (204, 304) or 100 <= status < 200:
            data = b""
        else:
            data = await self.reader.read()
            keep = False
        return status, data, keep


class LeanClient:
    """`await client.request("POST", "/path", json={...}, token=...)` → (status, body bytes)."""

    def __init__(self, base_url: str, size: int = 32) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._host_header = f"{self.host}:{self.port}".encode()
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        return _Connection(reader, writer)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        token: str | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        body = b"" if json_body is None else json.dumps(json_body).encode()
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header]
        if token is not None:
            head.append(f"Authorization: Bearer {token}".encode())
        if json_body is not None:
            head.append(b"Content-Type: application/json")
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}".encode())
        for name, value in (extra_headers or {}).items():
            head.append(f"{name}: {value}".encode())
        raw_head = b"\r\n".join(head) + b"\r\n\r\n"
        async with self._slots:
            for attempt in (0, 1):
                # The retry always opens a connection: the other idle ones may be stale too.
                fresh = attempt == 1 or not self._idle
                conn = await self._connect() if fresh else self._idle.pop()
                try:
                    status, data, keep = await conn.request(raw_head, body)
                except (ConnectionError, asyncio.IncompleteReadError) as exc:
                    conn.close()
                    # A kept-alive connection the server closed meanwhile: retry once, fresh.
                    if fresh or attempt:
                        raise HTTPError(str(exc)) from exc
                    continue
                except BaseException:
                    conn.close()
                    raise
                if keep:
                    self._idle.append(conn)
                else:
                    conn.close()
                return status, data
        raise HTTPError("unreachable")

    async def json(
        self, method: str, path: str, *, json_body: Any = None, token: str | None = None
    ) -> Any:
        status, data = await self.request(method, path, json_body=json_body, token=token)
        if status >= 400:
            raise HTTPError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
