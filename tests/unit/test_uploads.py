"""The one body reader: raw bodies and multipart forms, each byte copied once."""

from __future__ import annotations

import asyncio
import os
import tracemalloc
from collections.abc import Sequence

import pytest
from starlette.requests import Request
from starlette.types import Message

from shieldwall.errors import InvalidInputError, MediaTooLargeError
from shieldwall.web.uploads import Form, read_body, read_form

BOUNDARY = "----shieldwall-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
MIB = 1024 * 1024


def part(name: str, data: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
    return head + data + b"\r\n"


def form_body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


def request_of(chunks: Sequence[bytes], content_type: str = MULTIPART) -> Request:
    pending = list(chunks)

    async def receive() -> Message:
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)


def read(chunks: Sequence[bytes], limit: int = MIB, **options: object) -> Form:
    kwargs = {"max_files": 2, "max_fields": 4, **options}
    return asyncio.run(read_form(request_of(chunks), limit, **kwargs))  # type: ignore[arg-type]


# Bytes that look like the start of a boundary make the parser hold data back (look-behind).
TRICKY = b"\r\n--" + BOUNDARY.encode()[:-1] + b"x\r\n-\r\n--" + os.urandom(3000)


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 4096, 1 << 20])
def test_files_and_fields_survive_any_chunking(chunk_size: int) -> None:
    body = form_body(part("photo", TRICKY, "a.jpg"), part("note", "café".encode()), part("x", b""))
    form = read(chunked(body, chunk_size))
    [upload] = form.files
    assert (upload.field, upload.filename, upload.data) == ("photo", "a.jpg", TRICKY)
    assert form.fields == {"note": "café", "x": ""}


def test_a_file_is_copied_once_from_the_received_chunks() -> None:
    data = os.urandom(8 * MIB)
    chunks = chunked(form_body(part("file", data, "big.jpg")), 64 * 1024)

    async def measured() -> tuple[Form, int]:
        tracemalloc.start()
        try:
            form = await read_form(request_of(chunks), 16 * MIB, max_files=1, max_fields=1)
            return form, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    form, peak = asyncio.run(measured())
    assert form.files[0].data == data
    # One copy of the file (8 MiB) and bookkeeping; spooling or re-joining would be 16 MiB.
    assert peak < 9 * MIB


def test_a_single_chunk_body_is_not_copied() -> None:
    chunk = b"x" * 1000
    body = asyncio.run(read_body(request_of([chunk], "application/octet-stream"), 2000))
    assert body is chunk


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (part("file", b"abc", "a.jpg"), "closing boundary"),
        (form_body(part("file", b"", "a.jpg")), "is empty"),
        (form_body(*(part("file", b"a", f"{i}.jpg") for i in range(3))), "at most 2 file"),
        (form_body(*(part(f"f{i}", b"a") for i in range(5))), "at most 4 form field"),
        (form_body(part("note", b"a" * (65 * 1024))), "over 64 KiB"),
        (form_body(part("note", b"\xff\xfe")), "not UTF-8"),
        (b"--" + BOUNDARY.encode() + b"\r\nno headers at all\r\n", "malformed|form-data name"),
    ],
)
def test_malformed_forms_are_invalid_input(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        read(chunked(body, 100))


def test_a_body_without_a_boundary_is_refused() -> None:
    request = request_of([b"whatever"], "multipart/form-data")
    with pytest.raises(InvalidInputError, match="boundary"):
        asyncio.run(read_form(request, MIB, max_files=1, max_fields=1))


def test_a_file_over_the_limit_is_refused_or_kept_as_oversized() -> None:
    body = form_body(part("files", b"a" * 2000, "big.jpg"), part("files", b"b" * 10, "ok.jpg"))
    with pytest.raises(MediaTooLargeError):
        read(chunked(body, 512), limit=1000)
    big, small = read(chunked(body, 512), limit=1000, keep_oversized=True).files
    assert (big.oversized, big.data) == (True, b"")
    assert (small.oversized, small.data) == (False, b"b" * 10)


def test_the_whole_body_is_capped() -> None:
    body = form_body(part("a", b"1" * 3000, "a.jpg"))
    with pytest.raises(MediaTooLargeError):
        read(chunked(body, 512), limit=MIB, body_limit=2000)
