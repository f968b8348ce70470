"""axe-core finds no serious or critical accessibility problems on the victims' pages.

axe-core comes from npm (`make test` installs it under .venv/axe); the browser context
bypasses the page's CSP only so that the test can inject axe's script.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.images import write_scenes
from tests.support.server import ServerProcess

AXE = (
    Path(__file__).resolve().parents[2]
    / ".venv"
    / "axe"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    if not AXE.is_file():
        pytest.fail("axe-core is not installed: run `make test` (it runs npm install axe-core)")
    context = browser.new_context(bypass_csp=True)
    yield context.new_page()
    context.close()


def _serious_problems(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("lang", ["en", "es", "ko"])
def test_the_pages_have_no_serious_accessibility_problems(
    axe_page: Page,
    server: tuple[ServerProcess, str],
    tmp_path: Path,
    lang: str,
) -> None:
    process, _ = server
    page = axe_page
    page.goto(f"{process.url}/?lang={lang}")  # the home page
    assert _serious_problems(page) == []
    page.screenshot(path=str(tmp_path / f"home-{lang}.png"), full_page=True)
    page.goto(f"{process.url}/protect?lang={lang}")
    assert _serious_problems(page) == []
    page.set_input_files("#files", [str(p) for p in write_scenes(tmp_path / "a", [3])])
    expect(page.locator("#items li")).to_have_count(1)
    page.locator("#send").click()  # the form with every problem shown
    expect(page.locator("#email[aria-invalid=true]")).to_have_count(1)
    assert _serious_problems(page) == []
    page.goto(f"{process.url}/protect/status?lang={lang}")
    assert _serious_problems(page) == []


@pytest.mark.parametrize("lang", ["en", "es", "ko"])
def test_the_enrolment_pages_have_no_serious_accessibility_problems(
    axe_page: Page, server: tuple[ServerProcess, str], tmp_path: Path, lang: str
) -> None:
    process, _ = server
    page = axe_page
    page.goto(f"{process.url}/protect/enrol?lang={lang}")
    assert _serious_problems(page) == []
    page.locator("input[name=enrollee][value=guardian]").check()
    page.set_input_files("#photos", [str(p) for p in write_scenes(tmp_path / "a", [3])])
    expect(page.locator("#photo-list li[data-state=no_face]")).to_have_count(1, timeout=90_000)
    page.locator("#send").click()  # every problem shown: photo, guardian, statements
    expect(page.locator("#guardian_name[aria-invalid=true]")).to_have_count(1)
    assert _serious_problems(page) == []
    page.goto(f"{process.url}/protect/enrol/status?lang={lang}")
    assert _serious_problems(page) == []
