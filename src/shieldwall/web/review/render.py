"""Rendering the console's pages: Jinja2 templates under templates/review, strict headers.

Every answer under /review carries the victims' pages' headers (pages.PAGE_HEADERS: a CSP
with no inline script or style, no referrer, `Cache-Control: no-store`), set here on the
response itself so it holds whatever middleware runs. Texts go through gettext (`_`); the
console speaks English (its source texts) until catalogues translate them.
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Mapping
from typing import Final

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from shieldwall.web.pages import PAGE_HEADERS

CONSOLE_LANGUAGE: Final = "en"


@functools.cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("shieldwall.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        gettext.NullTranslations(), newstyle=True
    )
    return environment


def page_headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers of every console answer, with `extra` added."""
    return {**PAGE_HEADERS, "Content-Language": CONSOLE_LANGUAGE, **(extra or {})}


def render_page(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: object,
) -> HTMLResponse:
    """A template under templates/review rendered with `context`, under the console headers."""
    html = (
        _environment()
        .get_template(f"review/{template}")
        .render(lang=CONSOLE_LANGUAGE, path=request.url.path, **context)
    )
    return HTMLResponse(html, status_code=status_code, headers=page_headers(headers))


def see_other(location: str) -> RedirectResponse:
    """A 303 to a path of this service (after a form, or to the sign-in page)."""
    return RedirectResponse(location, status_code=303, headers=page_headers())
