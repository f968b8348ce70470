"""The screened record and the sweeps on every back end, and the whole path over HTTP: a
platform's lookups are recorded (signals and its `content_ref`, never content), a
reviewer's confirmation sweeps them, each platform lists its own copies through
`/api/v1/sweeps/copies` and reports what it did; the retention purge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from shieldwall.access.models import Role
from shieldwall.cli.main import cli
from shieldwall.errors import NotFoundError
from shieldwall.review.sweep_memory import InMemorySweepRepository
from shieldwall.review.sweeps import HitOutcome, NewHit, NewSweep, SweepRepository
from shieldwall.screening.memory import InMemoryScreenedRepository
from shieldwall.screening.record import ScreenedLookup, ScreenedRepository
from shieldwall.storage.screened_repositories import SqlScreenedRepository, SqlSweepRepository
from tests.integration.conftest import SQL_BACKENDS
from tests.support.backends import on_backend
from tests.support.console import Console
from tests.support.edits import captioned, jpeg_bytes
from tests.support.factories import jpeg
from tests.support.images import scene

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The upload is the reported image.",
}


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def record(request: pytest.FixtureRequest) -> Iterator[ScreenedRepository]:
    made: Iterator[ScreenedRepository] = on_backend(
        request, InMemoryScreenedRepository, SqlScreenedRepository
    )
    yield from made


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def sweeps(request: pytest.FixtureRequest) -> Iterator[SweepRepository]:
    def sql(engine: Engine) -> SweepRepository:
        return SqlSweepRepository(engine)

    made: Iterator[SweepRepository] = on_backend(request, InMemorySweepRepository, sql)
    yield from made


def drain(console: Console) -> None:
    """Wait for the sweeps the decisions queued (they run behind the decision)."""
    runner = console.services.background_sweeps
    assert runner is not None
    runner.drain()


def lookup(at: datetime, pdq: str | None, md5: str, views: tuple[str, ...] = ()) -> ScreenedLookup:
    return ScreenedLookup(7, f"ref-{md5[:4]}", at, pdq, md5, None, "allow", views)


def test_the_record_keeps_hashes_views_and_digests_and_forgets_old_rows(
    record: ScreenedRepository,
) -> None:
    old = lookup(NOW - timedelta(days=200), "11" * 32, "aa" * 16)
    new = lookup(NOW, "22" * 32, "bb" * 16, views=("33" * 32, "44" * 32))
    digest_only = lookup(NOW, None, "cc" * 16)
    record.record_many([old, new, digest_only])
    since = NOW - timedelta(days=180)
    pairs = [
        (i, h.hex())
        for ids, hashes in record.pdq_rows(since)
        for i, h in zip(ids, hashes, strict=True)
    ]
    [second] = {i for i, _ in pairs}
    assert [h for _, h in pairs] == ["22" * 32, "33" * 32, "44" * 32]
    [row] = record.get_many([second])
    assert row.lookup == new
    found = record.with_digests(["aa" * 16, "cc" * 16], [], since)
    assert [r.lookup.md5 for r in found] == ["cc" * 16]  # the old one is past the retention
    assert record.purge(since) == 1
    assert len(record.get_many([1, 2, 3, 4])) == 2


def test_sweeps_keep_their_copies_and_each_platform_its_outcomes(
    sweeps: SweepRepository,
) -> None:
    hits = [
        NewHit(5, 7, "seven/1", NOW, "pdq", 12),
        NewHit(6, 8, "eight/1", NOW, "sha256", None),
    ]
    stored = sweeps.add(NewSweep(41, "SW-AAAA-0001", NOW, 30, 31), hits)
    assert [h.hit for h in stored.hits] == hits
    assert sweeps.of_case("SW-AAAA-0001") == [stored]
    assert sweeps.of_item(41) == [stored]
    assert sweeps.between(NOW, NOW + timedelta(seconds=1)) == [stored]
    assert sweeps.between(NOW + timedelta(seconds=1), NOW + timedelta(days=1)) == []
    empty = sweeps.add(NewSweep(42, "", NOW, 3, 31), [])
    assert empty.hits == ()
    [eights] = sweeps.hits_for_key(8, HitOutcome.PENDING)
    with pytest.raises(NotFoundError):
        sweeps.set_outcome(eights.id, 7, HitOutcome.REMOVED, NOW)  # not key 7's copy
    done = sweeps.set_outcome(eights.id, 8, HitOutcome.REMOVED, NOW + timedelta(hours=1))
    assert (done.outcome, done.outcome_at) == (HitOutcome.REMOVED, NOW + timedelta(hours=1))
    assert sweeps.hits_for_key(8, HitOutcome.PENDING) == []
    assert sweeps.hits_for_key(8, None) == [done]
    assert sweeps.withdraw_pending(41, NOW + timedelta(days=1)) == 1  # key 7's; 8's answered
    [withdrawn] = sweeps.hits_for_key(7, HitOutcome.WITHDRAWN)
    assert withdrawn.outcome_at == NOW + timedelta(days=1)
    assert sweeps.hits_for_key(8, None) == [done]
    assert sweeps.withdraw_pending(42, NOW) == 0


def test_a_confirmation_sweeps_what_platforms_looked_up_and_they_answer(
    console: Console,
) -> None:
    other = {"X-API-Key": console.services.access.issue_key("other", Role.SCREENER).token}
    photo = jpeg(44)
    copy = jpeg_bytes(captioned(scene(44), 80))
    found = console.client.post(
        "/api/v1/lookup",
        content=copy,
        params={"content_ref": "https://other.example/p/9"},
        headers={**other, "content-type": "image/jpeg"},
    )
    assert found.status_code == 200
    unrelated = console.client.post(
        "/api/v1/lookup/signals",
        json={"md5": "0" * 32, "content_ref": "https://other.example/p/10"},
        headers=other,
    )
    assert unrelated.status_code == 200
    own_copy = console.client.post(
        "/api/v1/lookup",
        content=jpeg_bytes(scene(44), quality=65),
        params={"content_ref": "upload/44-again"},
        headers={**console.platform, "content-type": "image/jpeg"},
    )
    assert own_copy.status_code == 200
    item_id = console.queued(photo, "upload/44")
    alice = console.sign_in("alice")
    assert alice.post(f"/review/items/{item_id}/claim").status_code == 303
    assert alice.post(f"/review/items/{item_id}/decide", CONFIRM).status_code == 303
    drain(console)

    listed = console.client.get("/api/v1/sweeps/copies", headers=other)
    assert listed.status_code == 200
    [copy_out] = listed.json()["copies"]
    assert copy_out["content_ref"] == "https://other.example/p/9"
    assert copy_out["matched_by"] == "pdq"
    assert copy_out["outcome"] == "pending"
    mine = console.client.get("/api/v1/sweeps/copies", headers=console.platform).json()
    assert [c["content_ref"] for c in mine["copies"]] == ["upload/44-again", "upload/44"]
    status = console.client.get(f"/api/v1/lookup/items/{item_id}", headers=console.platform)
    assert status.json()["outcome"] is not None
    assert [c["content_ref"] for c in status.json()["known_copies"]] == ["upload/44-again"]
    wrong = console.client.post(
        f"/api/v1/sweeps/copies/{copy_out['id']}",
        json={"outcome": "removed"},
        headers=console.platform,
    )
    assert wrong.status_code == 404
    assert wrong.headers["content-type"].startswith("application/problem+json")
    bad = console.client.post(
        f"/api/v1/sweeps/copies/{copy_out['id']}", json={"outcome": "pending"}, headers=other
    )
    assert bad.status_code == 422
    done = console.client.post(
        f"/api/v1/sweeps/copies/{copy_out['id']}", json={"outcome": "removed"}, headers=other
    )
    assert done.status_code == 200
    assert done.json()["outcome"] == "removed"
    assert console.client.get("/api/v1/sweeps/copies", headers=other).json()["copies"] == []
    every = console.client.get("/api/v1/sweeps/copies?outcome=all", headers=other).json()
    assert [c["outcome"] for c in every["copies"]] == ["removed"]
    assert console.client.get("/api/v1/sweeps/copies").status_code == 401


def test_the_case_page_lists_swept_copies_as_links_to_notify_and_counts_reuploads(
    console: Console,
) -> None:
    other = {"X-API-Key": console.services.access.issue_key("other", Role.SCREENER).token}
    console.services.platforms.add(
        {
            "name": "othergram",
            "abuse_email": "abuse@other.example",
            "jurisdiction": "US",
            "bases": ["take_it_down"],
            "hosts": ["other.example"],
        }
    )
    photo = jpeg(45)
    console.client.post(
        "/api/v1/lookup",
        content=jpeg_bytes(scene(45), quality=55),
        params={"content_ref": "https://other.example/p/45"},
        headers={**other, "content-type": "image/jpeg"},
    )
    filed = console.file_case(photo)
    queued = console.upload(photo, queue="true", content_ref="upload/45")
    item_id = queued["review_item"]["id"]
    number = filed["case_number"]
    alice = console.sign_in("alice")
    alice.post(f"/review/items/{item_id}/claim")
    alice.post(f"/review/items/{item_id}/decide", CONFIRM)
    drain(console)
    page = alice.get(f"/review/cases/{number}/notices")
    assert "found by a sweep" in page.text
    assert "https://other.example/p/45" in page.text
    assert "No re-upload has been blocked since the decision." in page.text
    [notice] = console.services.notices.prepared(number)
    assert notice.locator == "https://other.example/p/45"  # a link the centre can notify
    assert console.upload(photo)["verdict"] == "block"
    assert console.upload(photo)["verdict"] == "block"
    again = alice.get(f"/review/cases/{number}/notices")
    assert "Blocked 2 times since the decision" in again.text
    key = {"case_number": number, "secret": filed["secret"]}
    status = console.client.post("/protect/api/status", json=key).json()
    assert status["blocked_since_decision"] == 2
    assert status["last_blocked_at"] is not None


def test_the_command_line_sweeps_a_decided_item_again(console: Console) -> None:
    photo = jpeg(46)
    item_id = console.queued(photo, "upload/46")
    alice = console.sign_in("alice")
    alice.post(f"/review/items/{item_id}/claim")
    assert alice.post(f"/review/items/{item_id}/decide", CONFIRM).status_code == 303
    drain(console)
    settings = console.services.settings
    base = ["--db", settings.effective_database_url]
    env = {"SHIELDWALL_HOME": str(settings.home)}
    ran = CliRunner().invoke(
        cli, [*base, "sweeps", "run", str(item_id), "--json"], env=env, catch_exceptions=False
    )
    assert ran.exit_code == 0, ran.output
    rows = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    assert [r["content_ref"] for r in rows] == ["upload/46"]
    shown = CliRunner().invoke(cli, [*base, "sweeps", "show", str(item_id), "--json"], env=env)
    assert len([line for line in shown.stdout.splitlines() if line.startswith("{")]) == 2
    refused = CliRunner().invoke(cli, [*base, "sweeps", "run", "99999"], env=env)
    assert refused.exit_code != 0
