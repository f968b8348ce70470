"""The FastAPI application: `create_app(services)`; `app_from_environment` for uvicorn workers."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute

from shieldwall import __version__
from shieldwall.access.probing import ProbeAlert, ProbeDetector
from shieldwall.app import Services, build_services
from shieldwall.config import Settings, load_settings
from shieldwall.web import enrol_api, ops, protect_api, protect_complaints
from shieldwall.web.api import (
    banks,
    cases,
    complaints,
    entries,
    keys,
    lookup,
    review,
    sweeps,
    transfer,
    webhooks,
)
from shieldwall.web.body_limits import BodyLimitMiddleware
from shieldwall.web.docs import install_docs
from shieldwall.web.fast_lane import ROUTES as FAST_ROUTES
from shieldwall.web.fast_lane import LookupFastLane
from shieldwall.web.hma import configuration as hma_configuration
from shieldwall.web.hma import curation as hma_curation
from shieldwall.web.hma import hashing as hma_hashing
from shieldwall.web.hma import matching as hma_matching
from shieldwall.web.memory_trim import MemoryTrimmer
from shieldwall.web.metrics import Metrics, RequestMetricsMiddleware
from shieldwall.web.pages import install_pages
from shieldwall.web.paths import HmaPathMiddleware
from shieldwall.web.periodic import PeriodicJob
from shieldwall.web.problems import install_problem_handlers
from shieldwall.web.quarantine_sweeper import QuarantineSweeper
from shieldwall.web.response_headers import ResponseHeadersMiddleware
from shieldwall.web.review.auth import ReviewAuth
from shieldwall.web.review.console import install_review_console
from shieldwall.web.review.login import install_review_auth
from shieldwall.web.runtime import Runtime

log = logging.getLogger("shieldwall.web")

EXPIRY_INTERVAL: Final = 3600.0
"""Seconds between a worker's runs of enrolment expiry (an enrolment ends within an hour
of its term; `shieldwall enrolments expire` from cron does the same)."""
DEADLINE_INTERVAL: Final = 60.0
"""Seconds between checks of the takedown clocks (escalations go out within a minute)."""
WEBHOOK_INTERVAL: Final = 2.0
"""Seconds between webhook delivery rounds (each worker; claims keep them apart)."""

DESCRIPTION = """Hash banks and edit-robust matching against non-consensual intimate imagery.

Every endpoint needs an API key (`X-API-Key: <key>` or `Authorization: Bearer <key>`),
except the health answers `/status/live`, `/status/ready` and HMA's `/status`, and the
victims' own routes under `/protect/api` (a case number and its secret). Keys have a
role; screeners see verdicts and banks, not distances or entry ids, unless their key was
created with `see_details`; `/metrics` needs a `monitor` (or admin) key. Errors are
`application/problem+json` with a stable `type`. Request bodies are limited per route
(413 past the limit, chunked bodies too).
"""


def _deliver_webhooks(services: Services, metrics: Metrics) -> int:
    """One webhook delivery round, its attempts counted in /metrics."""
    done = services.webhooks.deliver_due()
    for outcome, count in (
        ("delivered", done.delivered),
        ("retrying", done.retrying),
        ("dead", done.dead),
    ):
        if count:
            metrics.webhook_attempts.labels(outcome=outcome).inc(count)
    return done.delivered


def create_app(services: Services, *, fast_lane: bool = True) -> FastAPI:
    """The whole HTTP service over the given services.

    `fast_lane=False` leaves out the lookup fast lane (web/fast_lane.py), for the test that
    compares its answers with the routes'.
    """
    metrics = Metrics()
    slot = services.matcher_slot
    probes = ProbeDetector(functools.partial(_probe_alert, metrics))
    runtime = Runtime(services, metrics, slot.get, slot.ready, services.screening, probes)

    trimmer = MemoryTrimmer()
    sweeper = QuarantineSweeper(services.quarantine)
    expiry = PeriodicJob(
        "enrolment expiry", lambda: len(services.enrolments.expire()), EXPIRY_INTERVAL
    )
    deadlines = PeriodicJob(
        "deadline check", lambda: len(services.deadlines.check().sent), DEADLINE_INTERVAL
    )
    purge = PeriodicJob("screened record purge", services.purge_screened_record, EXPIRY_INTERVAL)
    deliveries = PeriodicJob(
        "webhook delivery",
        functools.partial(_deliver_webhooks, services, metrics),
        WEBHOOK_INTERVAL,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Health answers at once; lookups wait for the index (HMA's answer 503 meanwhile).
        loader = slot.load_in_background()
        trimmer.start()
        sweeper.start()
        expiry.start()
        deadlines.start()
        purge.start()
        deliveries.start()
        yield
        deliveries.stop()
        purge.stop()
        deadlines.stop()
        expiry.stop()
        sweeper.stop()
        trimmer.stop()
        loader.join()
        services.close()  # closes the matcher slot too

    app = FastAPI(
        title="Shieldwall",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # web/docs.py serves it without a CDN, under a CSP
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    hot_routes: dict[tuple[str, str], BaseRoute] = {}  # filled once the routers are in
    if fast_lane:
        app.add_middleware(LookupFastLane, runtime=runtime, routes=hot_routes)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    for router in (
        ops.router,
        lookup.router,
        banks.router,
        entries.router,
        transfer.router,
        keys.router,
        review.router,
        cases.router,
        hma_hashing.router,
        hma_matching.router,
        hma_curation.router,
        hma_configuration.router,
        protect_api.router,
        protect_complaints.router,
        complaints.router,
        enrol_api.router,
        sweeps.router,
        webhooks.router,
    ):
        app.include_router(router)
    install_pages(app)
    install_review_auth(app, ReviewAuth(services.accounts, services.rate_limiter))
    install_review_console(app)
    hot_routes.update(_routes_of(app, list(FAST_ROUTES)))
    if services.settings.api_docs:
        install_docs(app)
    _install_guards(app, services.settings, metrics)
    app.add_middleware(HmaPathMiddleware)  # outermost: guards and routes see the HMA path
    return app


def _install_guards(app: FastAPI, settings: Settings, metrics: Metrics) -> None:
    """Outermost layers (last added runs first): headers, body limits, trusted hosts."""
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.trusted_hosts))
    app.add_middleware(
        BodyLimitMiddleware,
        media=settings.media,
        on_refused=lambda method, _limit: metrics.body_refused.labels(method=method).inc(),
    )
    app.add_middleware(ResponseHeadersMiddleware)


def _routes_of(app: FastAPI, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], BaseRoute]:
    """The route objects serving these (method, path) pairs."""
    found: dict[tuple[str, str], BaseRoute] = {}
    for route in app.routes:
        for method, path in wanted:
            if (
                isinstance(route, APIRoute)
                and route.path == path
                and method in (route.methods or ())
            ):
                found[(method, path)] = route
    return found


def _probe_alert(metrics: Metrics, alert: ProbeAlert) -> None:
    log.warning(
        "key %d sent %d near-identical PDQ hashes in a row: the matcher may be probed",
        alert.key_id,
        alert.run,
    )
    metrics.probe_alerts.labels(key_id=str(alert.key_id)).inc()


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory` workers: settings from SHIELDWALL_* variables."""
    return create_app(build_services(load_settings()))
