"""Rendering the console's pages: Jinja2 templates under templates/review, strict headers.

Every answer under /review carries the victims' pages' headers (pages.PAGE_HEADERS: a CSP
with no inline script or style, no referrer, `Cache-Control: no-store`), set here on the
response itself so it holds whatever middleware runs. Texts go through gettext (`_`): the
console speaks the victims' pages' languages (English, Spanish, Korean), chosen by the
browser's Accept-Language (or `?lang=`), from the same catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from shieldwall.web.pages import PAGE_HEADERS, choose_language, environment, translations

CONSOLE_LANGUAGE: Final = "en"
"""The console's source language (and the answer's language where no page is rendered)."""


def console_language(request: Request) -> str:
    """The language a console page is rendered in: `?lang=`, else the browser's."""
    return choose_language(
        request.query_params.get("lang"), request.headers.get("accept-language", "")
    )


def translate(request: Request, text: str) -> str:
    """One text in the request's console language (for messages built in code)."""
    return translations(console_language(request)).gettext(text)


def page_headers(
    extra: Mapping[str, str] | None = None, lang: str = CONSOLE_LANGUAGE
) -> dict[str, str]:
    """The headers of every console answer, with `extra` added."""
    return {
        **PAGE_HEADERS,
        "Content-Language": lang,
        "Vary": "Accept-Language",
        **(extra or {}),
    }


def render_page(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: object,
) -> HTMLResponse:
    """A template under templates/review rendered with `context`, under the console headers."""
    lang = console_language(request)
    html = (
        environment(lang)
        .get_template(f"review/{template}")
        .render(lang=lang, path=request.url.path, **context)
    )
    return HTMLResponse(html, status_code=status_code, headers=page_headers(headers, lang))


def see_other(location: str) -> RedirectResponse:
    """A 303 to a path of this service (after a form, or to the sign-in page)."""
    return RedirectResponse(location, status_code=303, headers=page_headers())
