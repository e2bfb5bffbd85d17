"""What a running Kehila counts, for Prometheus (served by bot/web.py at /metrics).

The hot path (every message) only adds to plain dictionaries: no lock, no label
lookup. They become Prometheus counters when scraped, through a collector. Each app
has its own registry, so two apps in one process (tests) never share a count.

    kehila_events_total{type}            events in, by type
    kehila_actions_total{action,result}  actions out, by result ("ok" or the error code)
    kehila_jobs_total{job,result}        scheduled runs: ran, skipped (claimed elsewhere), failed
    kehila_flush_seconds                 how long each write of the engagement counters took
    kehila_outbox_depth, kehila_outbox_oldest_seconds
                                         rows waiting in the outbox, read at each scrape
    kehila_sync_*_total                  notifications between processes (bot/sync.py)
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("kehila.metrics")

# Prometheus's text format, as /metrics answers it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Keyed by the event's class: counting costs one dict update.
        self.events: Counter[type] = Counter()
        self.actions: Counter[tuple[str, str]] = Counter()
        self.jobs: Counter[tuple[str, str]] = Counter()
        self.sync_sent = 0
        self.sync_received = 0
        self.sync_reloads = 0
        self.flush_seconds = Histogram(
            "kehila_flush_seconds",
            "Time to write the engagement counters held in memory",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "kehila_outbox_depth", "Messages waiting in the outbox", registry=self.registry
        )
        self.outbox_oldest = Gauge(
            "kehila_outbox_oldest_seconds",
            "Age of the oldest message waiting in the outbox",
            registry=self.registry,
        )
        self.registry.register(_Counts(self))
        self._refreshers: list[Callable[[], Awaitable[None]]] = []

    def action(self, kind: str, result: str) -> None:
        self.actions[(kind, result)] += 1

    def job(self, name: str, result: str) -> None:
        self.jobs[(name, result)] += 1

    def set_outbox(self, depth: int, oldest_seconds: float = 0.0) -> None:
        """The outbox's own numbers, whenever it knows them."""
        self.outbox_depth.set(depth)
        self.outbox_oldest.set(oldest_seconds)

    def on_scrape(self, refresh: Callable[[], Awaitable[None]]) -> None:
        """Call `refresh` before each scrape (a figure read from storage)."""
        self._refreshers.append(refresh)

    async def refresh(self) -> None:
        for refresh in self._refreshers:
            try:
                await refresh()
            except Exception as exc:  # the rest of the figures are still worth serving
                log.warning("a figure for /metrics could not be read (%s)", type(exc).__name__)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Counts(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        events = CounterMetricFamily("kehila_events", "Events in, by type", labels=["type"])
        for kind, n in sorted(m.events.items(), key=lambda item: item[0].__name__):
            events.add_metric([kind.__name__], n)
        yield events
        actions = CounterMetricFamily(
            "kehila_actions", "Actions out, by result", labels=["action", "result"]
        )
        for (action, result), n in sorted(m.actions.items()):
            actions.add_metric([action, result], n)
        yield actions
        jobs = CounterMetricFamily(
            "kehila_jobs", "Scheduled runs, by result", labels=["job", "result"]
        )
        for (job, outcome), n in sorted(m.jobs.items()):
            jobs.add_metric([job, outcome], n)
        yield jobs
        for name, value, doc in (
            ("kehila_sync_sent", m.sync_sent, "Changes announced to other processes"),
            ("kehila_sync_received", m.sync_received, "Changes announced by other processes"),
            ("kehila_sync_reloads", m.sync_reloads, "Whole reloads of the index"),
        ):
            yield CounterMetricFamily(name, doc, value=value)
