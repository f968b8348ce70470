"""Reports: validation of the legal fields, filing, status with the secret, withdrawal."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from shieldwall.banks.memory import InMemoryBankRepository
from shieldwall.banks.models import EntryState, MatchAction
from shieldwall.banks.service import BankService
from shieldwall.cases.memory import InMemoryCaseRepository, InMemoryHitCounter
from shieldwall.cases.models import (
    TRANSITIONS,
    CaseState,
    InvalidReportError,
    LocatorKind,
    ReporterRole,
    can_move,
    validate_report,
)
from shieldwall.cases.service import REPORTED_BANK, CaseService, normalise_case_number
from shieldwall.config import MediaLimits
from shieldwall.errors import InvalidInputError, NotFoundError
from shieldwall.hashing.service import hash_content
from shieldwall.matching.models import verdict_of
from shieldwall.matching.service import BankMatcher
from shieldwall.signals.models import Signal
from tests.support.clock import FakeClock
from tests.support.factories import REPORT_PDQ, REPORT_SHA, jpeg, report_fields, report_item

PDQ, SHA, fields = REPORT_PDQ, REPORT_SHA, report_fields  # the sample report's short names
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def problems(data: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(InvalidReportError) as raised:
        validate_report(data)
    return {(p.field, p.code) for p in raised.value.problems}


def test_a_complete_report_is_valid() -> None:
    report = validate_report(fields())
    assert report.reporter is ReporterRole.DEPICTED
    assert report.country == "ES"
    assert [loc.kind for loc in report.locators] == [
        LocatorKind.URL,
        LocatorKind.MESSAGE,
        LocatorKind.PLATFORM,
    ]
    assert [s.type for s in report.hashes[0]] == ["pdq", "md5", "sha256"]


def test_every_missing_legal_field_is_named() -> None:
    empty = {"hashes": [{"sha256": SHA}]}
    assert problems(empty) == {
        ("reporter", "required"),
        ("name", "required"),
        ("email", "required"),
        ("signature", "required"),
        ("signature_confirmed", "required"),
        ("good_faith", "required"),
        ("accurate", "required"),
        ("country", "required"),
    }


def test_name_is_optional_only_when_the_person_depicted_was_a_minor() -> None:
    report = validate_report(fields(name="", depicted_minor=True, reporter="guardian"))
    assert report.depicted_minor
    assert report.name == ""
    assert ("name", "required") in problems(fields(name=""))


def test_a_representative_must_state_their_authority() -> None:
    assert ("authority", "required") in problems(fields(reporter="representative"))
    report = validate_report(fields(reporter="representative", authority="Lawyer, mandate 42"))
    assert report.authority == "Lawyer, mandate 42"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"email": "not-an-email"}, ("email", "invalid")),
        ({"country": "Spain"}, ("country", "too_long")),
        (
            {"locators": [{"kind": "url", "value": "javascript:alert(1)"}]},
            ("locators", "not_a_url"),
        ),
        ({"locators": [{"kind": "fax", "value": "x"}]}, ("locators", "invalid")),
        ({"locators": "https://example.org"}, ("locators", "invalid")),
        ({"hashes": []}, ("hashes", "required")),
        ({"hashes": [{"pdq": "zz"}]}, ("hashes", "invalid")),
        ({"hashes": [{"pdq": PDQ}]}, ("hashes", "invalid")),  # sha256 is always sent
        ({"name": "x" * 201}, ("name", "too_long")),
        ({"good_faith": "no"}, ("good_faith", "required")),
    ],
)
def test_bad_fields_get_a_stable_code(change: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in problems(fields(**change))


def test_the_workflow_only_moves_forward_and_withdrawal_is_always_possible() -> None:
    for state in CaseState:
        if state is not CaseState.WITHDRAWN:
            assert can_move(state, CaseState.WITHDRAWN)
    assert not can_move(CaseState.WITHDRAWN, CaseState.RECEIVED)
    assert not can_move(CaseState.DECIDED, CaseState.UNDER_REVIEW)
    assert TRANSITIONS[CaseState.WITHDRAWN] == frozenset()


@pytest.fixture
def world() -> tuple[CaseService, BankService, FakeClock]:
    clock = FakeClock(NOW)
    banks = BankService(InMemoryBankRepository())
    return CaseService(InMemoryCaseRepository(), banks, clock), banks, clock


def test_filing_opens_a_case_whose_hashes_match_for_review() -> None:
    repository = InMemoryBankRepository()
    banks = BankService(repository)
    service = CaseService(InMemoryCaseRepository(), banks, FakeClock(NOW))
    filed = service.file(validate_report(fields(depicted_minor=True, reporter="guardian")))
    case = filed.case
    assert case.number.startswith("SW-")
    assert len(filed.secret) >= 24
    assert case.state is CaseState.RECEIVED
    assert case.deadline == NOW + timedelta(hours=48)
    assert case.priority
    bank = banks.get_bank(REPORTED_BANK)
    assert bank.policy.action is MatchAction.REVIEW
    [entry_id] = case.entry_ids
    entry = banks.get_entry(entry_id)
    assert (entry.provenance.case_id, entry.state) == (case.number, EntryState.ACTIVE)
    matches = BankMatcher.load(repository).match_signals([Signal.of("pdq", PDQ)])
    assert [m.entry_id for m in matches] == [entry_id]
    assert verdict_of(matches) is MatchAction.REVIEW


def test_the_secret_opens_the_case_and_a_wrong_one_looks_like_no_case(
    world: tuple[CaseService, BankService, FakeClock],
) -> None:
    service, _, _ = world
    filed = service.file(validate_report(fields()))
    typed = filed.case.number.lower().replace("-", "- ", 1)
    assert service.open(normalise_case_number(typed), filed.secret).number == filed.case.number
    bare = filed.case.number.replace("-", "").lower()  # typed without its hyphens
    assert service.open(bare, filed.secret).number == filed.case.number
    with pytest.raises(NotFoundError) as wrong:
        service.open(filed.case.number, filed.secret + "x")
    with pytest.raises(NotFoundError) as unknown:
        service.open("SW-0000-0000", filed.secret)
    assert str(wrong.value) == str(unknown.value)


def test_withdrawal_tombstones_the_hashes_at_once() -> None:
    clock, repository, cases = FakeClock(NOW), InMemoryBankRepository(), InMemoryCaseRepository()
    banks = BankService(repository)
    filed = CaseService(cases, banks, clock).file(validate_report(fields()))
    matcher = BankMatcher.load(repository)  # a running matcher, told of changes at once
    service = CaseService(cases, BankService(repository, [matcher]), clock)
    assert matcher.match_signals([Signal.of("sha256", SHA)])
    clock.advance(timedelta(hours=3))
    withdrawn = service.withdraw(filed.case.number, filed.secret)
    assert withdrawn.state is CaseState.WITHDRAWN
    assert [e.kind for e in withdrawn.events] == ["received", "withdrawn"]
    assert withdrawn.events[-1].at == NOW + timedelta(hours=3)
    assert matcher.match_signals([Signal.of("sha256", SHA)]) == []
    assert banks.get_entry(filed.case.entry_ids[0]).state is EntryState.WITHDRAWN
    assert service.withdraw(filed.case.number, filed.secret).state is CaseState.WITHDRAWN


def test_a_hash_another_open_case_reported_stays_active(
    world: tuple[CaseService, BankService, FakeClock],
) -> None:
    service, banks, _ = world
    first = service.file(validate_report(fields()))
    second = service.file(validate_report(fields(email="friend@example.org")))
    assert first.case.entry_ids == second.case.entry_ids  # same image: one entry
    service.withdraw(first.case.number, first.secret)
    assert banks.get_entry(first.case.entry_ids[0]).state is EntryState.ACTIVE
    service.withdraw(second.case.number, second.secret)
    assert banks.get_entry(first.case.entry_ids[0]).state is EntryState.WITHDRAWN


def test_reviewers_move_cases_only_along_the_workflow(
    world: tuple[CaseService, BankService, FakeClock],
) -> None:
    service, _, _ = world
    filed = service.file(validate_report(fields()))
    moved = service.move(filed.case.number, CaseState.UNDER_REVIEW)
    assert moved.state is CaseState.UNDER_REVIEW
    with pytest.raises(InvalidInputError, match="cannot become"):
        service.move(filed.case.number, CaseState.RECEIVED)


@pytest.mark.parametrize(
    "email",
    [
        '"><script>alert(1)</script>@example.org',
        "ana@example.org<script>",
        "ana <ana@example.org>",
        "ana@example.org, boss@example.org",
        "a'b@example.org",
        "a`b@example.org",
        'a"b@example.org',
        "ana@exa_mple.org",
        "ana@example",
        "a..b@example.org",
        "x" * 65 + "@example.org",
    ],
)
def test_an_email_with_markup_or_several_addresses_is_invalid(email: str) -> None:
    assert ("email", "invalid") in problems(fields(email=email))


def test_an_overlong_email_is_too_long() -> None:
    assert ("email", "too_long") in problems(fields(email="a@" + "b" * 250 + ".org"))


@pytest.mark.parametrize(
    "email",
    ["ana@example.org", "a.b+tag@mail.example.co.uk", "josé@correo.es", "x@xn--p1ai.xn--p1ai"],
)
def test_ordinary_emails_are_valid(email: str) -> None:
    assert validate_report(fields(email=email)).email == email


@pytest.mark.parametrize("language", ["en", "es", "ko", "pt-BR", "zh-Hant-TW"])
def test_language_tags_are_kept(language: str) -> None:
    assert validate_report(fields(language=language)).language == language


@pytest.mark.parametrize(
    "language", ["<b>es</b>", "es\"onload='x'", "en_US", "e", "english", "es ", "x" * 40, 7]
)
def test_a_language_that_is_not_a_tag_is_invalid(language: object) -> None:
    assert ("language", "invalid") in problems(fields(language=language))


def test_a_missing_language_is_english() -> None:
    assert validate_report(fields()).language == "en"


def test_unknown_report_fields_are_refused() -> None:
    assert problems(fields(admin=True)) == {("report", "unknown_field")}
    assert problems({**fields(), "__proto__": {}, "x" * 1000: 1}) == {("report", "unknown_field")}


def test_a_second_case_counts_only_the_copies_found_after_it_was_filed() -> None:
    clock, cases = FakeClock(NOW), InMemoryCaseRepository()
    banks = BankService(InMemoryBankRepository())
    service = CaseService(cases, banks, clock, hits=InMemoryHitCounter(cases))
    first = service.file(validate_report(fields()))
    service.record_hits(first.case.entry_ids)
    service.record_hits(first.case.entry_ids)
    clock.advance(timedelta(days=3))
    second = service.file(validate_report(fields(email="friend@example.org")))
    assert second.case.entry_ids == first.case.entry_ids  # the same image: one entry
    assert service.copies_found(second.case) == 0  # nothing of the first person's hits
    service.record_hits(first.case.entry_ids)
    assert (service.copies_found(first.case), service.copies_found(second.case)) == (3, 1)


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"pdq": "0" * 64, "pdq_quality": 100}, "pdq_too_plain"),  # every black image's hash
        ({"pdq": "f" * 64, "pdq_quality": 100}, "pdq_too_plain"),
        ({"pdq": PDQ, "pdq_quality": 49}, "pdq_low_quality"),
        ({"pdq": PDQ}, "pdq_quality_missing"),
        ({"pdq": PDQ, "pdq_quality": "90"}, "invalid"),
        ({"pdq": PDQ, "pdq_quality": True}, "invalid"),
        ({"pdq": PDQ, "pdq_quality": 101}, "invalid"),
    ],
)
def test_a_report_refuses_a_pdq_hash_that_would_match_blank_images(
    item: dict[str, Any], code: str
) -> None:
    """Issue 9 item 6: anyone could file an all-zero PDQ and make black images `review`."""
    data = fields(hashes=[{"sha256": SHA}, {**item, "sha256": "ef" * 32}])
    assert problems(data) == {("hashes", code)}


def test_a_report_keeps_the_quality_the_device_computed() -> None:
    report = validate_report(fields())
    assert [s.quality for s in report.hashes[0]] == [100, None, None]
    digests_only = validate_report(fields(hashes=[{"sha256": SHA, "pdq_quality": 3}]))
    assert [s.type for s in digests_only.hashes[0]] == ["sha256"]


def test_a_blank_photo_hashed_on_the_device_cannot_be_filed_by_its_pdq() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480)).save(buffer, "PNG")
    black = hash_content(buffer.getvalue(), MediaLimits())
    item = {"pdq": black.pdq.value, "pdq_quality": black.pdq.quality, "sha256": SHA}
    assert problems(fields(hashes=[item])) == {("hashes", "pdq_low_quality")}
    lying = {**item, "pdq_quality": 100}
    assert problems(fields(hashes=[lying])) == {("hashes", "pdq_too_plain")}


def _report_of(item: dict[str, Any], email: str = "ana@example.org") -> Any:
    return validate_report(fields(hashes=[item], email=email))


def test_a_picture_reported_again_with_region_hashes_gets_them(
    world: tuple[CaseService, BankService, FakeClock],
) -> None:
    service, banks, _ = world
    photo = jpeg(21)
    first = service.file(_report_of(report_item(photo))).case
    second = service.file(_report_of(report_item(photo, regions=True), "friend@example.org")).case
    [old], [new] = first.entry_ids, second.entry_ids
    assert old != new
    pdq_count = {i: sum(s.type == "pdq" for s in banks.get_entry(i).signals) for i in (old, new)}
    assert pdq_count[old] == 1
    assert pdq_count[new] > 40
    assert {banks.get_entry(i).state for i in (old, new)} == {EntryState.ACTIVE}
    # A third report with regions is held by the entry that has them (no third entry);
    # one without them by the first (both stay active, so both match).
    third = service.file(_report_of(report_item(photo, regions=True), "third@example.org")).case
    fourth = service.file(_report_of(report_item(photo), "fourth@example.org")).case
    assert (third.entry_ids, fourth.entry_ids) == ((new,), (old,))
    assert len(banks.list_entries(REPORTED_BANK)) == 2


def test_a_picture_reported_again_after_its_case_was_withdrawn_is_protected_again(
    world: tuple[CaseService, BankService, FakeClock],
) -> None:
    service, banks, _ = world
    item = report_item(jpeg(22))
    first = service.file(_report_of(item))
    service.withdraw(first.case.number, first.secret)
    assert banks.get_entry(first.case.entry_ids[0]).state is EntryState.WITHDRAWN
    again = service.file(_report_of(item)).case
    [entry_id] = again.entry_ids
    assert entry_id != first.case.entry_ids[0]
    assert banks.get_entry(entry_id).state is EntryState.ACTIVE
    assert banks.get_entry(first.case.entry_ids[0]).state is EntryState.WITHDRAWN
