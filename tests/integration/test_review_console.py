"""The reviewer console's pages over the whole app on a real SQLite database: sessions and
roles, the blurred media and the audited reveal, decisions through the pages, the admins'
pages. Platforms queue uploads through the lookup API with a screener key, as in
test_review_api.py; reviewers are console accounts signed in through /review/login."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from shieldwall.access.models import Role
from shieldwall.audit.models import AuditAction
from shieldwall.review.models import Reviewer
from shieldwall.review.renditions import blurred_rendition, original_rendition
from shieldwall.web.review.views import Countdown
from tests.support.console import PASSWORD, Console, every_answer_is_no_store
from tests.support.factories import jpeg

CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The upload is the reported image.",
}


def test_pages_need_a_session(console: Console) -> None:
    for path in ("/review", "/review/items/1", "/review/items/1/media", "/review/settings"):
        answer = console.client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/review/login")
    refused = console.client.post("/review/items/1/decide", data={"kind": "reject"})
    assert (refused.status_code, refused.headers["location"]) == (303, "/review/login")
    assert console.client.get("/review/admin/users").headers["location"].startswith("/review/login")


def test_only_leads_see_escalations_and_only_admins_the_admin_pages(console: Console) -> None:
    alice, lena, ada = (console.sign_in(n) for n in ("alice", "lena", "ada"))
    for path in ("/review/escalations", "/review?state=escalated", "/review/admin/users"):
        answer = alice.get(path)
        assert answer.status_code == 403, path
        assert "Not for your role" in answer.text
    assert alice.get("/review/admin/grounds").status_code == 403
    assert (
        alice.post("/review/admin/grounds", {"change": "remove", "code": "csam"}).status_code == 403
    )
    assert "csam" in {g.code for g in console.services.reviews.grounds()}
    assert "Escalations" not in alice.get("/review").text
    assert lena.get("/review/escalations").status_code == 200
    assert lena.get("/review/admin/users").status_code == 403
    for path in ("/review/escalations", "/review/admin/users", "/review/admin/grounds"):
        assert ada.get(path).status_code == 200, path
    every_answer_is_no_store(console)


def test_media_is_blurred_until_an_audited_reveal_for_the_claim_holder(console: Console) -> None:
    photo = jpeg(41)
    item_id = console.queued(photo, "upload/41")
    alice, bob = console.sign_in("alice"), console.sign_in("bob")
    item = f"/review/items/{item_id}"
    assert "upload/41" in alice.get("/review").text
    assert alice.get(f"{item}/media").status_code == 403  # not claimed yet
    assert alice.post(f"{item}/claim").status_code == 303
    page = alice.get(item)
    assert f'src="{item}/media"' in page.text
    original_sha = hashlib.sha256(photo).hexdigest()
    assert original_sha not in page.text
    assert "data:image" not in page.text

    media = alice.get(f"{item}/media")
    assert media.status_code == 200
    assert media.headers["content-type"] == "image/jpeg"
    blur = console.services.accounts.account("alice").blur
    limits = console.services.settings.media
    assert media.content == blurred_rendition(photo, limits, blur)
    assert media.content != photo
    assert hashlib.sha256(media.content).hexdigest() != original_sha
    with Image.open(io.BytesIO(media.content)) as shown:
        assert (shown.format, shown.mode) == ("JPEG", "L")
    assert bob.get(f"{item}/media").status_code == 403  # alice holds it

    assert alice.get(f"{item}/original").status_code == 403  # no reveal, no original
    assert alice.get(f"{item}/original?r={item_id}.9999999999.x.forged").status_code == 403
    no_csrf = alice.client.post(f"{item}/reveal", data={})
    assert no_csrf.status_code == 403
    assert bob.post(f"{item}/reveal").status_code == 403  # not bob's claim
    assert not _reveals(console)

    revealed = alice.post(f"{item}/reveal")
    assert revealed.status_code == 303
    location = revealed.headers["location"]
    token = re.search(r"\?r=([^#]+)", location)
    assert token is not None
    shown_page = alice.get(location.split("#")[0])
    assert f'src="{item}/original?r={token.group(1)}"' in shown_page.text
    assert original_sha not in shown_page.text
    assert bob.get(f"{item}/original?r={token.group(1)}").status_code == 403  # not bob's
    first = alice.get(f"{item}/original?r={token.group(1)}")
    assert first.status_code == 200
    assert first.content == original_rendition(photo, limits)[0]
    again = alice.get(f"{item}/original?r={token.group(1)}")
    assert again.status_code == 403  # one time
    other_item = console.queued(jpeg(43), "upload/43")
    assert alice.get(f"/review/items/{other_item}/original?r={token.group(1)}").status_code == 403
    assert [(r.actor.id, r.subject.id) for r in _reveals(console)] == [("alice", str(item_id))]
    assert f"{console.services.reviews.policy.daily_reveals - 1}</span>" in alice.get(item).text
    every_answer_is_no_store(console)


def _reveals(console: Console) -> list[Any]:
    return [r for r in console.services.audit.records() if r.action is AuditAction.REVEAL]


def test_a_confirmation_through_the_page_blocks_like_the_api(console: Console) -> None:
    photo, second = jpeg(44), jpeg(46)
    item_id = console.queued(photo, "upload/44")
    console.queued(second, "upload/46")
    alice, bob = console.sign_in("alice"), console.sign_in("bob")
    item = f"/review/items/{item_id}"
    assert alice.post(f"{item}/claim").status_code == 303
    assert alice.client.post(f"{item}/decide", data=CONFIRM).status_code == 403  # no CSRF
    missing = alice.post(f"{item}/decide", {**CONFIRM, "ground": "", "facts": ""})
    assert missing.status_code == 422
    assert "Choose the ground the decision rests on." in missing.text
    assert 'aria-invalid="true"' in missing.text
    not_bobs = bob.post(f"{item}/decide", CONFIRM)
    assert not_bobs.status_code == 403
    assert "You no longer hold this item" in not_bobs.text
    assert console.upload(photo)["verdict"] == "review"

    decided = alice.post(f"{item}/decide", CONFIRM)
    assert decided.status_code == 303
    following = decided.headers["location"]
    assert following.startswith("/review/items/")
    assert int(following.rsplit("/", 1)[1]) != item_id  # the next item, claimed for alice
    claimed = console.services.reviews.item(int(following.rsplit("/", 1)[1])).claim
    assert claimed is not None
    assert claimed.reviewer == "alice"
    assert console.upload(photo)["verdict"] == "block"
    again = alice.post(f"{item}/decide", CONFIRM)
    assert again.status_code in (409, 422)
    assert "Something went wrong" not in again.text
    every_answer_is_no_store(console)


def test_a_rejection_allows_the_picture_and_an_escalation_goes_to_a_lead(
    console: Console,
) -> None:
    benign, doubtful = jpeg(47), jpeg(48)
    rejected = console.queued(benign, "upload/47")
    escalated = console.queued(doubtful, "upload/48")
    alice, lena = console.sign_in("alice"), console.sign_in("lena")
    alice.post(f"/review/items/{rejected}/claim")
    answer = alice.post(
        f"/review/items/{rejected}/decide", {"kind": "reject", "reason": "a beach, not it"}
    )
    assert answer.status_code == 303
    again = console.upload(benign, queue="true", content_ref="upload/47b")
    assert (again["verdict"], again["review_item"]) == ("allow", None)

    alice.post(f"/review/items/{escalated}/claim")
    escalate = {"kind": "escalate", "reason": "I am not sure: a lead should look"}
    assert alice.post(f"/review/items/{escalated}/decide", escalate).status_code == 303
    refused = alice.post(f"/review/items/{escalated}/claim")
    assert refused.status_code == 403
    assert "Escalated items are for leads." in refused.text
    assert "upload/48" in lena.get("/review/escalations").text
    assert lena.post(f"/review/items/{escalated}/claim").status_code == 303
    assert lena.post(f"/review/items/{escalated}/decide", CONFIRM).status_code == 303
    assert console.upload(doubtful)["verdict"] == "block"
    assert "upload/48" not in lena.get("/review/escalations").text


def test_the_script_renews_a_claim_with_the_csrf_header(console: Console) -> None:
    item_id = console.queued(jpeg(49), "upload/49")
    alice, bob = console.sign_in("alice"), console.sign_in("bob")
    path = f"/review/items/{item_id}/claim"
    assert alice.client.post(path, headers={"X-CSRF-Token": alice.csrf}).status_code == 204
    assert alice.client.post(path, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert bob.client.post(path, headers={"X-CSRF-Token": bob.csrf}).status_code == 409
    holder = console.services.reviews.item(item_id).claim
    assert holder is not None
    assert holder.reviewer == "alice"
    assert alice.post(f"/review/items/{item_id}/release").status_code == 303
    assert bob.client.post(path, headers={"X-CSRF-Token": bob.csrf}).status_code == 204


def test_a_case_item_shows_the_report_but_never_the_email(console: Console) -> None:
    filed = console.file_case(jpeg(50), depicted_minor=True)
    alice = console.sign_in("alice")
    queue = alice.get("/review?source=case").text
    assert filed["case_number"] in queue
    assert "Minor" in queue
    [item] = [
        i
        for i in console.services.reviews.queue(Reviewer("alice"))
        if i.case_number == filed["case_number"]
    ]
    page = alice.get(f"/review/items/{item.id}").text
    assert "https://forum.example/t/123" in page
    assert "ana@example.org" not in page
    alice.post(f"/review/items/{item.id}/claim")
    accept = {"kind": "accept", "ground": "dsa-illegal-ncii", "facts": "Valid notice."}
    assert alice.post(f"/review/items/{item.id}/decide", accept).status_code == 303
    key = {"case_number": filed["case_number"], "secret": filed["secret"]}
    status = console.client.post("/protect/api/status", json=key).json()
    assert status["decision"]["outcome"] == "accepted"


def test_the_blur_setting_changes_the_rendition(console: Console) -> None:
    photo = jpeg(51)
    item_id = console.queued(photo, "upload/51")
    alice = console.sign_in("alice")
    assert alice.post("/review/settings", {"blur": "999"}).status_code == 422
    assert alice.post("/review/settings", {"blur": "3"}).status_code == 303
    assert console.services.accounts.account("alice").blur == 3
    alice.post(f"/review/items/{item_id}/claim")
    media = alice.get(f"/review/items/{item_id}/media").content
    assert media == blurred_rendition(photo, console.services.settings.media, 3)


def test_admins_manage_users_and_grounds(console: Console) -> None:
    ada = console.sign_in("ada")
    create = {"change": "create", "username": "carol", "role": "lead", "password": PASSWORD}
    assert ada.post("/review/admin/users", create).status_code == 303
    assert console.services.accounts.account("carol").role.value == "lead"
    taken = ada.post("/review/admin/users", create)
    assert taken.status_code == 422
    assert "That change was not made." in taken.text
    assert (
        ada.post("/review/admin/users", {"change": "disable", "username": "carol"}).status_code
        == 303
    )
    assert console.services.accounts.account("carol").disabled
    ada.post("/review/admin/users", {"change": "enable", "username": "carol"})
    assert not console.services.accounts.account("carol").disabled
    ground = {
        "change": "put",
        "code": "terms-9",
        "label": "Terms 9: no leaks",
        "kind": "incompatible",
    }
    assert ada.post("/review/admin/grounds", ground).status_code == 303
    assert "Terms 9: no leaks" in ada.get("/review/admin/grounds").text
    assert (
        ada.post("/review/admin/grounds", {"change": "remove", "code": "terms-9"}).status_code
        == 303
    )
    assert "terms-9" not in {g.code for g in console.services.reviews.grounds()}
    bad = ada.post("/review/admin/grounds", {**ground, "code": "Not Valid"})
    assert bad.status_code == 422
    every_answer_is_no_store(console)


def test_a_page_decision_changes_the_banks_as_the_api_does(console: Console) -> None:
    by_api, by_page = jpeg(54), jpeg(55)
    api_item = console.queued(by_api, "upload/54")
    page_item = console.queued(by_page, "upload/55")
    key = {"X-API-Key": console.services.access.issue_key("rev", Role.REVIEWER).token}
    path = f"/api/v1/review/items/{api_item}"
    assert console.client.post(f"{path}/claim", headers=key).status_code == 200
    decided = console.client.post(f"{path}/decisions", json=CONFIRM, headers=key)
    assert decided.status_code == 200, decided.text
    alice = console.sign_in("alice")
    alice.post(f"/review/items/{page_item}/claim")
    assert alice.post(f"/review/items/{page_item}/decide", CONFIRM).status_code == 303

    decisions = {
        r.subject.id: r.details
        for r in console.services.audit.records()
        if r.action is AuditAction.DECISION
    }
    api_change, page_change = decisions[str(api_item)], decisions[str(page_item)]
    assert page_change == api_change
    entries = page_change["entries"]
    assert isinstance(entries, int)
    assert entries >= 1  # the confirmed bank holds the content now
    assert console.upload(by_api)["verdict"] == console.upload(by_page)["verdict"] == "block"
    api_decision = console.services.reviews.item(api_item).decision
    page_decision = console.services.reviews.item(page_item).decision
    assert api_decision is not None
    assert page_decision is not None
    assert (page_decision.kind, page_decision.action, page_decision.ground) == (
        api_decision.kind,
        api_decision.action,
        api_decision.ground,
    )
    assert (page_decision.reviewer, api_decision.reviewer[:4]) == ("alice", "key:")


def test_a_missing_item_is_a_calm_page_not_an_error(console: Console) -> None:
    alice = console.sign_in("alice")
    for answer in (
        alice.get("/review/items/999"),
        alice.post("/review/items/999/claim"),
        alice.post("/review/items/999/decide", CONFIRM),
        alice.post("/review/items/999/release"),
    ):
        assert answer.status_code == 404
        assert "There is no such item." in answer.text
    assert alice.get("/review/items/999/media").status_code == 404
    script = alice.client.post("/review/items/999/claim", headers={"X-CSRF-Token": alice.csrf})
    assert script.status_code == 404
    every_answer_is_no_store(console)


def test_deadlines_are_told_in_words() -> None:
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    margin = timedelta(hours=12)
    on_time = Countdown.of(now + timedelta(hours=30, minutes=5), now, margin)
    at_risk = Countdown.of(now + timedelta(hours=11, minutes=59), now, margin)
    overdue = Countdown.of(now - timedelta(minutes=7), now, margin)
    assert (on_time.status, on_time.text) == ("ok", "1 d 6 h")
    assert (at_risk.status, at_risk.text) == ("at-risk", "11 h 59 min")
    assert (overdue.status, overdue.text) == ("overdue", "7 min")
    assert Countdown.of(now + timedelta(hours=20), now, timedelta(hours=24)).status == "at-risk"


def test_the_leads_overview_lists_the_clocks_and_reviewers_cannot_open_it(
    console: Console,
) -> None:
    alice, lena = console.sign_in("alice"), console.sign_in("lena")
    assert alice.get("/review/overview").status_code == 403
    assert "Deadlines" not in alice.get("/review").text
    filed = console.file_case(jpeg(81), depicted_minor=True, name="")
    page = lena.get("/review/overview")
    assert page.status_code == 200
    assert filed["case_number"] in page.text
    assert "On time (1)" in page.text
    assert "Overdue (0)" in page.text
    assert "Minor" in page.text
    overdue_only = lena.get("/review/overview?show=overdue")
    assert filed["case_number"] not in overdue_only.text
    assert "no waiting case is in this state" in overdue_only.text
    every_answer_is_no_store(console)
