"""Waking the processes up when events are committed.

The database is the truth: a broker only says "there are new events" (the newest id), and a
process that missed a wake-up still finds the events on its next poll. Without Redis the wake-up
stays inside the process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import redis.asyncio as aioredis
import structlog

log = structlog.get_logger(__name__)
CHANNEL = "switchboard:events"
Listener = Callable[[int], None]


class Broker:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _deliver_locally(self, event_id: int) -> None:
        for listener in self._listeners:
            listener(event_id)

    def published(self, event_id: int) -> None:
        """Called after a commit that wrote events, with the newest id."""
        self._deliver_locally(event_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class MemoryBroker(Broker):
    """One process: the commit wakes this process's hub directly."""


class RedisBroker(Broker):
    """Several processes: PUBLISH the newest id; every process's subscriber wakes its hub."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._task: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._to_publish = 0  # the newest id committed here
        self._published = 0  # the newest id told to Redis
        self._client: aioredis.Redis | None = None

    async def start(self) -> None:
        self._client = aioredis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._publisher is not None:
            self._publisher.cancel()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()

    def published(self, event_id: int) -> None:
        self._deliver_locally(event_id)
        self._to_publish = max(self._to_publish, event_id)
        # One PUBLISH in flight at a time, carrying the newest id: the ids are a high-water
        # mark, so commits that land meanwhile share the next one.
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.get_running_loop().create_task(self._publish())

    async def _publish(self) -> None:
        while self._client is not None and self._to_publish > self._published:
            latest = self._to_publish
            try:
                await self._client.publish(CHANNEL, str(latest))
            except Exception as exc:  # Redis down: other processes catch up by polling
                log.warning("redis.publish_failed", error=str(exc))
                return
            self._published = latest

    async def _listen(self) -> None:
        backoff = 0.2
        while True:
            client = aioredis.from_url(self.url, socket_connect_timeout=2)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    backoff = 0.2
                    # Anything published while we were cut off: the hub looks at the database.
                    self._deliver_locally(0)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            event_id = int(message["data"])
                        except (TypeError, ValueError):
                            continue
                        self._deliver_locally(event_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("redis.subscribe_failed", error=str(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()


def make_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else MemoryBroker()
