"""The victims' pages: `/protect` (hash images on the device, file a report) and
`/protect/status` (a case's timeline with its number and secret, withdrawal).

Server-rendered Jinja2 with small vanilla scripts from `/protect/static`. A strict
Content-Security-Policy (`default-src 'self'`, no inline script), no cookies, no referrer,
nothing cached. Texts go through gettext (`_`) so that catalogues can translate them.
"""

from __future__ import annotations

import functools
import gettext
import io
from importlib import resources
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from shieldwall.detection.browser_models import browser_models_installed
from shieldwall.normalise.views import MIN_SIDE, WORKING_LONG_SIDE
from shieldwall.signals.device_table import device_table
from shieldwall.web.enrol_assets import router as assets_router
from shieldwall.web.enrol_assets import runtime_installed

PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""Sent with the home page and every response under /protect (pages, scripts and the JSON
API), by web/response_headers.py."""

ENROL_PAGE_CSP: Final = PAGE_HEADERS["Content-Security-Policy"].replace(
    "default-src 'self';", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"
)
"""The enrolment page also compiles WebAssembly (onnxruntime-web runs the face models);
still only its own scripts, never inline or evaluated JavaScript."""


def page_headers(path: str) -> dict[str, str]:
    """The headers of a response under /protect (or the home page)."""
    if path == "/protect/enrol":
        return {**PAGE_HEADERS, "Content-Security-Policy": ENROL_PAGE_CSP}
    return PAGE_HEADERS


def N_(text: str) -> str:  # noqa: N802 (gettext's name for "translate later")
    """Mark a text for the catalogues without translating it yet."""
    return text


MESSAGES: Final = {
    "show": N_("Show"),
    "hide": N_("Blur"),
    "remove": N_("Remove"),
    "preview_alt": N_("Blurred preview of image {n}"),
    "photo_n": N_("Photo {n}: fingerprint ready"),
    "video_n": N_("Video {n}: fingerprint ready"),
    "hashing": N_("Making fingerprints on this device ({n})..."),
    "hashed": N_("Fingerprints ready: {n}. Nothing has been sent."),
    "sending": N_("Sending the fingerprints and the report..."),
    "offline": N_("The report could not be sent. Check the connection and try again."),
    "fix_fields": N_("Please check the fields marked above."),
    "too_many": N_("Too many attempts from this connection. Please wait a while and try again."),
    "failed": N_("Something went wrong on our side. Please try again later."),
    "problem_reporter_required": N_("Choose who is reporting."),
    "problem_name_required": N_("Enter the full name of the person in the images."),
    "problem_name_too_long": N_("The name is too long."),
    "problem_email_required": N_("Enter an email address so we can confirm we received this."),
    "problem_email_invalid": N_("This email address does not look right."),
    "problem_signature_required": N_("Type your full name as a signature."),
    "problem_signature_confirmed_required": N_("Tick the box to sign the report."),
    "problem_good_faith_required": N_("Tick the box to confirm this statement."),
    "problem_accurate_required": N_("Tick the box to confirm this statement."),
    "problem_authority_required": N_("Say how you are authorised to act for the person."),
    "problem_country_required": N_("Enter the country as two letters, for example ES."),
    "problem_country_invalid": N_("Enter the country as two letters, for example ES."),
    "problem_country_too_long": N_("Enter the country as two letters, for example ES."),
    "problem_locators_invalid": N_("One of the places could not be read. Put one per line."),
    "problem_locators_not_a_url": N_("A link must start with http:// or https://."),
    "problem_locators_too_long": N_("One of the places is too long."),
    "problem_hashes_required": N_("Choose at least one photo or video first."),
    "problem_hashes_invalid": N_("A fingerprint could not be read. Choose the files again."),
    "problem_hashes_too_many": N_("Choose at most 100 files per report."),
    "problem_hashes_pdq_low_quality": N_(
        "A photo is too plain to fingerprint (all dark or one colour). Remove it and try again."
    ),
    "problem_hashes_pdq_too_plain": N_(
        "A photo is too plain to fingerprint (all dark or one colour). Remove it and try again."
    ),
    "problem_hashes_pdq_quality_missing": N_(
        "A fingerprint is incomplete. Choose the files again."
    ),
    "problem_email_too_long": N_("The email address is too long."),
    "problem_language_invalid": N_(
        "The page language could not be read. Reload the page and try again."
    ),
    "problem_report_unknown_field": N_(
        "The report has a field this service does not accept. Reload the page and try again."
    ),
    "receipt_title": N_("Shieldwall report receipt"),
    "receipt_number": N_("Case number: {value}"),
    "receipt_secret": N_("Secret (keep it private): {value}"),
    "receipt_received": N_("Received (UTC): {value}"),
    "receipt_items": N_("Fingerprints received ({n}):"),
    "receipt_locators": N_("Places reported ({n}):"),
    "looking": N_("Looking up your case..."),
    "not_found": N_("No case matches this number and secret. Check both and try again."),
    "withdrawn": N_("Your report is withdrawn. Its fingerprints no longer match anything."),
    "case_title": N_("Case {value}"),
    "state_received": N_("Received: it is waiting for review."),
    "state_triaged": N_("Checked: it is waiting for a reviewer's decision."),
    "state_under_review": N_("Under review."),
    "state_decided": N_("Decided."),
    "state_closed": N_("Closed."),
    "state_complaint": N_("A decision in your case is being looked at again."),
    "state_withdrawn": N_("Withdrawn."),
    "event_received": N_("Report received"),
    "event_triaged": N_("Checked: a reviewer needs more information or will decide soon"),
    "event_under_review": N_("Review started"),
    "event_decided": N_("Decision made"),
    "event_closed": N_("Case closed"),
    "event_withdrawn": N_("Withdrawn by you"),
    "event_complaint": N_("A decision is being looked at again"),
    "event_complaint_decided": N_("Looked at again: decision made"),
    "decision_accepted": N_(
        "Your report was accepted. Copies that match your fingerprints are held for "
        "review and blocked once a reviewer confirms them."
    ),
    "decision_refused": N_("Your report was not accepted."),
    "decision_ground": N_("Legal basis: {value}"),
    "decision_reasons": N_("Reasons: {value}"),
    "decision_at": N_("Decided (UTC): {value}"),
    "decision_complain": N_(
        "If you think this decision is wrong, you can ask for it to be looked at again "
        "until {value}."
    ),
    "complaint_intro": N_(
        "A reviewer who did not make the decision will look at it again, and we will email "
        "you what they decide."
    ),
    "upload_until": N_(
        "If you think it is your picture, you can ask for this to be looked at again until {value}."
    ),
    "complaint_about_case": N_("Your request about the decision on your report"),
    "complaint_about_upload": N_("Your request about a copy that was checked"),
    "complaint_open": N_(
        "Sent on {value}. A reviewer who did not make the decision is looking at it again. "
        "We will email you the outcome."
    ),
    "complaint_uphold": N_("Looked at again on {value}: the decision stands."),
    "complaint_reverse": N_(
        "Looked at again on {value}: the decision was changed, and what it did has been undone."
    ),
    "complaint_reasons": N_("Reasons: {value}"),
    "complaint_sending": N_("Sending your request..."),
    "complaint_sent": N_("Your request was sent. You do not need to do anything else now."),
    "complaint_empty": N_("Please say in a few words why the decision should be looked at again."),
    "complaint_late": N_("The time to ask for this decision to be looked at again has ended."),
    "complaint_taken": N_("This decision is already being looked at again, or was already."),
    "upload_rejected": N_(
        "A copy found on {value} was checked by a reviewer, who decided it is not the "
        "picture you reported."
    ),
    "upload_complain": N_("Ask for this to be looked at again"),
    "locator_reported": N_("reported"),
    "locator_removed": N_("removed"),
    "locator_not_found": N_("not found"),
    "no_locators": N_("None given."),
    "notice_notified": N_("{platform} was asked to remove it on {value}. Waiting for its answer."),
    "notice_acknowledged": N_("{platform} confirmed it received the request of {value}."),
    "notice_removed": N_("{platform} says it removed it."),
    "notice_refused": N_(
        "{platform} refused to remove it. The service that runs this page can tell you what "
        "can be done next."
    ),
    "notice_no_answer": N_(
        "{platform} did not answer the request of {value} in time. The service is following it up."
    ),
    "copies_found": N_("Copies found so far: {n}"),
    "blocked_since": N_(
        "Uploads of your picture blocked since the decision: {n} (the last on {value})."
    ),
    "enrol_loading": N_("Getting face detection ready on this device (about 25 MB, only once)..."),
    "enrol_unavailable": N_(
        "Face detection could not start in this browser. Try an up-to-date browser, or ask a "
        "support centre to enrol you."
    ),
    "enrol_photo_alt": N_("Photo {n}"),
    "enrol_photo_working": N_("Photo {n}: looking for the face..."),
    "enrol_photo_ready": N_("Photo {n}: face found, template ready"),
    "enrol_photo_no_face": N_("Photo {n}: no face found. Choose a clearer photo of the face."),
    "enrol_photo_many_faces": N_(
        "Photo {n}: {count} faces found. Choose a photo where only this face can be seen."
    ),
    "enrol_photo_unreadable": N_("Photo {n}: this file could not be read as a photo."),
    "enrol_remove_n": N_("Remove photo {n}"),
    "enrol_too_many": N_("At most {n} photos: only the first ones were added."),
    "enrol_templates_ready": N_("Face templates ready: {n}. Nothing has been sent."),
    "enrol_need_photo": N_("Choose at least one photo of the face."),
    "enrol_wait": N_("Please wait until every photo has been looked at."),
    "enrol_fix_photos": N_("Remove the photos marked above, or choose others."),
    "enrol_guardian_name": N_("Enter your full name as the parent or guardian."),
    "enrol_guardian_signature": N_("Type your full name again, exactly as above, to sign."),
    "enrol_tick_all": N_("Tick every statement to give your consent."),
    "enrol_sending": N_("Sending the face templates and your consent..."),
    "enrol_receipt_title": N_("Shieldwall enrolment receipt"),
    "enrol_receipt_number": N_("Enrolment number: {value}"),
    "enrol_receipt_given": N_("Enrolled (UTC): {value}"),
    "enrol_receipt_expires": N_("Ends (UTC): {value}"),
    "enrol_receipt_templates": N_("Face templates: {n}"),
    "enrol_receipt_status": N_("See or withdraw it at: {value}"),
    "enrolment_looking": N_("Looking up your enrolment..."),
    "enrolment_title": N_("Enrolment {value}"),
    "enrolment_state_active": N_(
        "Active: new explicit images that seem to show this face are held for review."
    ),
    "enrolment_state_withdrawn": N_("Withdrawn on {value} UTC. The face templates are deleted."),
    "enrolment_state_expired": N_("Ended on {value} UTC. The face templates are deleted."),
    "enrolment_by_self": N_("The person enrolled"),
    "enrolment_by_guardian": N_("A parent or guardian"),
    "enrolment_not_found": N_(
        "No enrolment matches this number and secret. Check both and try again."
    ),
    "enrolment_withdrawn": N_("Your enrolment is withdrawn and its face templates are deleted."),
    "enrolment_acted_on": N_(
        "{value} UTC: an image that seemed to show this face was checked by a person and "
        "is now blocked."
    ),
    "enrolment_acted_on_none": N_("None so far."),
}
"""What the page scripts say, keyed by the codes the API and the scripts use."""

LANGUAGES: Final = {"en": "English", "es": "Español", "ko": "한국어"}
"""The pages' languages: English, and the catalogues under web/locale (gettext .po files)."""

router = APIRouter(include_in_schema=False)


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The gettext catalogue of a language (English is the source text)."""
    if lang == "en":
        return gettext.NullTranslations()
    source = resources.files("shieldwall.web") / "locale" / lang / "LC_MESSAGES" / "shieldwall.po"
    with source.open("rb") as po:
        catalogue = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@functools.cache
def environment(lang: str) -> Environment:
    """The templates (victims' pages and the console) with `lang`'s translations."""
    templates = Environment(
        loader=PackageLoader("shieldwall.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    templates.install_gettext_translations(  # type: ignore[attr-defined]
        translations(lang), newstyle=True
    )
    return templates


def choose_language(asked: str | None, accept_language: str) -> str:
    """`?lang=` if it names a language of the pages, else the browser's first one we have."""
    if asked in LANGUAGES:
        return asked
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.split("-")[0].lower()))
    for _, _, primary in sorted(ranked):
        if primary in LANGUAGES:
            return primary
    return "en"


def problem_message(field: str, code: str, lang: str) -> str:
    """What the pages say about an invalid report field, in `lang` (the code if unknown)."""
    text = MESSAGES.get(f"problem_{field}_{code}")
    return translations(lang).gettext(text) if text else f"{field}: {code}"


def _page(request: Request, template: str, **context: object) -> HTMLResponse:
    lang = choose_language(
        request.query_params.get("lang"), request.headers.get("accept-language", "")
    )
    translate = translations(lang).gettext
    html = (
        environment(lang)
        .get_template(template)
        .render(
            lang=lang,
            languages=LANGUAGES,
            path=request.url.path,
            messages={key: translate(text) for key, text in MESSAGES.items()},
            **context,
        )
    )
    return HTMLResponse(html, headers={"Content-Language": lang, "Vary": "Accept-Language"})


@router.get("/")
def home_page(request: Request) -> HTMLResponse:
    """What this service is, with links to the victims' pages, the API docs and health."""
    return _page(
        request, "protect/home.html", api_docs=getattr(request.app.state, "api_docs", False)
    )


@router.get("/protect")
def protect_page(request: Request) -> HTMLResponse:
    """Choose images, hash them on the device, file the report."""
    return _page(request, "protect/protect.html")


@router.get("/protect/status")
def status_page(request: Request) -> HTMLResponse:
    """A case's timeline with its number and secret; withdrawal."""
    return _page(request, "protect/status.html")


@router.get("/protect/enrol")
def enrol_page(request: Request) -> HTMLResponse:
    """Enrol a face with consent: templates made on the device, never photos."""
    settings = request.app.state.runtime.services.settings
    return _page(
        request,
        "protect/enrol.html",
        ready=runtime_installed(settings) and browser_models_installed(),
    )


@router.get("/protect/enrol/status")
def enrol_status_page(request: Request) -> HTMLResponse:
    """An enrolment with its number and secret; withdrawal."""
    return _page(request, "protect/enrol_status.html")


@router.get("/protect/regions.json")
def region_table_json(request: Request) -> JSONResponse:
    """The bank's regions and pair windows (signals/regions.py and signals/pairs.py, the
    one definition the page and the bank share), for the page to hash on the device
    exactly as `bank add` does."""
    media = request.app.state.runtime.services.settings.media
    return JSONResponse(device_table(MIN_SIDE, WORKING_LONG_SIDE, media.min_short_side))


def install_pages(app: FastAPI) -> None:
    """Mount the pages, their static files and their headers on the app."""
    static = resources.files("shieldwall.web") / "static" / "protect"
    app.mount("/protect/static", StaticFiles(directory=str(static)), name="protect-static")
    app.include_router(router)
    app.include_router(assets_router)
