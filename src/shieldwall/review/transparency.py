"""The transparency report (EU DSA Art. 15 and 24): what was received, decided, complained
about and swept in a period, computed from the review items, complaints, sweeps and lookups.
No I/O here.

Categories, keywords and source types are the EU Transparency Database's (the same mapping
as the statements of reasons, review/statements.py), so the figures line up with the
statements submitted. A case or an upload is "received" when its review item opened; it is
"acted on" when its final decision was made; the time between is the time to action.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Protocol

from shieldwall.access.ports import LookupLog
from shieldwall.errors import InvalidInputError
from shieldwall.review.complaint_models import Complaint
from shieldwall.review.models import (
    DEFAULT_GROUNDS,
    FINAL_KINDS,
    Decision,
    DecisionKind,
    Ground,
    ItemSource,
    ReviewItem,
)
from shieldwall.review.ports import ReviewRepository
from shieldwall.review.statements import category_of, says_synthetic, source_type_of
from shieldwall.review.sweeps import HitOutcome, Sweep, SweepService
from shieldwall.review.tdb_submissions import SubmissionRepository

LEGAL_CLOCK: Final = timedelta(hours=48)
"""The TAKE IT DOWN Act's removal deadline: the report tells the share acted on within it."""
_RECEIVED_SOURCES: Final = (ItemSource.CASE, ItemSource.PLATFORM, ItemSource.LIKENESS)


@dataclass(frozen=True)
class ReportInputs:
    """What the report is computed from, for one period."""

    received: Sequence[ReviewItem]
    """Review items opened in the period."""
    decided: Sequence[ReviewItem]
    """Review items with a final decision in the period."""
    complaints_lodged: Sequence[Complaint] = ()
    complaints_decided: Sequence[Complaint] = ()
    sweeps: Sequence[Sweep] = ()
    lookup_verdicts: Mapping[str, int] = field(default_factory=dict)
    """Platforms' lookups in the period by verdict (block: fully automated decisions)."""
    statements_submitted: int = 0
    """Statements of reasons stored by the Transparency Database in the period."""
    grounds: Mapping[str, Ground] = field(default_factory=dict)
    """The grounds by code (whether each is a law or terms of service), over the defaults."""


def transparency_report(start: datetime, end: datetime, inputs: ReportInputs) -> dict[str, Any]:
    """The report's figures, as JSON-ready values (`end` excluded)."""
    decided = [i for i in inputs.decided if i.source in _RECEIVED_SOURCES]
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "notices": _notices(inputs.received),
        "decisions": _decisions(
            decided, {**{g.code: g for g in DEFAULT_GROUNDS}, **inputs.grounds}
        ),
        "automation": _automation(decided, inputs.lookup_verdicts),
        "time_to_action": _time_to_action(decided),
        "complaints": _complaints(inputs.complaints_lodged, inputs.complaints_decided),
        "sweeps": _sweeps(inputs.sweeps),
        "likeness": _likeness(inputs.received, decided),
        "statements_of_reasons": _statements(decided, inputs.statements_submitted),
    }


def _category(item: ReviewItem, decision: Decision | None = None) -> tuple[str, list[str]]:
    synthetic = decision is not None and says_synthetic(decision.facts)
    return category_of(minor=item.minor, synthetic=synthetic)


def _notices(received: Sequence[ReviewItem]) -> dict[str, Any]:
    items = [i for i in received if i.source in _RECEIVED_SOURCES]
    categories = Counter(_category(i)[0] for i in items)
    keywords = Counter(k for i in items for k in _category(i)[1])
    return {
        "total": len(items),
        "by_source": dict(Counter(i.source.value for i in items)),
        "by_source_type": dict(Counter(source_type_of(i) for i in items)),
        "by_category": dict(categories),
        "by_keyword": dict(keywords),
        "involving_minors": sum(i.minor for i in items),
    }


def _final(item: ReviewItem) -> Decision:
    decision = item.decision
    if decision is None or decision.kind not in FINAL_KINDS:
        raise ValueError(f"item {item.id} has no final decision")  # decided_between's have
    return decision


def _decisions(decided: Sequence[ReviewItem], grounds: Mapping[str, Ground]) -> dict[str, Any]:
    acted = [i for i in decided if _final(i).kind in (DecisionKind.CONFIRM, DecisionKind.ACCEPT)]
    return {
        "total": len(decided),
        "by_kind": dict(Counter(_final(i).kind.value for i in decided)),
        "by_action": dict(
            Counter(
                _final(i).action.value for i in decided if _final(i).kind is DecisionKind.CONFIRM
            )
        ),
        "by_ground": dict(Counter(_final(i).ground for i in decided if _final(i).ground)),
        "by_ground_kind": dict(
            Counter(
                grounds[_final(i).ground].kind if _final(i).ground in grounds else "unknown"
                for i in acted
            )
        ),
        "by_category": dict(Counter(_category(i, _final(i))[0] for i in acted)),
        "by_keyword": dict(Counter(k for i in acted for k in _category(i, _final(i))[1])),
    }


def _automation(decided: Sequence[ReviewItem], verdicts: Mapping[str, int]) -> dict[str, Any]:
    return {
        "detection": {
            "automated": sum(_final(i).automated_detection for i in decided),
            "human": sum(not _final(i).automated_detection for i in decided),
        },
        "decision": {
            "AUTOMATED_DECISION_FULLY": int(verdicts.get("block", 0)),
            **Counter(
                f"AUTOMATED_DECISION_{_final(i).automated_decision.value.upper()}" for i in decided
            ),
        },
        "lookups": {verdict: int(count) for verdict, count in sorted(verdicts.items())},
    }


def _time_to_action(decided: Sequence[ReviewItem]) -> dict[str, Any]:
    hours = sorted(
        (_final(i).at - i.opened_at).total_seconds() / 3600
        for i in decided
        if i.source in (ItemSource.CASE, ItemSource.PLATFORM)
    )
    if not hours:
        return {"count": 0, "median_hours": None, "p90_hours": None, "within_48h_share": None}
    within = sum(h <= LEGAL_CLOCK.total_seconds() / 3600 for h in hours)
    return {
        "count": len(hours),
        "median_hours": round(percentile(hours, 50), 2),
        "p90_hours": round(percentile(hours, 90), 2),
        "within_48h_share": round(within / len(hours), 4),
        "hours": [round(h, 2) for h in hours],
    }


def percentile(ordered: Sequence[float], share: float) -> float:
    """The `share` percentile of sorted values, linearly interpolated between ranks."""
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * share / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _complaints(lodged: Sequence[Complaint], decided: Sequence[Complaint]) -> dict[str, Any]:
    days = sorted(
        (c.decided_at - c.lodged_at).total_seconds() / 86400 for c in decided if c.decided_at
    )
    return {
        "lodged": len(lodged),
        "by_complainant": dict(Counter(c.complainant.value for c in lodged)),
        "decided": len(decided),
        "by_outcome": dict(Counter(c.outcome.value for c in decided if c.outcome)),
        "median_days_to_decide": round(percentile(days, 50), 2) if days else None,
    }


def _sweeps(sweeps: Sequence[Sweep]) -> dict[str, Any]:
    hits = [h for s in sweeps for h in s.hits]
    return {
        "sweeps": len(sweeps),
        "copies_found": len(hits),
        "edited_copies": sum(h.hit.distance is not None and h.hit.distance > 0 for h in hits),
        "platforms": len({h.hit.key_id for h in hits}),
        "by_outcome": {o.value: sum(h.outcome is o for h in hits) for o in HitOutcome},
    }


def _likeness(received: Sequence[ReviewItem], decided: Sequence[ReviewItem]) -> dict[str, Any]:
    likeness = [i for i in decided if i.source is ItemSource.LIKENESS]
    return {
        "findings": sum(i.source is ItemSource.LIKENESS for i in received),
        "confirmed": sum(_final(i).kind is DecisionKind.CONFIRM for i in likeness),
        "rejected": sum(_final(i).kind is DecisionKind.REJECT for i in likeness),
    }


def _statements(decided: Sequence[ReviewItem], submitted: int) -> dict[str, Any]:
    with_statement = [i for i in decided if _final(i).statement_id]
    return {
        "count": len(with_statement),
        "submitted": submitted,
        "by_category": dict(Counter(_category(i, _final(i))[0] for i in with_statement)),
    }


def report_rows(report: Mapping[str, Any]) -> list[tuple[str, str, object]]:
    """The report flattened to (section, figure, value) rows, for CSV (lists left out)."""
    rows: list[tuple[str, str, object]] = []

    def walk(section: str, prefix: str, value: object) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(section, f"{prefix}.{key}" if prefix else str(key), inner)
        elif not isinstance(value, list):
            rows.append((section, prefix, value))

    for section, value in report.items():
        walk(section, "", value)
    return rows


class ComplaintsInPeriod(Protocol):
    """The complaints a period saw (ComplaintService)."""

    def lodged_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints lodged in [start, end)."""
        ...

    def decided_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Complaints decided in [start, end)."""
        ...


class TransparencyReporter:
    """Gathers a period's items, complaints, sweeps and lookups, and computes the report."""

    def __init__(
        self,
        items: ReviewRepository,
        complaints: ComplaintsInPeriod,
        sweeps: SweepService,
        lookups: LookupLog,
        submissions: SubmissionRepository,
    ) -> None:
        self._items = items
        self._complaints = complaints
        self._sweeps = sweeps
        self._lookups = lookups
        self._submissions = submissions

    def report(self, start: datetime, end: datetime) -> dict[str, Any]:
        """The report of [start, end); InvalidInputError for an empty or reversed period."""
        if end <= start:
            raise InvalidInputError("the period ends before it starts")
        decided = self._items.decided_between(start, end)
        puids = [i.decision.statement_id for i in decided if i.decision and i.decision.statement_id]
        inputs = ReportInputs(
            received=self._items.opened_between(start, end),
            decided=decided,
            complaints_lodged=self._complaints.lodged_between(start, end),
            complaints_decided=self._complaints.decided_between(start, end),
            sweeps=self._sweeps.between(start, end),
            lookup_verdicts=self._lookups.verdicts_between(start, end),
            statements_submitted=len(self._submissions.stored_among(puids)) if puids else 0,
            grounds={g.code: g for g in self._items.grounds()},
        )
        return transparency_report(start, end, inputs)


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The period's instants: from the first day's start to the day after the last (UTC)."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    return start, datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    """The report as exported: without the per-decision hours the charts are drawn from."""
    timing = {k: v for k, v in report["time_to_action"].items() if k != "hours"}
    return {**report, "time_to_action": timing}


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: section, figure, value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "figure", "value"])
    for row in report_rows(public_report(report)):
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()
