"""Health and metrics: /status/live, /status/ready, /metrics, and HMA's GET /status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from shieldwall.access.models import Capability
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute, guarded

router = APIRouter(tags=["operations"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get("/status/live", summary="The process is up")
async def live() -> dict[str, str]:
    """Liveness: answers as long as the process serves requests (on the event loop)."""
    return {"status": "live"}


@router.get(
    "/status/ready",
    summary="Database reachable and indexes loaded",
    responses={503: {"description": "not ready"}},
)
def ready(runtime: RuntimeDep) -> JSONResponse:
    """Readiness: the database answers and the matcher's indexes are loaded."""
    database = runtime.services.ping()
    indexes = runtime.ready()
    ok = database and indexes
    return JSONResponse(
        {"status": "ready" if ok else "not-ready", "database": database, "indexes": indexes},
        status_code=200 if ok else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (a monitor or admin key)",
    response_class=PlainTextResponse,
    **guarded(Capability.READ_METRICS),
)
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format: requests and latency per route, lookups, index sizes.

    Bank sizes include the `reported` bank (how many victims reported), so the page
    needs a key: give Prometheus a `monitor` key (`authorization: Bearer <key>`).
    """
    if runtime.ready():
        for bank, size in runtime.matcher().size().items():
            runtime.metrics.index_size.labels(bank=bank).set(size)
    runtime.metrics.index_load_seconds.set(runtime.services.matcher_slot.load_seconds or 0.0)
    runtime.metrics.observe_audit(runtime.services.access.audit_stats())
    counts = runtime.services.webhooks.counts()
    for state in ("pending", "delivered", "dead"):
        runtime.metrics.webhook_deliveries.labels(state=state).set(counts.get(state, 0))
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")


@router.get(
    "/status",
    summary="HMA health answer",
    response_class=PlainTextResponse,
    tags=["hma"],
    responses={503: {"description": "`INDEX-NOT-LOADED`: the index is still loading"}},
)
async def hma_status(runtime: RuntimeDep) -> PlainTextResponse:
    """`I-AM-ALIVE` without a key, as Hasher-Matcher-Actioner answers.

    Load balancers and probes written for HMA call it bare; it says nothing but whether to
    send traffic: like HMA's matcher, 503 `INDEX-NOT-LOADED` until the index has loaded.
    """
    if not runtime.ready():
        return PlainTextResponse("INDEX-NOT-LOADED", status_code=503)
    return PlainTextResponse("I-AM-ALIVE")
