"""AccessService over the in-memory adapters: tokens, authentication, bootstrap, roles."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shieldwall.access.memory import InMemoryApiKeyRepository, InMemoryLookupLog
from shieldwall.access.models import (
    ROLE_CAPABILITIES,
    Capability,
    LookupEvent,
    LookupKind,
    LookupVerdict,
    Role,
)
from shieldwall.access.service import (
    BOOTSTRAP_NAME,
    INVALID_KEY,
    MALFORMED_KEY,
    MISSING_KEY,
    REVOKED_KEY,
    AccessService,
)
from shieldwall.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from tests.support.clock import FakeClock
from tests.support.factories import api_key

TOKEN_SHAPE = re.compile(r"sw_[0-9a-f]{12}_[A-Za-z0-9_-]{32}")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def keys() -> InMemoryApiKeyRepository:
    return InMemoryApiKeyRepository()


@pytest.fixture
def log() -> InMemoryLookupLog:
    return InMemoryLookupLog()


@pytest.fixture
def access(keys: InMemoryApiKeyRepository, log: InMemoryLookupLog) -> Iterator[AccessService]:
    service = AccessService(keys, log, clock=FakeClock(T0))
    yield service
    service.close()  # stops the key table's refresh thread and the audit flusher


def test_issued_token_has_the_documented_shape_and_authenticates(access: AccessService) -> None:
    issued = access.issue_key("upload screener", Role.SCREENER)
    assert TOKEN_SHAPE.fullmatch(issued.token)
    assert issued.token.split("_")[1] == issued.key.prefix
    assert access.authenticate(issued.token) == issued.key
    assert issued.key.role is Role.SCREENER
    assert issued.key.name == "upload screener"
    assert issued.key.revoked_at is None


def test_only_the_sha256_of_the_token_is_stored(
    access: AccessService, keys: InMemoryApiKeyRepository
) -> None:
    issued = access.issue_key("k", "curator")
    found = keys.find_by_prefix(issued.key.prefix)
    assert found is not None
    assert found[1] == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token.split("_", 2)[2] not in repr(keys.list_keys())


def test_tokens_are_unique(access: AccessService) -> None:
    tokens = {access.issue_key(f"k{i}", Role.SCREENER).token for i in range(50)}
    assert len(tokens) == 50


def test_wrong_secret_and_unknown_prefix_get_the_same_answer(access: AccessService) -> None:
    token = access.issue_key("k", Role.SCREENER).token
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    unknown = "sw_" + ("0" * 12 if token[3:15] != "0" * 12 else "1" * 12) + token[15:]
    messages = []
    for candidate in (flipped, unknown):
        with pytest.raises(AuthenticationError) as caught:
            access.authenticate(candidate)
        messages.append(str(caught.value))
    assert messages == [INVALID_KEY, INVALID_KEY]


def test_revoked_key_no_longer_authenticates(access: AccessService) -> None:
    issued = access.issue_key("k", Role.SCREENER)
    revoked = access.revoke(issued.key.id)
    assert revoked.revoked_at is not None
    assert not revoked.can(Capability.LOOKUP)
    with pytest.raises(AuthenticationError, match=REVOKED_KEY):
        access.authenticate(issued.token)
    assert access.revoke(issued.key.id) == revoked  # idempotent: first time kept
    other = access.issue_key("other", Role.SCREENER)
    assert access.authenticate(other.token) == other.key


@pytest.mark.parametrize("key_id", [0, -1, 999, 2**63, 2**80])
def test_revoking_an_unknown_key_is_not_found(access: AccessService, key_id: int) -> None:
    with pytest.raises(NotFoundError):
        access.revoke(key_id)


def test_missing_token_is_unauthenticated(access: AccessService) -> None:
    for token in (None, ""):
        with pytest.raises(AuthenticationError, match=MISSING_KEY):
            access.authenticate(token)


MALFORMED = [
    " ",
    "sw_",
    "sw__",
    "Bearer sw_0123456789ab_" + "a" * 32,
    "sw_0123456789ab_" + "a" * 31,
    "sw_0123456789ab_" + "a" * 33,
    "sw_0123456789AB_" + "a" * 32,  # upper-case hex
    "SW_0123456789ab_" + "a" * 32,
    "sw-0123456789ab_" + "a" * 32,
    "sw_0123456789ab-" + "a" * 32,
    "sw_0123456789ab_" + "a" * 31 + "=",
    "sw_0123456789ab_" + "a" * 31 + "é",
    "sw_0123456789ab_" + "a" * 31 + "\x00",
    "sw_0123456789ab_" + "a" * 31 + "\n",
    "sw_0123456789ab_" + "a" * 32 + "\n",
    "sw_" + "".join(chr(0xFF10 + d) for d in range(10)) + "ab_" + "a" * 32,  # full-width
    "sw_0123456789ab_" + "٣" * 32,  # Arabic-Indic digits
    "sw_0123456789ab_" + "\ud800" * 32,  # lone surrogates
    "🔑" * 48,
    "x" * 10_000_000,
    "sw_" * 1_000_000,
]


@pytest.mark.parametrize("token", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_tokens_are_unauthenticated(access: AccessService, token: str) -> None:
    access.issue_key("k", Role.SCREENER)
    with pytest.raises(AuthenticationError, match=MALFORMED_KEY):
        access.authenticate(token)


@pytest.mark.parametrize("token", [b"sw_", 12, 1.5, ["sw_"], object()])
def test_non_text_tokens_are_unauthenticated(access: AccessService, token: object) -> None:
    with pytest.raises(AuthenticationError):
        access.authenticate(token)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.text(alphabet="sw_0123456789abcdefABCDEF-", min_size=40, max_size=56),
        st.builds(lambda s: "sw_" + s, st.text(min_size=45, max_size=45)),
    )
)
def test_any_text_is_an_authentication_error_and_nothing_else(token: str) -> None:
    service = AccessService(InMemoryApiKeyRepository(), InMemoryLookupLog())
    try:
        service.issue_key("k", Role.SCREENER)
        with pytest.raises(AuthenticationError):
            service.authenticate(token)
    finally:
        service.close()


def test_bootstrap_admin_only_when_no_active_key(access: AccessService) -> None:
    first = access.bootstrap_admin()
    assert first is not None
    assert (first.key.role, first.key.name) == (Role.ADMIN, BOOTSTRAP_NAME)
    assert access.authenticate(first.token).can(Capability.MANAGE_KEYS)
    assert access.bootstrap_admin() is None
    access.revoke(first.key.id)
    second = access.bootstrap_admin()  # everything revoked: a way back in
    assert second is not None
    assert access.bootstrap_admin() is None


def test_bootstrap_admin_skips_when_any_active_key_exists(access: AccessService) -> None:
    access.issue_key("screener", Role.SCREENER)
    assert access.bootstrap_admin() is None


def test_concurrent_bootstrap_creates_one_admin(access: AccessService) -> None:
    results: list[object] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(access.bootstrap_admin())

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1
    assert len(access.list_keys()) == 1


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 101, "tab\there", "new\nline", "nul\x00", "\u200b"]
)
def test_bad_key_names_are_refused(access: AccessService, name: str) -> None:
    with pytest.raises(InvalidInputError):
        access.issue_key(name, Role.SCREENER)
    assert access.list_keys() == []


def test_names_are_trimmed_and_may_be_any_printable_text(access: AccessService) -> None:
    assert access.issue_key("  Helpline Zürich 🛡  ", Role.REPORTER).key.name == (
        "Helpline Zürich 🛡"
    )
    assert access.issue_key("x" * 100, Role.REPORTER).key.name == "x" * 100


def test_unknown_role_is_refused(access: AccessService) -> None:
    with pytest.raises(InvalidInputError, match="unknown role"):
        access.issue_key("k", "superuser")


def test_prefix_collision_draws_again(
    access: AccessService, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = access.issue_key("first", Role.SCREENER).key.prefix
    prefixes = iter([taken, taken, "00000000000a"])
    monkeypatch.setattr("secrets.token_hex", lambda _n: next(prefixes))
    issued = access.issue_key("second", Role.SCREENER)
    assert issued.key.prefix == "00000000000a"
    assert access.authenticate(issued.token) == issued.key


def test_prefix_collisions_without_end_are_a_conflict(
    access: AccessService, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = access.issue_key("first", Role.SCREENER).key.prefix
    monkeypatch.setattr("secrets.token_hex", lambda _n: taken)
    with pytest.raises(ConflictError):
        access.issue_key("second", Role.SCREENER)


def test_list_keys_in_id_order_with_revoked(access: AccessService) -> None:
    ids = [access.issue_key(f"k{i}", Role.SCREENER).key.id for i in range(3)]
    access.revoke(ids[1])
    listed = access.list_keys()
    assert [k.id for k in listed] == ids
    assert [k.revoked_at is not None for k in listed] == [False, True, False]


def test_capability_matrix_spot_checks() -> None:
    assert api_key(role=Role.ADMIN).can(Capability.MANAGE_KEYS)
    assert all(api_key(role=Role.ADMIN).can(c) for c in Capability)
    assert api_key(role=Role.CURATOR).can(Capability.WRITE_BANKS)
    assert not api_key(role=Role.CURATOR).can(Capability.MANAGE_KEYS)
    assert api_key(role=Role.SCREENER).can(Capability.LOOKUP)
    assert not api_key(role=Role.SCREENER).can(Capability.READ_BANKS)
    assert not api_key(role=Role.SCREENER).can(Capability.WRITE_BANKS)
    assert not api_key(role=Role.REVIEWER).can(Capability.LOOKUP)
    assert api_key(role=Role.REVIEWER).can(Capability.READ_BANKS)
    assert api_key(role=Role.REVIEWER).can(Capability.REVIEW)
    assert not api_key(role=Role.SCREENER).can(Capability.REVIEW)
    assert ROLE_CAPABILITIES[Role.REPORTER] == {Capability.ANY_KEY, Capability.FILE_CASES}
    assert not api_key(role=Role.REVIEWER).can(Capability.FILE_CASES)
    assert not api_key(role=Role.REPORTER).can(Capability.LOOKUP)
    assert set(ROLE_CAPABILITIES) == set(Role)
    assert all(Capability.ANY_KEY in caps for caps in ROLE_CAPABILITIES.values())
    only_admin = [r for r, caps in ROLE_CAPABILITIES.items() if Capability.MANAGE_KEYS in caps]
    assert only_admin == [Role.ADMIN]


def test_sees_details_only_for_trusted_roles_or_by_grant(access: AccessService) -> None:
    assert api_key(role=Role.ADMIN).sees_details
    assert api_key(role=Role.CURATOR).sees_details
    assert not api_key(role=Role.SCREENER).sees_details
    assert not api_key(role=Role.REPORTER).sees_details
    assert api_key(role=Role.SCREENER, see_details=True).sees_details
    granted = access.issue_key("hma client", Role.SCREENER, see_details=True)
    assert access.authenticate(granted.token).sees_details
    plain = access.issue_key("upload path", Role.SCREENER)
    assert not access.authenticate(plain.token).sees_details


def test_lookups_are_recorded_without_content(
    access: AccessService, log: InMemoryLookupLog
) -> None:
    key = access.issue_key("k", Role.SCREENER).key
    other = access.issue_key("other", Role.SCREENER).key
    first = access.lookup_event(key, "file", 1, 2, "block")
    assert (first.key_id, first.at, first.kind, first.queries, first.matches) == (
        key.id,
        T0,
        "file",
        1,
        2,
    )
    access.record_lookup(first)
    access.record_lookup(access.lookup_event(other, "signals", 3, 0, "allow"))
    access.record_lookup(access.lookup_event(None, "hma", 1, 0, "allow"))
    assert [e.kind for e in access.recent_lookups()] == ["hma", "signals", "file"]
    assert access.recent_lookups(key.id) == [first]
    assert access.recent_lookups(limit=1)[0].kind == "hma"
    assert log.recent(other.id)[0].verdict == "allow"


@pytest.mark.parametrize(
    "event",
    [  # the type: ignores mark values that are deliberately not members of the enums
        LookupEvent(1, T0, "", 1, 0, LookupVerdict.ALLOW),  # type: ignore[arg-type]
        LookupEvent(1, T0, "file" * 5, 1, 0, LookupVerdict.ALLOW),  # type: ignore[arg-type]
        LookupEvent(1, T0, LookupKind.FILE, -1, 0, LookupVerdict.ALLOW),
        LookupEvent(1, T0, LookupKind.FILE, 1, -1, LookupVerdict.ALLOW),
        LookupEvent(1, T0, LookupKind.FILE, 1, 0, ""),  # type: ignore[arg-type]
        LookupEvent(1, T0, LookupKind.FILE, 1, 0, "x" * 17),  # type: ignore[arg-type]
        LookupEvent(0, T0, LookupKind.FILE, 1, 0, LookupVerdict.ALLOW),
        LookupEvent(2**63, T0, LookupKind.FILE, 1, 0, LookupVerdict.ALLOW),
        LookupEvent(1, T0.replace(tzinfo=None), LookupKind.FILE, 1, 0, LookupVerdict.ALLOW),
    ],
)
def test_bad_lookup_events_are_refused(
    access: AccessService, log: InMemoryLookupLog, event: LookupEvent
) -> None:
    with pytest.raises(InvalidInputError):
        access.record_lookup(event)
    assert log.recent() == []


def test_memory_log_is_bounded() -> None:
    log = InMemoryLookupLog(max_events=3)
    for i in range(5):
        log.record(
            LookupEvent(1, T0 + timedelta(seconds=i), LookupKind.FILE, 1, i, LookupVerdict.ALLOW)
        )
    assert [e.matches for e in log.recent()] == [4, 3, 2]
    with pytest.raises(InvalidInputError):
        InMemoryLookupLog(max_events=0)
