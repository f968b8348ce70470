"""The review world (tests/support/review_world.py) with complaint handling wired in, as
app.py wires it: complaints in memory, the world's mail fake telling the reporter."""

from __future__ import annotations

from dataclasses import dataclass

from shieldwall.review.complaint_memory import InMemoryComplaintRepository
from shieldwall.review.complaints import ComplaintService
from shieldwall.review.models import ReviewPolicy
from tests.support.review_world import ReviewWorld, review_world


@dataclass
class ComplaintWorld:
    """A review world and its complaint service."""

    world: ReviewWorld
    complaints: ComplaintService
    repository: InMemoryComplaintRepository


def complaint_world(policy: ReviewPolicy | None = None) -> ComplaintWorld:
    """A fresh review world at NOW whose review service hands complaints to the service."""
    world = review_world(policy)
    repository = InMemoryComplaintRepository()
    complaints = ComplaintService(
        repository,
        world.items,
        world.banks,
        world.cases,
        world.audit,
        clock=world.clock,
        policy=world.review.policy,
        notifier=world.mail,
    )
    world.review.handle_complaints(complaints)
    complaints.on_reversed(world.sweeps.withdraw)
    return ComplaintWorld(world, complaints, repository)
