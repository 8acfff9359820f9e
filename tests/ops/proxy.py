"""A TCP forwarder the tests can cut and restore: a database or Redis "outage" without touching
the real server that other test runs share."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from typing import Any, Literal

from tests.realtime.server import free_port

Mode = Literal["refuse", "hang"]


class Proxy:
    """Forwards 127.0.0.1:<port> to target_host:target_port on a thread of its own (so that a
    test blocked in synchronous code never stalls the traffic it forwards).

    `cut("refuse")` is a stopped server: open connections are reset and new ones refused.
    `cut("hang")` is a network that drops everything: connections stay open and silent, new
    ones are accepted and never answered. `restore()` forwards again on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.mode: Mode | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self._flowing = asyncio.Event()

    def start(self) -> Proxy:
        self._thread.start()
        self._call(self._listen())
        self._call(self._set_flowing(True))
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def cut(self, mode: Mode = "refuse") -> None:
        self.mode = mode
        self._call(self._cut(mode))

    def restore(self) -> None:
        self.mode = None
        self._call(self._restore())

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(10)

    async def _set_flowing(self, flowing: bool) -> None:
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _cut(self, mode: Mode) -> None:
        if mode == "hang":
            self._flowing.clear()
            return
        if self._server is not None:
            self._server.close()
            self._server = None
        for client, upstream in list(self._pairs):
            for writer in (client, upstream):
                if writer is not None:
                    writer.transport.abort()
        self._pairs.clear()

    async def _restore(self) -> None:
        if self._server is None:
            await self._listen()
        self._flowing.set()

    async def _shutdown(self) -> None:
        await self._cut("refuse")
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter | None] = (writer, None)
        self._pairs.add(pair)
        try:
            await self._flowing.wait()
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._pairs.discard(pair)
            writer.transport.abort()
            return
        self._pairs.discard(pair)
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._pairs.discard(pair)
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await self._flowing.wait()  # a "hang" holds the bytes until restored
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
