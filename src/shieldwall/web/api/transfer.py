"""Bulk import (hash files, CSV, JSON lines) and streamed export of a bank."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from typing import Annotated, Final, TextIO, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from shieldwall.access.models import Capability
from shieldwall.banks.formats import BankFileFormat, detect_format
from shieldwall.banks.models import EntrySource, Provenance
from shieldwall.web.bank_schemas import ImportOut
from shieldwall.web.body_docs import TEXT, guarded_with_body
from shieldwall.web.runtime import Runtime, runtime_of
from shieldwall.web.security import GuardedRoute, guarded
from shieldwall.web.uploads import read_body

router = APIRouter(
    prefix="/api/v1/banks/{name}", tags=["import and export"], route_class=GuardedRoute
)
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
MAX_IMPORT_BYTES: Final = 512 * 1024 * 1024
MEDIA_TYPES: Final = {
    BankFileFormat.JSONL: "application/x-ndjson",
    BankFileFormat.CSV: "text/csv; charset=utf-8",
    BankFileFormat.HASHFILE: "text/plain; charset=utf-8",
}
_IMPORT_BODY: Final = {"text/plain": TEXT, "text/csv": TEXT, "application/x-ndjson": TEXT}


@router.post(
    "/import",
    summary="Import hashes: `pdq <hex>` lines, CSV or JSON lines",
    response_model=ImportOut,
    responses={404: {"description": "no such bank"}, 413: {"description": "body too large"}},
    **guarded_with_body(Capability.WRITE_BANKS, _IMPORT_BODY),
)
async def import_entries(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    format: Annotated[BankFileFormat | None, Query(description="default: detected")] = None,
    source: EntrySource = EntrySource.EXCHANGE,
) -> ImportOut:
    """Import in batches of 5,000 (each one transaction); bad lines are listed, not fatal."""
    runtime.services.banks.get_bank(name)
    text = (await read_body(request, MAX_IMPORT_BYTES)).decode("utf-8-sig", errors="replace")
    lines = io.StringIO(text, newline="")
    chosen = format or detect_format(text[:65536].splitlines()[:20], None)
    summary = await run_in_threadpool(
        runtime.services.banks.import_lines, name, lines, chosen, Provenance(source)
    )
    problems: list[dict[str, object]] = [
        {"line": p.line, "message": p.message} for p in summary.problems[:1000]
    ]
    return ImportOut(
        format=chosen.value, added=summary.added, existing=summary.existing, problems=problems
    )


class _QueueWriter(io.TextIOBase):
    """A text stream whose writes go to a bounded queue (backpressure for streaming)."""

    def __init__(self, sink: queue.Queue[str | None]) -> None:
        self._sink = sink
        self._buffer: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._buffer.append(text)
        self._size += len(text)
        if self._size >= 64 * 1024:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self._sink.put("".join(self._buffer))
            self._buffer, self._size = [], 0


def _stream_export(
    runtime: Runtime, name: str, fmt: BankFileFormat, include_inactive: bool
) -> Iterator[str]:
    sink: queue.Queue[str | None] = queue.Queue(maxsize=16)
    failure: list[BaseException] = []

    def produce() -> None:
        writer = _QueueWriter(sink)
        try:
            runtime.services.banks.export(
                name, fmt, cast(TextIO, writer), include_inactive, case_numbers=False
            )
            writer.flush()
        except BaseException as exc:  # reported to the consumer, which ends the stream
            failure.append(exc)
        finally:
            sink.put(None)

    threading.Thread(target=produce, name="bank-export", daemon=True).start()
    while (chunk := sink.get()) is not None:
        yield chunk
    if failure:
        raise failure[0]


@router.get(
    "/export",
    summary="Stream a bank's entries",
    response_class=StreamingResponse,
    responses={
        200: {"content": {t: {} for t in MEDIA_TYPES.values()}},
        404: {"description": "no such bank"},
    },
    **guarded(Capability.READ_BANKS),
)
def export_entries(
    name: str,
    runtime: RuntimeDep,
    format: BankFileFormat = BankFileFormat.JSONL,
    include_inactive: Annotated[bool, Query(description="jsonl: also tombstones")] = False,
) -> StreamingResponse:
    """Streamed page by page, so a bank of any size exports in constant memory.

    Files go wherever the caller sends them: entries from victims' reports leave without
    their case numbers (reviewers and admins read them in the entry listings)."""
    runtime.services.banks.get_bank(name)
    return StreamingResponse(
        _stream_export(runtime, name, format, include_inactive), media_type=MEDIA_TYPES[format]
    )
