"""What the web app holds while it runs: services, the live matcher, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from shieldwall.access.probing import ProbeDetector
from shieldwall.app import Services
from shieldwall.matching.service import BankMatcher
from shieldwall.screening.service import ScreeningService
from shieldwall.web.metrics import Metrics


@dataclass
class Runtime:
    """Per-process state of the web app."""

    services: Services
    metrics: Metrics
    matcher: Callable[[], BankMatcher]
    ready: Callable[[], bool]
    screening: ScreeningService
    probes: ProbeDetector


def runtime_for(request: Request) -> Runtime:
    """The runtime of the app serving this request."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def runtime_of(request: Request) -> Runtime:
    """Dependency: the runtime of the app serving this request.

    A coroutine so FastAPI calls it on the event loop: a plain function dependency is run
    in the thread pool, a hop that cost more than a whole hash lookup.
    """
    return runtime_for(request)
