"""`shieldwall enrolments expire` (a real process) ends enrolments past their term and
deletes their templates; withdrawals and expiries are in the audit log, whose chain holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from shieldwall.audit.models import ActorKind, AuditAction
from shieldwall.likeness.models import Statement, consent_from_mapping
from shieldwall.web.app import create_app
from tests.support.cli import Cli
from tests.support.polling import eventually
from tests.support.services import make_services

EVERY_STATEMENT = [s.value for s in Statement]


def template(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return np.asarray(vector / np.linalg.norm(vector), np.float32)


def test_expire_ends_enrolments_past_their_term_and_both_ends_are_audited(
    tmp_path: Path,
) -> None:
    cli = Cli(tmp_path)
    cli.run("db", "upgrade")
    services = make_services(tmp_path, "cli.db")
    try:
        now = datetime.now(UTC)
        fields = {"enrollee": "self", "statements": EVERY_STATEMENT}
        old = consent_from_mapping({**fields, "term_days": 1}, now - timedelta(days=2))
        current = consent_from_mapping(fields, now)
        expired, _ = services.enrolments.enrol(old, [template(1)])
        kept, _ = services.enrolments.enrol(current, [template(2)])
        withdrawn, secret = services.enrolments.enrol(current, [template(3)])
        services.enrolments.withdraw(withdrawn.number, secret)
    finally:
        services.close()
    assert cli.json("enrolments", "expire") == [{"enrolment": expired.number, "state": "expired"}]
    assert cli.json("enrolments", "expire") == []
    assert "enrolments expired: 0" in cli.run("enrolments", "expire").stdout
    services = make_services(tmp_path, "cli.db")
    try:
        ended = [
            (r.actor.kind, r.actor.id, r.subject.id, r.details["ended"])
            for r in services.audit.records()
            if r.action is AuditAction.ENROLMENT_END
        ]
        assert services.enrolments.likeness(template(1)) == []
        assert [m.number for m in services.enrolments.likeness(template(2))] == [kept.number]
    finally:
        services.close()
    assert ended == [
        (ActorKind.PERSON, withdrawn.number, withdrawn.number, "withdrawn"),
        (ActorKind.SYSTEM, "enrolment-expiry", expired.number, "expired"),
    ]
    assert cli.run("audit", "verify").returncode == 0


def test_a_serving_worker_expires_enrolments_by_itself(tmp_path: Path) -> None:
    services = make_services(tmp_path, "served.db")
    now = datetime.now(UTC)
    fields = {"enrollee": "self", "statements": EVERY_STATEMENT, "term_days": 1}
    old = consent_from_mapping(fields, now - timedelta(days=2))
    enrolment, secret = services.enrolments.enrol(old, [template(4)])
    with TestClient(create_app(services)):
        eventually(
            lambda: services.enrolments.open(enrolment.number, secret).state.value == "expired",
            timeout=5.0,
            message="the worker did not expire the enrolment",
        )
    assert services.enrolments.likeness(template(4)) == []
