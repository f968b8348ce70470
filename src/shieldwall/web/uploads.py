"""The one reader of request bodies: raw bodies and multipart forms, within a byte limit.

Both keep the chunks the server received and copy a body's bytes once: a raw body is
the chunks joined, and a multipart file is its slices of the chunks joined. Forms are
parsed in memory as they stream in (python-multipart's push parser), never spooled to
temporary files and read back. Past the limit the read stops with 413.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from shieldwall.errors import InvalidInputError, MediaTooLargeError
from shieldwall.web.body_limits import human_size

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FORM_OVERHEAD: Final = 64 * 1024
"""Room beside a form's files for boundaries, part headers and text fields."""
MAX_FIELD_BYTES: Final = 64 * 1024
"""A text field of a form: a content type, a note, a `types` list."""
MAX_PART_HEADERS: Final = 8


def too_large(limit: int) -> MediaTooLargeError:
    """The error for content over `limit` bytes."""
    return MediaTooLargeError(f"content is over the {human_size(limit)} limit")


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse early when Content-Length already says the body is too large."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large(limit)


async def read_body(
    request: Request,
    limit: int,
    empty: str | None = "the request body is empty: send the image bytes",
) -> bytes:
    """The raw body, read in chunks and refused as soon as it passes `limit` bytes.

    `empty` is the message for a body with no bytes at all (None: an empty body is b"").
    """
    check_declared_length(request, limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        if chunk:
            parts.append(chunk)
    if size == 0 and empty is not None:
        raise InvalidInputError(empty)
    return parts[0] if len(parts) == 1 else b"".join(parts)


@dataclass(frozen=True)
class FilePart:
    """One uploaded file of a multipart form."""

    field: str
    filename: str
    data: bytes
    oversized: bool = False
    """Over the file limit (its bytes dropped): only when `read_form` keeps such files."""


@dataclass(frozen=True)
class Form:
    """A multipart form: its files in order, and its text fields."""

    files: tuple[FilePart, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)


def is_multipart(request: Request) -> bool:
    """Whether the body is declared as `multipart/form-data`."""
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def read_form(
    request: Request,
    limit: int,
    *,
    max_files: int,
    max_fields: int,
    body_limit: int | None = None,
    keep_oversized: bool = False,
) -> Form:
    """The multipart form of the request: each file at most `limit` bytes, `max_files`
    files and `max_fields` text fields at most, the body at most `body_limit` (default:
    `max_files` files and room for the rest).

    InvalidInputError for a malformed form, an empty file or too many parts;
    MediaTooLargeError for a file over `limit`, unless `keep_oversized`, which keeps such
    a file as `oversized` without its bytes (each file then gets its own answer).
    """
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not is_multipart(request) or not boundary:
        raise InvalidInputError("send the body as multipart/form-data with a boundary")
    if body_limit is None:
        body_limit = limit * max_files + FORM_OVERHEAD
    check_declared_length(request, body_limit)
    collector = _FormCollector(limit, max_files, max_fields, keep_oversized)
    parser = MultipartParser(boundary, collector.callbacks(), max_header_count=MAX_PART_HEADERS)
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > body_limit:
                raise too_large(body_limit)
            # Slices of the chunk are kept until their part ends: it must not change.
            parser.write(chunk if isinstance(chunk, bytes) else bytes(chunk))
        parser.finalize()
    except MultipartParseError as exc:
        raise InvalidInputError(f"the multipart body is malformed: {exc}") from None
    return collector.form()


class _FormCollector:
    """python-multipart callbacks that gather parts as slices of the received chunks."""

    def __init__(self, limit: int, max_files: int, max_fields: int, keep_oversized: bool) -> None:
        self._limit, self._max_files, self._max_fields = limit, max_files, max_fields
        self._keep_oversized = keep_oversized
        self._files: list[FilePart] = []
        self._fields: dict[str, str] = {}
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._slices: list[memoryview] = []
        self._size = 0
        self._name = ""
        self._filename: str | None = None
        self._complete = False

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_end": self._end,
        }

    def form(self) -> Form:
        if not self._complete:
            raise InvalidInputError("the multipart body ended before its closing boundary")
        return Form(tuple(self._files), dict(self._fields))

    def _part_begin(self) -> None:
        self._disposition = b""
        self._slices = []
        self._size = 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        kind, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if kind != b"form-data" or name is None:
            raise InvalidInputError("each multipart part needs a form-data name")
        self._name = name.decode("utf-8", errors="replace")
        filename = options.get(b"filename")
        self._filename = None if filename is None else filename.decode("utf-8", errors="replace")
        if self._filename is not None and len(self._files) >= self._max_files:
            raise InvalidInputError(f"send at most {self._max_files} file(s) per request")
        if self._filename is None and len(self._fields) >= self._max_fields:
            raise InvalidInputError(f"send at most {self._max_fields} form field(s)")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._filename is None and self._size > MAX_FIELD_BYTES:
            raise InvalidInputError(f"form field {self._name!r} is over 64 KiB")
        if self._size > self._limit:
            if not self._keep_oversized:
                raise too_large(self._limit)
            self._slices = []  # dropped: the file is answered as too large
            return
        self._slices.append(memoryview(data)[start:end])

    def _part_end(self) -> None:
        data = b"".join(self._slices)  # the one copy of the part's bytes
        self._slices = []
        if self._filename is None:
            try:
                self._fields[self._name] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(f"form field {self._name!r} is not UTF-8 text") from None
        elif self._size > self._limit:
            self._files.append(FilePart(self._name, self._filename, b"", oversized=True))
        elif not data:
            raise InvalidInputError(f"the uploaded file {self._filename!r} is empty")
        else:
            self._files.append(FilePart(self._name, self._filename, data))

    def _end(self) -> None:
        self._complete = True
