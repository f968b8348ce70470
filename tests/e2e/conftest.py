"""A headless Debian Chromium driven by Playwright, for the browser tests.

`make test` (and `.ci/run`) installs Chromium when it is missing; the path can be set with
SHIELDWALL_CHROMIUM. A missing browser fails the tests with that instruction, never skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.cli import Cli
from tests.support.server import ServerProcess


def chromium_path() -> str:
    """The Chromium executable the browser tests run."""
    found = os.environ.get("SHIELDWALL_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "Chromium is not installed: run `make test` as root (it installs the "
            "Debian package `chromium`) or set SHIELDWALL_CHROMIUM"
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in the
    # thread while it is open, which would break tests of other modules that run asyncio.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    """A real `shieldwall serve` on an empty SQLite home, and its admin key."""
    cli = Cli(tmp_path_factory.mktemp("home"))
    # Every test files from 127.0.0.1: lift the per-address limits (tested in the API tests).
    env = {**cli.env, "SHIELDWALL_PROTECT_FILE_LIMIT": "100/100"}
    process = ServerProcess(env)
    try:
        token = process.admin_key()
        yield process, token
    finally:
        process.stop()
