"""`/docs` in Chromium: Swagger UI renders from this origin alone, under its CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request

from tests.support.server import ServerProcess


def test_docs_render_with_every_asset_from_the_service(
    page: Page, server: tuple[ServerProcess, str]
) -> None:
    process, _token = server
    requested: list[str] = []
    problems: list[str] = []

    def on_request(request: Request) -> None:
        requested.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("request", on_request)
    page.on("console", on_console)
    page.goto(f"{process.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "Shieldwall" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 20  # the operations are listed
    origins = {urlsplit(url).netloc for url in requested if not url.startswith("data:")}
    assert origins == {urlsplit(process.url).netloc}, requested
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.screenshot(path=str(process.home / "docs.png"))
