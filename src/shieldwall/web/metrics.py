"""Prometheus metrics: requests and latency per route, lookups by verdict, index sizes."""

from __future__ import annotations

import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        self.detector_seconds = Histogram(
            "shieldwall_detector_seconds",
            "Time per step of the likeness cascade on lookups (banks, decode, nudity, faces,"
            " likeness, provenance)",
            ["step"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.detections = Counter(
            "shieldwall_detections_total",
            "Lookups run through the likeness cascade, by where it stopped",
            ["stop"],
            registry=self.registry,
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
        self.fast_lane = Counter(
            "shieldwall_lookup_fast_lane_total",
            "Lookups answered by the fast lane (web/fast_lane.py), by route",
            ["route"],
            registry=self.registry,
        )
        self.index_load_seconds = Gauge(
            "shieldwall_index_load_seconds",
            "Seconds this process took to load its matching index at start-up (0: not yet)",
            registry=self.registry,
        )
        self.webhook_deliveries = Gauge(
            "shieldwall_webhook_deliveries",
            "Webhook deliveries in the outbox, by state (pending, delivered, dead)",
            ["state"],
            registry=self.registry,
        )
        self.webhook_attempts = Counter(
            "shieldwall_webhook_attempts_total",
            "Webhook delivery attempts by this process, by outcome (delivered, retrying, dead)",
            ["outcome"],
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


class RequestMetricsMiddleware:
    """Pure ASGI middleware: count and time every request under its route template.

    The template (`/api/v1/banks/{name}`), never the raw path, so label sets stay bounded.
    Pure ASGI rather than Starlette's `BaseHTTPMiddleware`, which costs a task group and
    a pair of memory streams per request: on the lookup path that was a fifth of the time.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, noting its status as the answer starts."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, noting_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"]
            self._metrics.requests.labels(method, template, str(status)).inc()
            self._metrics.latency.labels(method, template).observe(time.perf_counter() - started)
