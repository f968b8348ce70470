"""Entries: add (JSON, CSV or files), read, page through, disable, enable, withdraw."""

from __future__ import annotations

import functools
import io
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import ApiKey, Capability
from shieldwall.banks.formats import BankFileFormat, ImportProblem, ImportRecord, parse_bank_file
from shieldwall.banks.models import Entry, EntrySource, EntryState, NewEntry, Provenance
from shieldwall.banks.service import without_case_number
from shieldwall.errors import InvalidInputError, MediaError
from shieldwall.hashing.service import Purpose, hash_content
from shieldwall.signals.models import Signal
from shieldwall.signals.pdq_quality import entry_refusals, without_refused
from shieldwall.web.bank_schemas import AddedListOut, AddedOut, EntriesIn, EntryOut, EntryPage
from shieldwall.web.body_docs import guarded_with_body, json_model, multipart_files
from shieldwall.web.body_limits import MAX_FILES_PER_ADD, MULTIPART_OVERHEAD
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import Caller, GuardedRoute, guarded
from shieldwall.web.uploads import FilePart, read_body, read_form, too_large

router = APIRouter(tags=["entries"], route_class=GuardedRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_FILES = 100
MAX_CSV_BYTES = 16 * 1024 * 1024

_ENTRIES_BODY: Final = {
    "application/json": json_model(EntriesIn),
    "text/csv": {"schema": {"type": "string", "description": "signal_type,signal,note"}},
}
_FILES_BODY: Final = multipart_files("files", many=True)


def _entries_from_json(body: EntriesIn) -> list[NewEntry]:
    return [
        NewEntry(
            tuple(Signal.of(s.type, s.value, s.variant, s.quality) for s in item.signals),
            Provenance(EntrySource(item.source), item.submitted_by, item.case_id, item.note),
        )
        for item in body.entries
    ]


def _entries_from_csv(text: str) -> list[NewEntry]:
    records: list[ImportRecord] = []
    problems: list[tuple[int, str]] = []
    for item in parse_bank_file(io.StringIO(text), BankFileFormat.CSV, Provenance()):
        if isinstance(item, ImportProblem):
            problems.append((item.line, item.message))
        else:
            records.append(item)
    refusals = entry_refusals([record.entry.signals for record in records])
    for record, refused in zip(records, refusals, strict=True):
        if refused is not None:  # too plain a PDQ hash: a refused line, like a malformed one
            problems.append((record.line, refused.reason))
    if problems:
        raise InvalidInputError("; ".join(f"line {n}: {m}" for n, m in sorted(problems)[:20]))
    if not records:
        raise InvalidInputError("the CSV body holds no entries")
    return [record.entry for record in records]


@router.post(
    "/api/v1/banks/{name}/entries",
    summary="Add entries by their signals (JSON or CSV)",
    status_code=201,
    response_model=AddedListOut,
    responses={404: {"description": "no such bank"}, 413: {"description": "body too large"}},
    **guarded_with_body(Capability.WRITE_BANKS, _ENTRIES_BODY),
)
async def add_entries(name: str, request: Request, runtime: RuntimeDep) -> AddedListOut:
    """Add entries in one transaction: all or none. Existing ones come back created=false."""
    raw = await read_body(request, MAX_CSV_BYTES)
    if request.headers.get("content-type", "").startswith("text/csv"):
        entries = _entries_from_csv(raw.decode("utf-8-sig", errors="replace"))
    else:
        try:
            entries = _entries_from_json(EntriesIn.model_validate_json(raw))
        except ValueError as exc:
            raise InvalidInputError(f"invalid entries body: {str(exc).splitlines()[0]}") from exc
    added = await run_in_threadpool(runtime.services.banks.add_entries, name, entries)
    return AddedListOut(
        results=[
            AddedOut(entry_id=a.entry_id, created=a.created, state=a.state.value) for a in added
        ]
    )


@router.post(
    "/api/v1/banks/{name}/files",
    summary="Add images (hashed here, never stored)",
    status_code=201,
    response_model=AddedListOut,
    responses={404: {"description": "no such bank"}, 413: {"description": "too large"}},
    **guarded_with_body(Capability.WRITE_BANKS, _FILES_BODY),
)
async def add_files(name: str, request: Request, runtime: RuntimeDep) -> AddedListOut:
    """Hash each uploaded image and add it; a bad file gets an error, the rest are added."""
    limits = runtime.services.settings.media
    runtime.services.banks.get_bank(name)
    form = await read_form(
        request,
        limits.max_bytes,
        max_files=MAX_FILES,
        max_fields=MAX_FILES,
        body_limit=MAX_FILES_PER_ADD * limits.max_bytes + MULTIPART_OVERHEAD,
        keep_oversized=True,  # a file over the limit is refused, the others still added
    )
    if not form.files:
        raise InvalidInputError("send one or more files in the multipart field `files`")
    return AddedListOut(results=[await _add_file(name, upload, runtime) for upload in form.files])


async def _add_file(bank: str, upload: FilePart, runtime: Runtime) -> AddedOut:
    limits = runtime.services.settings.media
    try:
        if upload.oversized:
            raise too_large(limits.max_bytes)
        data = upload.data
        signals = await run_in_threadpool(
            functools.partial(hash_content, data, limits, purpose=Purpose.BANK)
        )
    except MediaError as exc:
        return AddedOut(
            entry_id=0, created=False, state="refused", filename=upload.filename, error=str(exc)
        )
    # A PDQ hash the acceptance rule refuses is not stored; the exact digests still are.
    kept, refused = without_refused(signals.entry_signals())
    [added] = await run_in_threadpool(runtime.services.banks.add_entries, bank, [NewEntry(kept)])
    return AddedOut(
        entry_id=added.entry_id,
        created=added.created,
        state=added.state.value,
        filename=upload.filename,
        signals={**signals.as_json(), "pdq_refused": refused.reason if refused else None},
    )


@router.get(
    "/api/v1/banks/{name}/entries",
    summary="Page through a bank's entries",
    response_model=EntryPage,
    responses={404: {"description": "no such bank"}},
    **guarded(Capability.READ_BANKS),
)
def list_entries(
    name: str,
    runtime: RuntimeDep,
    caller: Caller,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="cursor")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    state: EntryState | None = None,
) -> EntryPage:
    """Entries with id > `after`, in id order."""
    entries = runtime.services.banks.list_entries(name, after, limit, state)
    cursor = entries[-1].id if len(entries) == limit else None
    return EntryPage(entries=[_shown(e, caller) for e in entries], next_cursor=cursor)


@router.get(
    "/api/v1/entries/{entry_id}",
    summary="Read an entry",
    response_model=EntryOut,
    responses={404: {"description": "no such entry"}},
    **guarded(Capability.READ_BANKS),
)
def get_entry(entry_id: EntryId, runtime: RuntimeDep, caller: Caller) -> EntryOut:
    """One entry with its signals and provenance."""
    return _shown(runtime.services.banks.get_entry(entry_id), caller)


def _shown(entry: Entry, caller: ApiKey) -> EntryOut:
    """The entry as the caller may see it: case numbers only for those who work on cases."""
    return EntryOut.of(entry if caller.sees_case_numbers else without_case_number(entry))


def _set_state(entry_id: int, state: EntryState, runtime: Runtime, caller: ApiKey) -> EntryOut:
    return _shown(runtime.services.banks.set_entry_state(entry_id, state), caller)


@router.post(
    "/api/v1/entries/{entry_id}/disable",
    summary="Disable an entry (reversible)",
    response_model=EntryOut,
    responses={404: {"description": "no such entry"}, 409: {"description": "withdrawn"}},
    **guarded(Capability.WRITE_BANKS),
)
def disable_entry(entry_id: EntryId, runtime: RuntimeDep, caller: Caller) -> EntryOut:
    """Stop matching until enabled again."""
    return _set_state(entry_id, EntryState.DISABLED, runtime, caller)


@router.post(
    "/api/v1/entries/{entry_id}/enable",
    summary="Enable a disabled entry",
    response_model=EntryOut,
    responses={404: {"description": "no such entry"}, 409: {"description": "withdrawn"}},
    **guarded(Capability.WRITE_BANKS),
)
def enable_entry(entry_id: EntryId, runtime: RuntimeDep, caller: Caller) -> EntryOut:
    """Match again (not possible for withdrawn entries: 409)."""
    return _set_state(entry_id, EntryState.ACTIVE, runtime, caller)


@router.post(
    "/api/v1/entries/{entry_id}/withdraw",
    summary="Withdraw an entry (final)",
    response_model=EntryOut,
    responses={404: {"description": "no such entry"}},
    **guarded(Capability.WRITE_BANKS),
)
def withdraw_entry(entry_id: EntryId, runtime: RuntimeDep, caller: Caller) -> EntryOut:
    """Stop matching at once and for good; kept as a tombstone."""
    return _set_state(entry_id, EntryState.WITHDRAWN, runtime, caller)
