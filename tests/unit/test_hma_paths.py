"""web/paths.py: duplicate slashes and the `/hma/<key>/` base path, on ASGI scopes."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from shieldwall.web.logs import scrub
from shieldwall.web.paths import collapse_slashes, move_key_to_header


def _scope(raw: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "path": unquote(raw.decode("latin-1")),
        "raw_path": raw,
        "headers": headers or [],
    }


def test_runs_of_slashes_collapse_in_path_and_raw_path() -> None:
    scope = collapse_slashes(_scope(b"//c///bank//A%2FB"))
    assert scope["path"] == "/c/bank/A/B"
    assert scope["raw_path"] == b"/c/bank/A%2FB"
    untouched = _scope(b"/c/banks")
    assert collapse_slashes(untouched) is untouched


def test_the_key_moves_from_the_path_into_the_key_header() -> None:
    scope = move_key_to_header(
        _scope(b"/hma/sw_1_abc/c/bank/X%20Y", [(b"X-API-Key", b"other"), (b"accept", b"*/*")])
    )
    assert scope["path"] == "/c/bank/X Y"
    assert scope["raw_path"] == b"/c/bank/X%20Y"
    assert scope["headers"] == [(b"accept", b"*/*"), (b"x-api-key", b"sw_1_abc")]


def test_an_encoded_slash_in_the_key_keeps_path_and_raw_path_in_step() -> None:
    scope = move_key_to_header(_scope(b"/hma/a%2Fc/banks"))  # decoded: /hma/a/c/banks
    assert (scope["path"], scope["raw_path"]) == ("/c/banks", b"/c/banks")
    assert scope["headers"] == [(b"x-api-key", b"a")]


def test_only_hma_paths_are_rewritten() -> None:
    for raw in (b"/hma/k/api/v1/banks", b"/hma/k", b"/hma/k/", b"/hma/k/statusx", b"/c/banks"):
        scope = _scope(raw)
        assert move_key_to_header(scope) is scope, raw
    for raw in (b"/hma/k/status", b"/hma/k/site-map", b"/hma/k/h/hash", b"/hma/k/m/lookup"):
        assert move_key_to_header(_scope(raw))["headers"] == [(b"x-api-key", b"k")], raw


def test_log_scrubbing_hides_every_key_path_spelling() -> None:
    line = '"GET //hma//sw_1_secret//c/banks?x=1 HTTP/1.1" and /HMA/sw_2_other and /hma/k"'
    scrubbed = scrub(line)
    for secret in ("secret", "other", "/hma/k"):
        assert secret not in scrubbed
    assert scrubbed.count("/hma/<redacted>") == 3
    assert scrub("/c/banks and /hmac/x") == "/c/banks and /hmac/x"
