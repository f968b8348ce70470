"""Prometheus metrics: requests and latency per route, lookups by verdict, index sizes."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from shieldwall.access.audit_buffer import AuditBufferStats

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """One registry per app, so tests and several apps in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shieldwall_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shieldwall_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.lookups = Counter(
            "shieldwall_lookups_total", "Lookups by verdict", ["verdict"], registry=self.registry
        )
        self.rate_limited = Counter(
            "shieldwall_rate_limited_total",
            "Requests refused by rate limits",
            ["role"],
            registry=self.registry,
        )
        self.probe_alerts = Counter(
            "shieldwall_probe_alerts_total",
            "Runs of near-identical PDQ hashes sent by one key (a matcher being probed)",
            ["key_id"],
            registry=self.registry,
        )
        self.body_refused = Counter(
            "shieldwall_request_body_refused_total",
            "Requests refused because their body passed the route's size limit",
            ["method"],
            registry=self.registry,
        )
        self.index_size = Gauge(
            "shieldwall_index_hashes",
            "Live PDQ hashes in the index",
            ["bank"],
            registry=self.registry,
        )

        self.audit_buffer_rows = Gauge(
            "shieldwall_audit_buffer_rows",
            "Lookup audit rows buffered in this process, not yet written",
            registry=self.registry,
        )
        self.audit_flush_seconds = Gauge(
            "shieldwall_audit_flush_seconds",
            "Duration of this process's last successful audit flush",
            registry=self.registry,
        )
        self.audit_dropped = Counter(
            "shieldwall_audit_dropped_rows",
            "Lookup audit rows dropped because the buffer overflowed while flushes failed",
            registry=self.registry,
        )
        self.audit_flush_failures = Counter(
            "shieldwall_audit_flush_failures",
            "Audit flushes that failed (the rows were kept and retried)",
            registry=self.registry,
        )
        self._audit_seen = AuditBufferStats(0, 0.0, 0, 0)
        self._audit_lock = threading.Lock()  # concurrent scrapes must not count twice

    def observe_audit(self, stats: AuditBufferStats) -> None:
        """Set the audit buffer's gauges and advance its counters to `stats` (at render)."""
        with self._audit_lock:
            self.audit_buffer_rows.set(stats.depth)
            self.audit_flush_seconds.set(stats.last_flush_seconds)
            self.audit_dropped.inc(max(0, stats.dropped - self._audit_seen.dropped))
            failed = stats.failed_flushes - self._audit_seen.failed_flushes
            self.audit_flush_failures.inc(max(0, failed))
            self._audit_seen = stats

    def render(self) -> bytes:
        """Prometheus text exposition."""
        return generate_latest(self.registry)

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count and time every request under its route template (never the raw path)."""
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.requests.labels(request.method, template, str(status)).inc()
            self.latency.labels(request.method, template).observe(time.perf_counter() - started)
