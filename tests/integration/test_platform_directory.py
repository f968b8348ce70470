"""The platform directory and the notices on every back end; `shieldwall platforms
add|list|edit`; `shieldwall cases notices --send --out` against a real local mail server,
and `cases answer`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from shieldwall.cases.models import validate_report
from shieldwall.cli.main import cli
from shieldwall.errors import ConflictError, NotFoundError, UnavailableError
from shieldwall.integrations.mail import SmtpNotifier
from shieldwall.storage.notice_repositories import SqlNoticeRepository
from shieldwall.storage.platform_repositories import SqlPlatformRepository
from shieldwall.takedown.memory import InMemoryNoticeRepository, InMemoryPlatformRepository
from shieldwall.takedown.platforms import LegalBasis, platform_from_mapping
from shieldwall.takedown.ports import NoticeRepository, PlatformRepository
from shieldwall.takedown.tracking import NewNotice, NoticeAnswer, NoticeMethod, NoticeState
from tests.integration.conftest import SQL_BACKENDS
from tests.support.backends import on_backend
from tests.support.factories import report_fields
from tests.support.mail import local_smtp
from tests.support.server import free_port
from tests.support.services import make_services

FIELDS = {
    "name": "examplegram",
    "abuse_email": "abuse@examplegram.example",
    "jurisdiction": "US",
    "bases": ["take_it_down"],
    "hosts": ["examplegram.example"],
}


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def platforms(request: pytest.FixtureRequest) -> Iterator[PlatformRepository]:
    made: Iterator[PlatformRepository] = on_backend(
        request, InMemoryPlatformRepository, SqlPlatformRepository
    )
    yield from made


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


@pytest.fixture(params=["memory", *SQL_BACKENDS])
def notices(request: pytest.FixtureRequest) -> Iterator[NoticeRepository]:
    made: Iterator[NoticeRepository] = on_backend(
        request, InMemoryNoticeRepository, SqlNoticeRepository
    )
    yield from made


def test_notices_and_their_answers_are_kept(notices: NoticeRepository) -> None:
    now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    new = NewNotice(
        "SW-AAAA-0001",
        "https://examplegram.example/p/1",
        "examplegram",
        LegalBasis.TAKE_IT_DOWN,
        "en",
        NoticeMethod.EMAIL,
        now,
        now + timedelta(hours=48),
    )
    first = notices.add(new)
    notices.add(NewNotice(**{**vars(new), "case_number": "SW-AAAA-0002"}))
    assert notices.of_case("SW-AAAA-0001") == [first]
    answer = NoticeAnswer(now + timedelta(hours=3), NoticeState.REMOVED, "gone", "ana")
    answered = notices.answer(first.id, answer)
    assert answered.answers == (answer,)
    assert notices.of_case("SW-AAAA-0001")[0].answers == (answer,)
    with pytest.raises(NotFoundError):
        notices.answer(999, answer)


def test_notices_go_to_a_real_mail_server_and_are_tracked(tmp_path: Path) -> None:
    with local_smtp() as (inbox, port):
        services = make_services(
            tmp_path,
            "n.db",
            smtp_url=f"smtp://127.0.0.1:{port}",
            mail_from="Helpline <help@helpline.example>",
        )
        try:
            services.platforms.add(FIELDS)
            services.platforms.add(
                {
                    **FIELDS,
                    "name": "formgram",
                    "abuse_email": "",
                    "abuse_form": "https://formgram.example/report",
                    "hosts": ["formgram.example"],
                }
            )
            locators = [
                {"kind": "url", "value": "https://examplegram.example/p/9"},
                {"kind": "url", "value": "https://formgram.example/v/9"},
            ]
            report = validate_report(report_fields(locators=locators))
            number = services.cases.file(report).case.number
        finally:
            services.close()
        args = ["--db", f"sqlite:///{tmp_path / 'n.db'}", "cases", "notices", number]
        env = {
            "SHIELDWALL_HOME": str(tmp_path),
            "SHIELDWALL_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "SHIELDWALL_MAIL_FROM": "Helpline <help@helpline.example>",
        }
        out = tmp_path / "forms"
        ran = CliRunner().invoke(
            cli, [*args, "--send", "--out", str(out), "--json"], env=env, catch_exceptions=False
        )
        assert ran.exit_code == 0, ran.output
        received = inbox.wait(2)  # the reporter's acknowledgement, and the notice
    [mail] = [m for m in received if m["To"] == "abuse@examplegram.example"]
    assert number in mail["Subject"]
    rows = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    assert [(r["platform"], r["method"], r["state"]) for r in rows] == [
        ("examplegram", "email", "notified"),
        ("formgram", "export", "notified"),
    ]
    written = sorted(out.iterdir())
    assert [path.suffix for path in written] == [".pdf", ".txt"]
    assert "https://formgram.example/v/9" in written[1].read_text(encoding="utf-8")
    assert written[0].read_bytes().startswith(b"%PDF-")
    answered = CliRunner().invoke(
        cli,
        [
            *args[:2],
            "cases",
            "answer",
            str(rows[0]["notice"]),
            "--state",
            "removed",
            "--by",
            "ana",
            "--recheck",
            (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d"),
            "--json",
        ],
        env=env,
        catch_exceptions=False,
    )
    recorded = json.loads(answered.stdout)
    assert recorded["state"] == "removed"
    assert "recheck_at" in recorded


def test_a_mail_server_that_is_down_sends_nothing_and_records_nothing() -> None:
    notifier = SmtpNotifier(f"smtp://127.0.0.1:{free_port()}", "Helpline <h@helpline.example>")
    with pytest.raises(UnavailableError, match="did not take the notice"):
        notifier.send_notice("abuse@examplegram.example", "subject", "body")
