"""HMA curation: banks (`/c/banks`, `/c/bank/{bank}`) and their content.

HMA content is a Shieldwall entry: its id is the entry id, `disable_until_ts` 1/0 is the
active/disabled state, and deleting content withdraws the entry (kept as a tombstone, so
the removal travels with exports; adding the same content again makes a new entry, as
HMA makes a new row). A bank's `enabled_ratio` is stored with its policy (see sampling.py).
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import ApiKey, Capability
from shieldwall.banks.models import (
    Bank,
    Entry,
    EntrySource,
    EntryState,
    NewEntry,
    Provenance,
)
from shieldwall.banks.service import BankService
from shieldwall.errors import ConflictError, InvalidSignalError, NotFoundError
from shieldwall.hashing.service import Purpose
from shieldwall.signals.models import ORIGINAL, Signal
from shieldwall.signals.pdq_quality import pdq_refusals, without_refused
from shieldwall.web.hma.bank_shapes import bank_json
from shieldwall.web.hma.content_shapes import (
    content_config_json,
    content_json,
    content_metadata,
    content_note,
)
from shieldwall.web.hma.errors import abort, abort_name_taken
from shieldwall.web.hma.hashing import (
    UPLOAD_BODY,
    ContentTypeHint,
    Types,
    fetch_content,
    hash_photo,
    read_form_upload,
    signal_selection,
)
from shieldwall.web.hma.lenient import lax_bool, lax_float
from shieldwall.web.hma.names import (
    SIGNAL_TYPE_NAMES,
    bank_name_or_404,
    new_bank_name,
    shieldwall_bank_name,
)
from shieldwall.web.hma.params import json_body, json_object
from shieldwall.web.hma.routing import HmaRoute, hma_route, json_body_doc
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import Caller

router = APIRouter(prefix="/c", tags=["hma"], route_class=HmaRoute)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
JsonBody = Annotated[Any, Depends(json_body)]


def _bank(runtime: Runtime, hma_name: str) -> Bank:
    name = bank_name_or_404(hma_name)
    try:
        return runtime.services.banks.get_bank(name)
    except NotFoundError:
        abort(404, f"bank '{hma_name}' not found")


def _wanted_ratio(body: dict[str, Any]) -> float | None:
    """HMA's new `matching_enabled_ratio` from a body, None to leave it as it is.

    As in HMA, `enabled` sets 1.0 or 0.0 and `enabled_ratio` (0..1, also as a string: Coop
    sends "1") overrides it."""
    ratio = body.get("enabled_ratio")
    if ratio is not None:
        value = lax_float("enabled_ratio", ratio)
        if not 0 <= value <= 1:
            abort(400, "enabled_ratio must be between 0.0 and 1.0")
        return value
    enabled = body.get("enabled")
    if enabled is None:
        return None
    return 1.0 if lax_bool("enabled", enabled) else 0.0


def _apply_ratio(banks: BankService, bank: Bank, ratio: float) -> Bank:
    """A ratio of 0 disables the bank (its stored share is kept); any other enables it."""
    if ratio > 0 and ratio != bank.policy.matching_ratio:
        bank = banks.update_policy(bank.name, matching_ratio=ratio)
    if (ratio > 0) != bank.enabled:
        bank = banks.set_bank_enabled(bank.name, ratio > 0)
    return bank


# Banks -----------------------------------------------------------------------------------


@router.get("/banks", summary="HMA: list banks", **hma_route(Capability.READ_BANKS))
def banks_index(runtime: RuntimeDep) -> list[dict[str, Any]]:
    """`[{"name", "matching_enabled_ratio"}]`, names in upper case."""
    return [bank_json(bank) for bank in runtime.services.banks.list_banks()]


@router.post(
    "/banks",
    summary="HMA: create a bank",
    status_code=201,
    **hma_route(
        Capability.WRITE_BANKS, (400, 413), json_body_doc({"name": "MY_BANK", "enabled": True})
    ),
)
def bank_create(runtime: RuntimeDep, body: JsonBody) -> dict[str, Any]:
    """`{"name": "UPPER_NAME", "enabled_ratio"?: 0|1, "enabled"?: bool}` -> the bank (201)."""
    data = json_object(body)
    if data.get("name") is None:
        abort(400, "name is required")
    name = new_bank_name(data["name"])
    ratio = _wanted_ratio(data)
    banks = runtime.services.banks
    try:
        bank = banks.create_bank(name)
    except ConflictError:
        abort_name_taken("Bank already exists")
    return bank_json(_apply_ratio(banks, bank, 1.0 if ratio is None else ratio))


@router.get(
    "/bank/{bank_name}", summary="HMA: read a bank", **hma_route(Capability.READ_BANKS, (404,))
)
def bank_show_by_name(bank_name: str, runtime: RuntimeDep) -> dict[str, Any]:
    """`{"name", "matching_enabled_ratio"}` or 404."""
    return bank_json(_bank(runtime, bank_name))


@router.put(
    "/bank/{bank_name}",
    summary="HMA: change a bank",
    **hma_route(
        Capability.WRITE_BANKS,
        (400, 404, 413),
        json_body_doc({"name": "NEW_NAME", "enabled_ratio": 0.0}),
    ),
)
def bank_update(bank_name: str, runtime: RuntimeDep, body: JsonBody) -> dict[str, Any]:
    """Rename (`name`) and enable or disable (`enabled`, `enabled_ratio` 0 or 1)."""
    name = shieldwall_bank_name(bank_name)
    banks = runtime.services.banks
    try:
        bank = banks.get_bank(name) if name is not None else None
    except NotFoundError:
        bank = None
    if bank is None:
        abort(404, "Bank not found")
    data = json_object(body)
    new_name = new_bank_name(data["name"]) if data.get("name") is not None else bank.name
    ratio = _wanted_ratio(data)
    if new_name != bank.name:
        try:
            bank = banks.rename_bank(bank.name, new_name)
        except ConflictError:
            abort_name_taken("Bank name already exists")
    return bank_json(bank if ratio is None else _apply_ratio(banks, bank, ratio))


@router.delete(
    "/bank/{bank_name}", summary="HMA: delete a bank", **hma_route(Capability.WRITE_BANKS)
)
def bank_delete(bank_name: str, runtime: RuntimeDep) -> dict[str, str]:
    """`{"message": "Done"}`, also when there was no such bank (as in HMA)."""
    name = shieldwall_bank_name(bank_name)
    if name is not None:
        with contextlib.suppress(NotFoundError):
            runtime.services.banks.delete_bank(name)
    return {"message": "Done"}


# Content ---------------------------------------------------------------------------------


def _content_id(content_id: str) -> int:
    if not content_id.isascii() or not content_id.isdigit():
        abort(404, f"content '{content_id}' not found")
    return int(content_id)


def _banked(runtime: Runtime, bank: Bank, content_id: str) -> Entry | None:
    """The live (not withdrawn) entry with this id in this bank, if there is one."""
    try:
        entry = runtime.services.banks.get_entry(_content_id(content_id))
    except NotFoundError:
        return None
    if entry.bank != bank.name or entry.state is EntryState.WITHDRAWN:
        return None
    return entry


def _banked_or_404(runtime: Runtime, bank: Bank, content_id: str) -> Entry:
    entry = _banked(runtime, bank, content_id)
    if entry is None:
        abort(404, f"content '{content_id}' not found")
    return entry


@router.get(
    "/bank/{bank_name}/content/{content_id}",
    summary="HMA: read banked content",
    **hma_route(Capability.READ_BANKS, (404,)),
)
def bank_get_content(
    bank_name: str,
    content_id: str,
    runtime: RuntimeDep,
    include_signals: Annotated[str | None, Query()] = None,
    include_metadata: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """`{"id", "disable_until_ts", "original_media_uri", "bank", "signals"?, "metadata"?,
    "note"?}`: signals on request, metadata unless `include_metadata=false` (as in HMA)."""
    bank = _bank(runtime, bank_name)
    entry = _banked_or_404(runtime, bank, content_id)
    wants_signals = (include_signals or "false").lower() == "true"
    wants_metadata = (include_metadata or "true").lower() == "true"
    return content_json(entry, bank, wants_signals, wants_metadata)


MAX_READDS: Final = 100
"""Delete-and-add-again rounds of one content in one bank that HMA clients may make."""


def _add(
    runtime: Runtime, caller: ApiKey, bank: Bank, signals: list[Signal], provenance: Provenance
) -> dict[str, Any]:
    """Add one entry; HMA's `{"id", "signals"}` (the existing id if the bank holds it).

    Content deleted from the bank (a withdrawn entry, kept as a tombstone) is added again
    as a new entry with a new id, as HMA does; the tombstone stays withdrawn. A PDQ hash
    of content that the acceptance rule refuses is not stored (the digests are: exact
    copies still match) and the answer says why in `pdq_refused`."""
    kept, refused = without_refused(signals)
    replaces: int | None = None
    for _ in range(MAX_READDS):
        new = NewEntry(tuple(kept), provenance, replaces=replaces)
        [added] = runtime.services.banks.add_entries(bank.name, [new])
        if added.state is not EntryState.WITHDRAWN:
            break
        replaces = added.entry_id  # deleted before: the next identity in its line
    else:
        abort(409, f"content was deleted from this bank {MAX_READDS} times; not added again")
    shown = {s.type: s.value for s in kept if s.variant == ORIGINAL}  # not region variants
    answer: dict[str, Any] = {"id": added.entry_id, "signals": shown}
    if refused is not None:
        answer["pdq_refused"] = refused.reason
    return answer


def _provenance(caller: ApiKey, note: Any, metadata: Any) -> Provenance:
    """Who added the content, with HMA's note and metadata (400 if either is malformed)."""
    return Provenance(
        EntrySource.MANUAL,
        submitted_by=caller.name,
        note=content_note(note),
        metadata=content_metadata(metadata),
    )


def _signals_of(values: Any) -> list[Signal]:
    if not isinstance(values, dict) or not values:
        abort(400, "No signals given")
    signals: list[Signal] = []
    for name, value in values.items():
        if name not in SIGNAL_TYPE_NAMES:
            abort(400, f"No such signal type {name}")
        if not isinstance(value, str):
            abort(400, f"Invalid {name} signal: not a string")
        try:
            signals.append(Signal.of(name, value))
        except InvalidSignalError as exc:
            abort(400, f"Invalid {name} signal: {exc}")
    return signals


@router.post(
    "/bank/{bank_name}/signal",
    summary="HMA: add content to a bank by its signals",
    **hma_route(
        Capability.WRITE_BANKS, (400, 404, 409, 413), json_body_doc({"pdq": "d811ac39" * 8})
    ),
)
def bank_add_as_signals(
    bank_name: str, runtime: RuntimeDep, caller: Caller, body: JsonBody
) -> dict[str, Any]:
    """`{"pdq": "...", "note"?: "..."}` (any of pdq, md5, sha256) -> `{"id", "signals"}`."""
    bank = _bank(runtime, bank_name)
    data = dict(json_object(body))
    # As in HMA, the note rides along with the signals; so may metadata (HMA's content add).
    provenance = _provenance(caller, data.pop("note", None), data.pop("metadata", None))
    signals = _signals_of(data)
    refused = next(filter(None, pdq_refusals(signals)), None)
    if refused is not None:  # hashes given by value: refused whole, like a bad import line
        abort(400, f"Invalid pdq signal: {refused.reason}")
    return _add(runtime, caller, bank, signals, provenance)


def _form_metadata(fields: dict[str, str]) -> tuple[Any, Any]:
    metadata: Any = None
    if "metadata" in fields:
        try:
            metadata = json.loads(fields["metadata"])
        except (ValueError, RecursionError):
            abort(400, "metadata form field must be valid JSON")
    return metadata, fields.get("note")


@router.post(
    "/bank/{bank_name}/content",
    summary="HMA: add content to a bank by URL (`?url=`) or upload (field `photo`)",
    **hma_route(Capability.WRITE_BANKS, (400, 404, 409, 413), UPLOAD_BODY),
)
async def bank_add_content(
    bank_name: str,
    request: Request,
    runtime: RuntimeDep,
    caller: Caller,
    url: str | None = None,
    content_type: ContentTypeHint = None,
    types: Types = None,
) -> dict[str, Any]:
    """Hash the content (never stored) and bank its signals: `{"id", "signals"}`."""
    bank = await run_in_threadpool(_bank, runtime, bank_name)
    settings = runtime.services.settings
    upload = await read_form_upload(request, settings.media.max_bytes)
    if upload is not None:
        metadata, note = _form_metadata(upload.fields)
    elif request.headers.get("content-type", "").startswith("application/json"):
        data = json_object(await json_body(request))
        metadata, note = data.get("metadata"), data.get("note")
    else:
        metadata, note = None, None
    provenance = _provenance(caller, note, metadata)
    selection = signal_selection(types)
    if url:
        content = await fetch_content(url, content_type, runtime.services.fetcher)
    elif upload is not None:
        content = upload.data
    else:
        abort(400, "Neither `url` nor multipart file upload was received")
    hashed = await run_in_threadpool(
        hash_photo, content, settings.media, selection, False, Purpose.BANK
    )
    signals = [hashed.primary[name] for name in hashed.values]  # PDQ with its quality
    signals += hashed.variants
    added: dict[str, Any] = await run_in_threadpool(
        _add, runtime, caller, bank, signals, provenance
    )
    return added


def _five_years_from_now() -> int:
    return int(time.mktime((datetime.now() + timedelta(days=365 * 5)).timetuple()))


def _state_for(disable_until_ts: Any) -> EntryState:
    """The entry state for HMA's `disable_until_ts` (0 disables, 1 or a past time enables)."""
    if isinstance(disable_until_ts, bool):
        abort(400, f"Invalid int: '{disable_until_ts}'")
    try:
        value = int(disable_until_ts)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e999
        abort(400, f"Invalid int: '{disable_until_ts}'")
    if value < 0:
        abort(400, "disable_until_ts must be a non-negative integer")
    if value > _five_years_from_now():
        abort(400, "disable_until_ts must be less than 5 years in the future")
    if value == 0:
        return EntryState.DISABLED
    if value == 1 or value <= time.time():
        return EntryState.ACTIVE
    abort(400, "Shieldwall cannot disable content until a time: send 0 to disable, 1 to enable")


@router.put(
    "/bank/{bank_name}/content/{content_id}",
    summary="HMA: enable or disable banked content (`disable_until_ts` 1 or 0), change its note",
    **hma_route(Capability.WRITE_BANKS, (400, 404, 413), json_body_doc({"disable_until_ts": 0})),
)
def bank_update_content(
    bank_name: str, content_id: str, runtime: RuntimeDep, body: JsonBody
) -> dict[str, Any]:
    """`disable_until_ts` and `note` ("" removes it) -> the content config as HMA writes it."""
    bank = _bank(runtime, bank_name)
    entry = _banked_or_404(runtime, bank, content_id)
    data = json_object(body)
    state = _state_for(data["disable_until_ts"]) if "disable_until_ts" in data else None
    note = content_note(data["note"]) if "note" in data else None  # all checked first
    if state is not None and state is not entry.state:
        entry = runtime.services.banks.set_entry_state(entry.id, state)
    if note is not None and note != entry.provenance.note:
        entry = runtime.services.banks.set_entry_note(entry.id, note)
    return content_config_json(entry, bank)


@router.delete(
    "/bank/{bank_name}/content/{content_id}",
    summary="HMA: delete banked content (Shieldwall withdraws the entry)",
    **hma_route(Capability.WRITE_BANKS, (404,)),
)
def bank_delete_content(bank_name: str, content_id: str, runtime: RuntimeDep) -> dict[str, int]:
    """`{"deleted": 1}`, or `{"deleted": 0}` when the bank holds no such content."""
    bank = _bank(runtime, bank_name)
    entry = _banked(runtime, bank, content_id)
    if entry is None:
        return {"deleted": 0}
    runtime.services.banks.set_entry_state(entry.id, EntryState.WITHDRAWN)
    return {"deleted": 1}
