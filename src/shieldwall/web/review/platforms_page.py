"""The leads' page of the platform directory: `/review/platforms` lists every platform
(its abuse contact, law, deadline, host names) with a form to add one, and
`/review/platforms?edit=NAME` fills the form to change one. Leads and admins only."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from shieldwall.access.accounts import Account, Session
from shieldwall.errors import ConflictError, InvalidInputError, NotFoundError
from shieldwall.takedown.directory import PlatformDirectory
from shieldwall.takedown.platforms import NOTICE_LANGUAGES, LegalBasis
from shieldwall.web.review.auth import Reviewer, form_text, require_csrf
from shieldwall.web.review.render import see_other
from shieldwall.web.review.views import console_page, require_lead

router = APIRouter(include_in_schema=False)
PLATFORMS_PATH = "/review/platforms"
_FIELDS = ("name", "display_name", "jurisdiction", "deadline_hours", "abuse_email")
_MORE_FIELDS = ("abuse_form", "language")


def directory_of(request: Request) -> PlatformDirectory:
    """The platform directory of the app serving this request."""
    directory: PlatformDirectory = request.app.state.runtime.services.platforms
    return directory


def _fields_of(form: FormData) -> dict[str, object]:
    """The platform's fields from the form: bases are checkboxes, hosts one per line."""
    fields: dict[str, object] = {
        name: form_text(form, name).strip() for name in (*_FIELDS, *_MORE_FIELDS)
    }
    fields["bases"] = [value for value in form.getlist("bases") if isinstance(value, str)]
    lines = form_text(form, "hosts").replace(",", "\n").splitlines()
    fields["hosts"] = [line.strip() for line in lines if line.strip()]
    return fields


def _page(
    request: Request,
    reviewer: tuple[Account, Session],
    *,
    shown: Mapping[str, object] | None = None,
    editing: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    account, session = reviewer
    require_lead(account)
    directory = directory_of(request)
    edit = request.query_params.get("edit", "")[:64]
    if shown is None and edit:
        try:
            shown = directory.get(edit).as_json()
            editing = edit
        except NotFoundError:
            error = "no such platform"
    return console_page(
        request,
        "platforms.html",
        (account, session),
        status_code=status_code,
        platforms=directory.all(),
        bases=[basis.value for basis in LegalBasis],
        languages=NOTICE_LANGUAGES,
        shown=shown or {"deadline_hours": 48, "language": "en", "bases": []},
        editing=editing,
        error=error,
        done=request.query_params.get("done", "")[:20],
    )


@router.get(PLATFORMS_PATH)
def platforms(request: Request, reviewer: Reviewer) -> HTMLResponse:
    """The directory, and the form to add (or, with ?edit=, change) a platform."""
    return _page(request, reviewer)


@router.post(PLATFORMS_PATH)
async def change_platform(request: Request, reviewer: Reviewer) -> Response:
    """Add a platform (`change=add`) or change one (`change=edit`, the name kept)."""
    require_lead(reviewer[0])
    form = await require_csrf(request, reviewer[1])
    change = form_text(form, "change")
    fields = _fields_of(form)
    directory = directory_of(request)
    try:
        if change == "add":
            directory.add(fields)
        elif change == "edit":
            directory.edit(str(fields["name"]), fields)
        else:
            raise InvalidInputError("unknown change")
    except (InvalidInputError, ConflictError, NotFoundError) as exc:
        editing = str(fields["name"]) if change == "edit" else ""
        return _page(
            request, reviewer, shown=fields, editing=editing, error=str(exc), status_code=422
        )
    return see_other(f"{PLATFORMS_PATH}?done={change}")
