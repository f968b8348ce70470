"""The victims' pages: `/protect` (hash images on the device, file a report) and
`/protect/status` (a case's timeline with its number and secret, withdrawal).

Server-rendered Jinja2 with small vanilla scripts from `/protect/static`. A strict
Content-Security-Policy (`default-src 'self'`, no inline script), no cookies, no referrer,
nothing cached. Texts go through gettext (`_`) so that catalogues can translate them.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.middleware.base import RequestResponseEndpoint

PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""Sent with every response under /protect (pages, scripts and the JSON API)."""

MESSAGES: Final = {
    "show": "Show",
    "hide": "Blur",
    "remove": "Remove",
    "preview_alt": "Blurred preview of image {n}",
    "photo_n": "Photo {n}: fingerprint ready",
    "video_n": "Video {n}: fingerprint ready",
    "hashing": "Making fingerprints of {n} files on this device...",
    "hashed": "{n} fingerprints ready. Nothing has been sent.",
    "sending": "Sending the fingerprints and the report...",
    "offline": "The report could not be sent. Check the connection and try again.",
    "fix_fields": "Please check the fields marked above.",
    "too_many": "Too many attempts from this connection. Please wait a while and try again.",
    "failed": "Something went wrong on our side. Please try again later.",
    "problem_reporter_required": "Choose who is reporting.",
    "problem_name_required": "Enter the full name of the person in the images.",
    "problem_name_too_long": "The name is too long.",
    "problem_email_required": "Enter an email address so we can confirm we received this.",
    "problem_email_invalid": "This email address does not look right.",
    "problem_signature_required": "Type your full name as a signature.",
    "problem_signature_confirmed_required": "Tick the box to sign the report.",
    "problem_good_faith_required": "Tick the box to confirm this statement.",
    "problem_accurate_required": "Tick the box to confirm this statement.",
    "problem_authority_required": "Say how you are authorised to act for the person.",
    "problem_country_required": "Enter the country as two letters, for example ES.",
    "problem_country_invalid": "Enter the country as two letters, for example ES.",
    "problem_country_too_long": "Enter the country as two letters, for example ES.",
    "problem_locators_invalid": "One of the places could not be read. Put one per line.",
    "problem_locators_not_a_url": "A link must start with http:// or https://.",
    "problem_locators_too_long": "One of the places is too long.",
    "problem_hashes_required": "Choose at least one photo or video first.",
    "problem_hashes_invalid": "A fingerprint could not be read. Choose the files again.",
    "problem_hashes_too_many": "Choose at most 100 files per report.",
    "receipt_title": "Shieldwall report receipt",
    "receipt_number": "Case number: {value}",
    "receipt_secret": "Secret (keep it private): {value}",
    "receipt_received": "Received (UTC): {value}",
    "receipt_items": "Fingerprints received ({n}):",
    "receipt_locators": "Places reported ({n}):",
    "looking": "Looking up your case...",
    "not_found": "No case matches this number and secret. Check both and try again.",
    "withdrawn": "Your report is withdrawn. Its fingerprints no longer match anything.",
    "case_title": "Case {value}",
    "state_received": "Received: it is waiting for review.",
    "state_under_review": "Under review.",
    "state_decided": "Decided.",
    "state_withdrawn": "Withdrawn.",
    "event_received": "Report received",
    "event_under_review": "Review started",
    "event_decided": "Decision made",
    "event_withdrawn": "Withdrawn by you",
    "locator_reported": "reported",
    "locator_removed": "removed",
    "locator_not_found": "not found",
    "no_locators": "None given.",
}
"""What the page scripts say, keyed by the codes the API and the scripts use."""

router = APIRouter(include_in_schema=False)
_environment = Environment(
    loader=PackageLoader("shieldwall.web", "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def _page(template: str) -> HTMLResponse:
    html = _environment.get_template(template).render(lang="en", messages=MESSAGES)
    return HTMLResponse(html)


@router.get("/protect")
def protect_page() -> HTMLResponse:
    """Choose images, hash them on the device, file the report."""
    return _page("protect/protect.html")


@router.get("/protect/status")
def status_page() -> HTMLResponse:
    """A case's timeline with its number and secret; withdrawal."""
    return _page("protect/status.html")


async def protect_headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
    """Add PAGE_HEADERS to every response under /protect."""
    response = await call_next(request)
    if request.url.path == "/protect" or request.url.path.startswith("/protect/"):
        response.headers.update(PAGE_HEADERS)
    return response


def install_pages(app: FastAPI) -> None:
    """Mount the pages, their static files and their headers on the app."""
    static = resources.files("shieldwall.web") / "static" / "protect"
    app.mount("/protect/static", StaticFiles(directory=str(static)), name="protect-static")
    app.include_router(router)
    app.middleware("http")(protect_headers)
