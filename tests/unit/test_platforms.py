"""The platform directory: every field checked and every problem named at once; a
locator's URL finds the platform that serves its host (the most specific name wins)."""

from __future__ import annotations

from typing import Any

import pytest

from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.takedown.directory import PlatformDirectory
from shieldwall.takedown.memory import InMemoryPlatformRepository
from shieldwall.takedown.platforms import LegalBasis, platform_from_mapping, platform_of

EXAMPLEGRAM: dict[str, Any] = {
    "name": "Examplegram",
    "abuse_email": "abuse@examplegram.example",
    "jurisdiction": "us",
    "bases": ["take_it_down", "terms"],
    "hosts": ["www.examplegram.example", "exgram.example"],
}


def test_a_platform_is_read_and_normalised() -> None:
    platform = platform_from_mapping(EXAMPLEGRAM)
    assert (platform.name, platform.display_name, platform.jurisdiction) == (
        "examplegram",
        "examplegram",
        "US",
    )
    assert platform.bases == (LegalBasis.TAKE_IT_DOWN, LegalBasis.TERMS)
    assert platform.hosts == ("examplegram.example", "exgram.example")
    assert (platform.deadline_hours, platform.language) == (48, "en")
    assert platform_from_mapping(platform.as_json()) == platform


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidInputError) as raised:
        platform_from_mapping(
            {
                "name": "-bad",
                "jurisdiction": "USA",
                "bases": ["gdpr"],
                "hosts": ["http://x"],
                "abuse_form": "http://plain.example/form",
                "deadline_hours": 0,
                "language": "english",
            }
        )
    message = str(raised.value)
    for field in ("name", "jurisdiction", "bases", "hosts", "abuse_form", "deadline_hours"):
        assert f"{field}:" in message
    assert "language:" in message


def test_a_platform_needs_a_contact() -> None:
    without = {k: v for k, v in EXAMPLEGRAM.items() if k != "abuse_email"}
    with pytest.raises(InvalidInputError, match="abuse contact"):
        platform_from_mapping(without)
    form = platform_from_mapping({**without, "abuse_form": "https://examplegram.example/report"})
    assert form.abuse_form == "https://examplegram.example/report"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://examplegram.example/p/123", "examplegram"),
        ("https://m.examplegram.example/p/123", "examplegram"),
        ("https://cdn.exgram.example/i.jpg", "examplegram"),
        ("https://files.chat.example/a", "chatfiles"),
        ("https://chat.example/room/1", "chat"),
        ("https://notexamplegram.example/p", None),
        ("a school group chat", None),
        ("https://[::1", None),
    ],
)
def test_a_locator_finds_the_platform_serving_its_host(url: str, expected: str | None) -> None:
    platforms = [
        platform_from_mapping(EXAMPLEGRAM),
        platform_from_mapping({**EXAMPLEGRAM, "name": "chat", "hosts": ["chat.example"]}),
        platform_from_mapping(
            {**EXAMPLEGRAM, "name": "chatfiles", "hosts": ["files.chat.example"]}
        ),
    ]
    found = platform_of(url, platforms)
    assert (found.name if found else None) == expected


def test_the_directory_adds_edits_and_lists() -> None:
    directory = PlatformDirectory(InMemoryPlatformRepository())
    directory.add(EXAMPLEGRAM)
    with pytest.raises(ConflictError):
        directory.add(EXAMPLEGRAM)
    edited = directory.edit("examplegram", {"deadline_hours": 24, "language": "ko"})
    assert (edited.deadline_hours, edited.language, edited.abuse_email) == (
        24,
        "ko",
        "abuse@examplegram.example",
    )
    with pytest.raises(InvalidInputError):
        directory.edit("examplegram", {"hosts": []})
    assert directory.get("Examplegram").deadline_hours == 24  # the bad edit changed nothing
    with pytest.raises(NotFoundError):
        directory.edit("nowhere", {"language": "es"})
    assert [p.name for p in directory.all()] == ["examplegram"]
    assert directory.platform_of("https://exgram.example/x") == edited
