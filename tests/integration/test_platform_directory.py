"""The platform directory on every back end, and `shieldwall platforms add|list|edit`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from shieldwall.cli.main import cli
from shieldwall.errors import ConflictError, NotFoundError
from shieldwall.storage.engine import create_database_engine
from shieldwall.storage.migrate import upgrade_database
from shieldwall.storage.platform_repositories import SqlPlatformRepository
from shieldwall.takedown.memory import InMemoryPlatformRepository
from shieldwall.takedown.platforms import platform_from_mapping
from shieldwall.takedown.ports import PlatformRepository
from tests.integration.conftest import SQL_BACKENDS

FIELDS = {
    "name": "examplegram",
    "abuse_email": "abuse@examplegram.example",
    "jurisdiction": "US",
    "bases": ["take_it_down"],
    "hosts": ["examplegram.example"],
}


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def platforms(request: pytest.FixtureRequest) -> Iterator[PlatformRepository]:
    if request.param == "memory":
        yield InMemoryPlatformRepository()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade_database(url)
    engine = create_database_engine(url)
    try:
        yield SqlPlatformRepository(engine)
    finally:
        engine.dispose()


def test_platforms_are_kept_by_name(platforms: PlatformRepository) -> None:
    first = platform_from_mapping(FIELDS)
    second = platform_from_mapping({**FIELDS, "name": "chat", "hosts": ["chat.example"]})
    platforms.add(first)
    platforms.add(second)
    with pytest.raises(ConflictError):
        platforms.add(first)
    assert platforms.get("examplegram") == first
    assert [p.name for p in platforms.all()] == ["chat", "examplegram"]
    changed = platform_from_mapping({**FIELDS, "deadline_hours": 24})
    platforms.replace(changed)
    assert platforms.get("examplegram").deadline_hours == 24
    with pytest.raises(NotFoundError):
        platforms.get("nowhere")
    with pytest.raises(NotFoundError):
        platforms.replace(platform_from_mapping({**FIELDS, "name": "nowhere"}))


def test_the_command_line_adds_edits_and_lists(tmp_path: Path) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'p.db'}"]
    env = {"SHIELDWALL_HOME": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(cli, [*db, "db", "upgrade"], env=env).exit_code == 0
    added = runner.invoke(
        cli,
        [
            *db,
            "platforms",
            "add",
            "examplegram",
            "--email",
            "abuse@examplegram.example",
            "--jurisdiction",
            "us",
            "--basis",
            "take_it_down",
            "--basis",
            "terms",
            "--host",
            "examplegram.example",
            "--json",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["bases"] == ["take_it_down", "terms"]
    wrong = runner.invoke(cli, [*db, "platforms", "add", "bad", "--host", "x y"], env=env)
    assert wrong.exit_code != 0
    assert "jurisdiction:" in str(wrong.exception)
    assert "hosts:" in str(wrong.exception)
    edited = runner.invoke(
        cli, [*db, "platforms", "edit", "examplegram", "--language", "es", "--json"], env=env
    )
    assert json.loads(edited.stdout)["language"] == "es"
    listed = runner.invoke(cli, [*db, "platforms", "list", "--json"], env=env)
    assert [json.loads(line)["name"] for line in listed.stdout.splitlines()] == ["examplegram"]
