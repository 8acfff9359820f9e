"""Prometheus metrics (docs/operations.md lists them).

Each application has its own registry: several applications in one process (the tests) never
clash. Three kinds of figures:
- counted in this process as things happen: requests and their latency, appeals opened, routing
  assignments and closes (from the events of each commit, so a rolled-back change counts nothing);
- read from this process's memory at scrape time: WebSocket connections, the hub's position;
- read from the database at scrape time, with a short timeout: the queue by reason, open appeals
  by state, the oldest wait, employees by status, the newest event id. Those are the same on every
  process (aggregate them with max, not sum); when the database does not answer in time the scrape
  still succeeds, `switchboard_database_up` is 0 and those families are left out rather than stale.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from switchboard.appeals.models import Appeal
from switchboard.db.session import Database, PendingEvent
from switchboard.events.hub import EventHub
from switchboard.events.models import EventRecord
from switchboard.kit.clock import utcnow
from switchboard.people.models import Employee

log = structlog.get_logger(__name__)

SCRAPE_QUERY_TIMEOUT_SECONDS = 2.0
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUEUE_STATES = ("queued", "assigned")
EMPLOYEE_STATUSES = ("active", "break", "offline")


@dataclass
class DatabaseFigures:
    queue: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, reason) -> count
    oldest_queued: dict[str, datetime] = field(default_factory=dict)  # kind -> since
    open_appeals: dict[str, int] = field(default_factory=dict)  # state -> count
    employees: dict[str, int] = field(default_factory=dict)  # status -> enabled employees
    newest_event_id: int = 0
    taken_at: datetime = field(default_factory=utcnow)


async def read_database_figures(db: Database) -> DatabaseFigures:
    """A handful of aggregates, each served by an index (closed appeals are never counted)."""
    figures = DatabaseFigures()
    async with db.uow() as uow:
        session = uow.session
        if not db.is_sqlite:
            # The server stops a slow aggregate itself; asyncio's timeout covers the network.
            await session.execute(text("SET LOCAL statement_timeout = 1500"))
        queued_since = func.coalesce(Appeal.queued_at, Appeal.opened_at)
        rows = await session.execute(
            select(Appeal.kind, Appeal.reason, func.count(), func.min(queued_since))
            .where(Appeal.status == "queued")
            .group_by(Appeal.kind, Appeal.reason)
        )
        for kind, reason, count, since in rows:
            figures.queue[(kind, reason)] = int(count)
            if since is not None:
                since = _aware(since)
                if kind not in figures.oldest_queued or since < figures.oldest_queued[kind]:
                    figures.oldest_queued[kind] = since
        figures.open_appeals["queued"] = sum(figures.queue.values())
        figures.open_appeals["assigned"] = int(
            await session.scalar(
                select(func.count()).select_from(Appeal).where(Appeal.status == "assigned")
            )
            or 0
        )
        by_status = await session.execute(
            select(Employee.status, func.count())
            .where(Employee.is_enabled.is_(True))
            .group_by(Employee.status)
        )
        figures.employees = {status: int(count) for status, count in by_status}
        figures.newest_event_id = int(await session.scalar(select(func.max(EventRecord.id))) or 0)
    figures.taken_at = utcnow()
    return figures


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC times.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


class _LiveCollector(Collector):
    """Figures computed at scrape time from memory and from the last database read."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        hub = m.hub
        figures = m.figures
        up = GaugeMetricFamily(
            "switchboard_database_up",
            "1 if the database answered this scrape's queries in time, else 0",
        )
        up.add_metric([], 1.0 if figures is not None else 0.0)
        yield up
        connections = GaugeMetricFamily(
            "switchboard_websocket_connections", "Live WebSocket connections of this process"
        )
        connections.add_metric([], float(len(hub.subscribers)) if hub is not None else 0.0)
        yield connections
        delivered = GaugeMetricFamily(
            "switchboard_events_delivered_id",
            "Newest event id this process's hub has read and offered to its connections",
        )
        delivered.add_metric([], float(hub.last_id) if hub is not None else 0.0)
        yield delivered
        if figures is None:
            return
        newest = GaugeMetricFamily(
            "switchboard_events_newest_id", "Newest committed event id (database)"
        )
        newest.add_metric([], float(figures.newest_event_id))
        yield newest
        lag = GaugeMetricFamily(
            "switchboard_event_lag",
            "Committed events this process's hub has not delivered yet (newest - delivered)",
        )
        lag.add_metric(
            [], float(max(0, figures.newest_event_id - (hub.last_id if hub is not None else 0)))
        )
        yield lag
        queue = GaugeMetricFamily(
            "switchboard_queue_length",
            "Queued appeals by kind and reason",
            labels=["kind", "reason"],
        )
        for (kind, reason), count in sorted(figures.queue.items()):
            queue.add_metric([kind, reason], float(count))
        yield queue
        oldest = GaugeMetricFamily(
            "switchboard_queue_oldest_wait_seconds",
            "How long the longest-waiting queued appeal has waited (0 when none), by kind",
            labels=["kind"],
        )
        for kind in ("general", "personal_manager"):
            since = figures.oldest_queued.get(kind)
            waited = (figures.taken_at - since).total_seconds() if since is not None else 0.0
            oldest.add_metric([kind], max(0.0, waited))
        yield oldest
        appeals = GaugeMetricFamily(
            "switchboard_appeals", "Open appeals by state", labels=["state"]
        )
        for state in QUEUE_STATES:
            appeals.add_metric([state], float(figures.open_appeals.get(state, 0)))
        yield appeals
        employees = GaugeMetricFamily(
            "switchboard_employees",
            'Enabled employees by status (status="active" is who routing may use)',
            labels=["status"],
        )
        for status in EMPLOYEE_STATUSES:
            employees.add_metric([status], float(figures.employees.get(status, 0)))
        yield employees


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.hub: EventHub | None = None
        self.db: Database | None = None
        self.figures: DatabaseFigures | None = None
        self._scrape_lock = asyncio.Lock()
        self.requests = Counter(
            "switchboard_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "switchboard_http_request_duration_seconds",
            "HTTP request duration by method, route template and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.appeals_opened = Counter(
            "switchboard_appeals_opened",
            "Appeals opened by this process, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.assignments = Counter(
            "switchboard_assignments",
            "Appeals assigned by this process, by reason code (SPEC 8)",
            ["reason"],
            registry=self.registry,
        )
        self.requeues = Counter(
            "switchboard_appeals_queued",
            "Appeals put in the queue by this process, by reason code (SPEC 8)",
            ["reason"],
            registry=self.registry,
        )
        self.closes = Counter(
            "switchboard_appeals_closed",
            "Appeals closed by this process, by reason code (SPEC 8)",
            ["reason"],
            registry=self.registry,
        )
        self.registry.register(_LiveCollector(self))

    def attach(self, db: Database, hub: EventHub) -> None:
        self.db = db
        self.hub = hub
        db.event_observers.append(self.observe_events)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def observe_events(self, events: list[PendingEvent]) -> None:
        for event in events:
            data = event.data
            if event.type == "appeal.assigned":
                self.assignments.labels(str(data.get("reason"))).inc()
            elif event.type == "appeal.queued":
                self.requeues.labels(str(data.get("reason"))).inc()
            elif event.type == "appeal.closed":
                self.closes.labels(str(data.get("reason"))).inc()
            elif event.type == "appeal.opened":
                self.appeals_opened.labels(str(data.get("kind"))).inc()

    async def render(self) -> bytes:
        """Refresh the database figures (bounded in time), then the exposition text."""
        async with self._scrape_lock:
            self.figures = None
            if self.db is not None:
                try:
                    async with asyncio.timeout(SCRAPE_QUERY_TIMEOUT_SECONDS):
                        self.figures = await read_database_figures(self.db)
                except Exception as exc:  # the database is away: report it, do not hang
                    log.warning("metrics.database_unavailable", error=str(exc)[:300])
            return generate_latest(self.registry)
