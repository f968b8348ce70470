"""A complaint item in the reviewer console on a real SQLite database: the queue filters it
by source and hides it from the reviewer who made the decision (not from leads), its page
shows the complaint and the decision (the decider's name to leads only), the decider's
claim is refused with a clear message, and another reviewer upholds it through the form."""

from __future__ import annotations

import re

from tests.support.console import Console
from tests.support.factories import jpeg

CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The upload is the reported image.",
}
WHY = "Our user says this is a photo she took of herself at the beach."


def complained(console: Console) -> tuple[int, int]:
    """An upload alice confirmed, and the platform's complaint about it: both item ids."""
    alice = console.sign_in("alice")
    item_id = console.queued(jpeg(61), "upload/61")
    assert alice.post(f"/review/items/{item_id}/claim").status_code == 303
    assert alice.post(f"/review/items/{item_id}/decide", CONFIRM).status_code == 303
    answer = console.client.post(
        f"/api/v1/lookup/items/{item_id}/complaint",
        json={"explanation": WHY},
        headers=console.platform,
    )
    assert answer.status_code == 201, answer.text
    complaint = console.services.complaints.about_item(item_id)
    assert complaint is not None
    assert complaint.complaint_item_id is not None
    return item_id, complaint.complaint_item_id


def test_the_decider_neither_sees_nor_takes_the_complaint(console: Console) -> None:
    item_id, complaint_id = complained(console)
    alice = console.people["alice"]
    assert f'data-item="{complaint_id}"' not in alice.get("/review?source=complaint").text
    bob, lena = console.sign_in("bob"), console.sign_in("lena")
    queue = bob.get("/review?source=complaint").text
    assert f'data-item="{complaint_id}"' in queue
    assert f'data-item="{item_id}"' not in queue
    assert "Complaint about a decision" in queue
    assert f'data-item="{complaint_id}"' in lena.get("/review?source=complaint").text

    refused = alice.post(f"/review/items/{complaint_id}/claim")
    assert refused.status_code == 403
    assert "another reviewer must look at it again" in refused.text
    page = alice.get(f"/review/items/{complaint_id}").text
    assert 'id="own-decision"' in page

    page = bob.get(f"/review/items/{complaint_id}").text
    assert WHY in page
    assert "the platform whose user uploaded it" in page
    assert "The upload is the reported image." in page
    decider = re.search(r'id="original-decider">([^<]*)<', page)
    assert decider is not None
    assert decider.group(1) == "another reviewer"
    lead_page = lena.get(f"/review/items/{complaint_id}").text
    decider = re.search(r'id="original-decider">([^<]*)<', lead_page)
    assert decider is not None
    assert decider.group(1) == "alice"
    assert f'href="/review/items/{item_id}"' in lead_page


def test_another_reviewer_upholds_it_through_the_page(console: Console) -> None:
    item_id, complaint_id = complained(console)
    bob = console.sign_in("bob")
    assert bob.post(f"/review/items/{complaint_id}/claim").status_code == 303
    page = bob.get(f"/review/items/{complaint_id}").text
    assert 'id="decide-uphold"' in page
    assert 'id="decide-reverse"' in page
    assert 'id="decide-confirm"' not in page
    missing = bob.post(f"/review/items/{complaint_id}/decide", {"kind": "uphold", "reason": ""})
    assert missing.status_code == 422
    upheld = bob.post(
        f"/review/items/{complaint_id}/decide",
        {"kind": "uphold", "reason": "The upload is the reported image; consent was not given."},
    )
    assert upheld.status_code == 303
    polled = console.client.get(f"/api/v1/lookup/items/{item_id}", headers=console.platform).json()
    assert (polled["complaint"]["state"], polled["complaint"]["outcome"]) == ("decided", "uphold")
    assert console.upload(jpeg(61))["verdict"] == "block"
