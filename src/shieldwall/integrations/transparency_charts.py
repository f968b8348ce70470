"""The transparency report's charts, drawn with matplotlib (Agg, no display) as PNG: what
was received by category, what was decided, how long action took against the 48-hour
clock, and what became of the copies swept and the complaints. Calm colours, labels in
words, readable without colour (each bar is labelled with its count)."""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Final

from matplotlib.figure import Figure  # drawn on its own Agg canvas: no pyplot, no display
from matplotlib.ticker import MaxNLocator

CHARTS: Final = ("notices", "decisions", "time_to_action", "follow_up")
"""The charts of a report, in the order the page shows them."""
_INK: Final = "#1f2d3a"
_BARS: Final = "#3d6f8e"
_SOFT: Final = "#9bb7c9"
_ALERT: Final = "#a2472f"
_DRAWING = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe
_LABELS: Final = {
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Cyber violence (NCII)",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "SOURCE_ARTICLE_16": "Person's notice (Art. 16)",
    "SOURCE_TRUSTED_FLAGGER": "Trusted flagger",
    "SOURCE_VOLUNTARY": "Own initiative (hash match, detectors)",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Other notification",
    "pending": "asked, no answer yet",
    "not found": "already gone",
    "kept": "kept by the platform",
    "withdrawn": "withdrawn (reversed)",
    "uphold": "upheld",
    "reverse": "reversed",
}


def chart_png(name: str, report: Mapping[str, Any]) -> bytes:
    """One chart of the report as PNG bytes; KeyError for an unknown name."""
    draw = {
        "notices": _notices,
        "decisions": _decisions,
        "time_to_action": _time_to_action,
        "follow_up": _follow_up,
    }[name]
    with _DRAWING:
        figure = Figure(figsize=(7.2, 3.4), dpi=110, layout="constrained")
        draw(figure, report)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _bars(axes: Any, counts: Mapping[str, int], title: str, colour: str = _BARS) -> None:
    labels = [_LABELS.get(key, key.replace("_", " ")) for key in counts]
    values = list(counts.values())
    if not any(values):
        axes.text(0.5, 0.5, "nothing in this period", ha="center", va="center", color=_INK)
        axes.set_axis_off()
        axes.set_title(title, loc="left", color=_INK, fontsize=10)
        return
    positions = range(len(values))
    bars = axes.barh(list(positions), values, color=colour, height=0.6)
    axes.bar_label(bars, labels=[str(v) for v in values], padding=3, color=_INK, fontsize=8)
    axes.set_yticks(list(positions), labels=labels, fontsize=8, color=_INK)
    axes.invert_yaxis()
    axes.set_title(title, loc="left", color=_INK, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(axis="x", labelsize=8, colors=_INK)
    axes.set_xlim(0, max(values) * 1.2 + 1)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.margins(y=0.15)


def _notices(figure: Figure, report: Mapping[str, Any]) -> None:
    left, right = figure.subplots(1, 2)
    notices = report["notices"]
    _bars(left, notices["by_category"], "Received, by category")
    _bars(right, notices["by_source_type"], "Received, by source", _SOFT)


def _decisions(figure: Figure, report: Mapping[str, Any]) -> None:
    left, right = figure.subplots(1, 2)
    decisions = report["decisions"]
    _bars(left, decisions["by_kind"], "Decisions, by kind")
    _bars(right, decisions["by_ground"], "Decisions, by ground", _SOFT)


def _time_to_action(figure: Figure, report: Mapping[str, Any]) -> None:
    axes = figure.subplots()
    timing = report["time_to_action"]
    hours: Sequence[float] = timing.get("hours", [])
    axes.set_title("Hours from receipt to action", loc="left", color=_INK, fontsize=10)
    if not hours:
        axes.text(0.5, 0.5, "nothing in this period", ha="center", va="center", color=_INK)
        axes.set_axis_off()
        return
    top = max(72.0, max(hours) * 1.05)
    axes.hist(hours, bins=24, range=(0, top), color=_BARS)
    axes.axvline(48, color=_ALERT, linestyle="--", linewidth=1.2)
    axes.text(48, axes.get_ylim()[1] * 0.95, " 48-hour deadline", color=_ALERT, fontsize=8)
    median = timing["median_hours"]
    axes.axvline(median, color=_INK, linewidth=1)
    axes.text(median, axes.get_ylim()[1] * 0.8, f" median {median:.1f} h", fontsize=8)
    share = timing["within_48h_share"] * 100
    axes.set_xlabel(f"hours ({share:.0f}% within 48 h)", fontsize=8, color=_INK)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8, colors=_INK)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def _follow_up(figure: Figure, report: Mapping[str, Any]) -> None:
    left, right = figure.subplots(1, 2)
    sweeps = report["sweeps"]
    outcomes = {k.replace("_", " "): v for k, v in sweeps["by_outcome"].items() if v}
    _bars(left, outcomes, f"Copies swept ({sweeps['copies_found']}), by outcome")
    complaints = report["complaints"]
    _bars(
        right,
        {"lodged": complaints["lodged"], **complaints["by_outcome"]},
        "Complaints (Art. 20)",
        _SOFT,
    )
