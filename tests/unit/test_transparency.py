"""The transparency report from a known set of cases and uploads: what was received (by
source type, category), decided (by kind, action, ground, category, keyword, automation),
how long action took (median, 90th percentile, share within 48 hours), sweeps; and the
charts drawn from it."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import pytest
from PIL import Image

from shieldwall.banks.models import MatchAction
from shieldwall.integrations.transparency_charts import CHARTS, chart_png
from shieldwall.review.models import DecisionInput, DecisionKind, RemovalAction
from shieldwall.review.transparency import (
    ReportInputs,
    percentile,
    report_rows,
    transparency_report,
)
from shieldwall.signals.models import Signal
from tests.support.factories import jpeg
from tests.support.review_world import ALICE, NOW, ReviewWorld, review_world

ACCEPT = DecisionInput(DecisionKind.ACCEPT, ground="take-it-down-act", facts="valid notice")
REFUSE = DecisionInput(DecisionKind.REFUSE, reason="the picture is not intimate")
CONFIRM_DEEPFAKE = DecisionInput(
    DecisionKind.CONFIRM,
    RemovalAction.REMOVE,
    "take-it-down-act",
    "a nudified deepfake of the reported photo",
)
REJECT = DecisionInput(DecisionKind.REJECT, reason="a landscape, not the reported image")


def decide_case(world: ReviewWorld, number: str, decision: DecisionInput) -> None:
    [item] = [i for i in world.review.queue(ALICE) if i.case_number == number and not i.content_ref]
    world.review.claim(item.id, ALICE)
    world.review.decide(item.id, ALICE, decision)


def queue_upload(world: ReviewWorld, content: bytes, ref: str) -> int:
    result = world.screening.screen_content(content, 7, content_ref=ref)
    assert result.verdict is MatchAction.REVIEW
    signals = [
        Signal.of(k, v) for k, v in (result.signals or {}).items() if k in {"pdq", "md5", "sha256"}
    ]
    item = world.review.queue_lookup(result, signals, content_ref=ref, key_id=7, content=content)
    assert item is not None
    return item.id


@pytest.fixture(scope="module")
def known() -> tuple[ReviewWorld, dict[str, object]]:
    """Three cases (one of a minor) and two uploads, decided at known times."""
    world = review_world()
    adult = world.file_case(jpeg(21))
    minor = world.file_case(jpeg(22), depicted_minor=True, name="")
    refused = world.file_case(jpeg(23))
    world.clock.advance(timedelta(hours=10))
    decide_case(world, adult.number, ACCEPT)  # 10 h after receipt
    first = queue_upload(world, jpeg(21), "up/1")  # matches the adult's report
    second = queue_upload(world, jpeg(22), "up/2")  # the minor's
    world.clock.advance(timedelta(hours=20))
    for item_id, decision in ((first, CONFIRM_DEEPFAKE), (second, REJECT)):
        world.review.claim(item_id, ALICE)
        world.review.decide(item_id, ALICE, decision)  # both 20 h after their receipt
    world.clock.advance(timedelta(hours=30))
    decide_case(world, minor.number, ACCEPT)  # 60 h after receipt: late
    decide_case(world, refused.number, REFUSE)  # 60 h too
    world.screening.screen_content(jpeg(21), 7)  # a re-upload, blocked at once
    end = world.clock() + timedelta(seconds=1)
    inputs = ReportInputs(
        received=world.items.opened_between(NOW, end),
        decided=world.items.decided_between(NOW, end),
        sweeps=world.sweeps.between(NOW, end),
        lookup_verdicts=Counter(e.verdict.value for e in world.lookups),
        statements_submitted=1,
    )
    return world, transparency_report(NOW, end, inputs)


def test_what_was_received(known: tuple[ReviewWorld, dict[str, object]]) -> None:
    _, report = known
    assert report["notices"] == {
        "total": 5,
        "by_source": {"case": 3, "platform": 2},
        "by_source_type": {"SOURCE_ARTICLE_16": 5},  # the uploads matched a person's notice
        "by_category": {
            "STATEMENT_CATEGORY_CYBER_VIOLENCE": 3,
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": 2,
        },
        "by_keyword": {
            "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING": 3,
            "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL": 2,
        },
        "involving_minors": 2,
    }


def test_what_was_decided_and_how_automated(known: tuple[ReviewWorld, dict[str, object]]) -> None:
    _, report = known
    decisions = report["decisions"]
    assert isinstance(decisions, dict)
    assert decisions["total"] == 5
    assert decisions["by_kind"] == {"accept": 2, "confirm": 1, "reject": 1, "refuse": 1}
    assert decisions["by_action"] == {"remove": 1}
    assert decisions["by_ground"] == {"take-it-down-act": 3}
    assert decisions["by_ground_kind"] == {"illegal": 3}
    assert decisions["by_category"] == {
        "STATEMENT_CATEGORY_CYBER_VIOLENCE": 2,
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": 1,
    }
    assert decisions["by_keyword"] == {
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING": 2,
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE": 1,  # the confirmation's facts say so
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL": 1,
    }
    automation = report["automation"]
    assert isinstance(automation, dict)
    assert automation["detection"] == {"automated": 2, "human": 3}
    assert automation["decision"] == {
        "AUTOMATED_DECISION_FULLY": 1,  # the blocked re-upload
        "AUTOMATED_DECISION_PARTIALLY": 2,
        "AUTOMATED_DECISION_NOT_AUTOMATED": 3,
    }
    assert report["statements_of_reasons"] == {
        "count": 1,
        "submitted": 1,
        "by_category": {"STATEMENT_CATEGORY_CYBER_VIOLENCE": 1},
    }


def test_how_long_action_took(known: tuple[ReviewWorld, dict[str, object]]) -> None:
    _, report = known
    timing = report["time_to_action"]
    assert isinstance(timing, dict)
    assert timing["hours"] == [10.0, 20.0, 20.0, 60.0, 60.0]
    assert timing["count"] == 5
    assert timing["median_hours"] == 20.0
    assert timing["p90_hours"] == 60.0
    assert timing["within_48h_share"] == 0.6


def test_sweeps_and_likeness(known: tuple[ReviewWorld, dict[str, object]]) -> None:
    _, report = known
    sweeps = report["sweeps"]
    assert isinstance(sweeps, dict)
    assert sweeps["sweeps"] == 3  # after the confirmation and the two accepted cases
    assert sweeps["copies_found"] >= 1
    assert report["likeness"] == {"findings": 0, "confirmed": 0, "rejected": 0}
    assert report["complaints"] == {
        "lodged": 0,
        "by_complainant": {},
        "decided": 0,
        "by_outcome": {},
        "median_days_to_decide": None,
    }


def test_rows_for_csv(known: tuple[ReviewWorld, dict[str, object]]) -> None:
    _, report = known
    rows = report_rows(report)
    assert ("notices", "total", 5) in rows
    assert ("time_to_action", "within_48h_share", 0.6) in rows
    assert not any(figure == "hours" for _, figure, _ in rows)  # lists are left out


def test_percentiles_interpolate() -> None:
    assert percentile([1.0], 90) == 1.0
    assert percentile([0.0, 10.0], 50) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 90) == pytest.approx(3.7)
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


@pytest.mark.parametrize("name", CHARTS)
def test_each_chart_is_a_png_and_an_empty_period_still_draws(
    known: tuple[ReviewWorld, dict[str, object]], name: str
) -> None:
    _, report = known
    picture = Image.open(io.BytesIO(chart_png(name, report)))
    assert picture.format == "PNG"
    assert picture.size == (792, 374)
    empty = transparency_report(NOW, NOW + timedelta(days=1), ReportInputs((), ()))
    assert Image.open(io.BytesIO(chart_png(name, empty))).size == (792, 374)
    picture.save(f"/tmp/transparency-{name}.png")  # looked at by people, not asserted
