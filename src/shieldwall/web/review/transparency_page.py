"""The leads' transparency page: `/review/transparency?from=YYYY-MM-DD&to=YYYY-MM-DD` shows
the period's report (review/transparency.py) with its charts (PNG, drawn on request at
`/review/transparency/charts/{name}.png`) and offers it as JSON and CSV. Leads and admins
only; the default period is the last 30 days up to today."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from shieldwall.errors import InvalidInputError
from shieldwall.integrations.transparency_charts import CHARTS, chart_png
from shieldwall.review.transparency import bounds, public_report, report_csv
from shieldwall.web.review.auth import Reviewer
from shieldwall.web.review.render import page_headers, render_page
from shieldwall.web.review.views import console_page, require_lead

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30
REPORT_REUSE = 10.0
"""Seconds a computed report serves the charts of the page that asked for it."""


def period_of(given_from: str | None, given_to: str | None, today: date) -> tuple[date, date]:
    """The first and last day (both included) from the form; InvalidInputError if wrong."""
    try:
        last = date.fromisoformat(given_to) if given_to else today
        first = date.fromisoformat(given_from) if given_from else last - timedelta(DEFAULT_DAYS - 1)
    except ValueError as exc:
        raise InvalidInputError("dates are YYYY-MM-DD") from exc
    if last < first:
        raise InvalidInputError("the period ends before it starts")
    if (last - first).days > 3660:
        raise InvalidInputError("a period is at most ten years")
    return first, last


def _report(request: Request) -> tuple[dict[str, Any], date, date]:
    """The period's report; the page and its four charts, asked for within seconds of each
    other, share one computation (REPORT_REUSE, per app)."""
    services = request.app.state.runtime.services
    today = services.reviews.now().date()
    first, last = period_of(request.query_params.get("from"), request.query_params.get("to"), today)
    recent: dict[tuple[date, date], tuple[float, dict[str, Any]]] = getattr(
        request.app.state, "transparency_reports", {}
    )
    now = time.monotonic()
    held = recent.get((first, last))
    if held is not None and now - held[0] < REPORT_REUSE:
        return held[1], first, last
    report = services.transparency.report(*bounds(first, last))
    fresh = {k: v for k, v in recent.items() if now - v[0] < REPORT_REUSE}
    request.app.state.transparency_reports = {**fresh, (first, last): (now, report)}
    return report, first, last


@router.get("/review/transparency")
async def transparency(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """The period's figures and charts, with the period's form and the downloads."""
    require_lead(reviewer[0])
    try:
        report, first, last = await run_in_threadpool(_report, request)
    except InvalidInputError as exc:
        today = request.app.state.runtime.services.reviews.now().date()
        return console_page(
            request,
            "transparency.html",
            reviewer,
            status_code=422,
            report=None,
            error=str(exc),
            first=today - timedelta(DEFAULT_DAYS - 1),
            last=today,
        )
    query = urlencode({"from": first.isoformat(), "to": last.isoformat()})
    charts = {name: f"/review/transparency/charts/{name}.png?{query}" for name in CHARTS}
    return console_page(
        request,
        "transparency.html",
        reviewer,
        report=report,
        charts=charts,
        first=first,
        last=last,
        query=query,
        error="",
    )


@router.get("/review/transparency/charts/{name}.png")
async def chart(request: Request, reviewer: Reviewer, name: str) -> Response:
    """One chart of the period's report."""
    require_lead(reviewer[0])
    if name not in CHARTS:
        return render_page(request, "console_message.html", status_code=404, message="no-case")
    try:
        report, _, _ = await run_in_threadpool(_report, request)
    except InvalidInputError:
        return Response(status_code=422, headers=page_headers())
    png = await run_in_threadpool(chart_png, name, report)
    return Response(png, media_type="image/png", headers=page_headers())


@router.get("/review/transparency/report.{fmt}")
async def export(request: Request, reviewer: Reviewer, fmt: str) -> Response:
    """The period's report as JSON or CSV (a download)."""
    require_lead(reviewer[0])
    if fmt not in ("json", "csv"):
        return render_page(request, "console_message.html", status_code=404, message="no-case")
    try:
        report, first, last = await run_in_threadpool(_report, request)
    except InvalidInputError:
        return Response(status_code=422, headers=page_headers())
    name = f"transparency-{first.isoformat()}-{last.isoformat()}.{fmt}"
    if fmt == "json":
        body = json.dumps(public_report(report), indent=2, ensure_ascii=False) + "\n"
        media = "application/json"
    else:
        body, media = report_csv(report), "text/csv; charset=utf-8"
    headers = page_headers({"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(body, media_type=media, headers=headers)
