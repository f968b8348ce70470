"""Fuzzing the JSON and text bodies of HTTP routes through the ASGI app: no 5xx, ever.

An input's first byte picks the route (modulo their number) and the rest is the body, so
every mutant reaches some route. Routes: HMA's curation bodies, the victims' API (reports,
status, withdrawal), native lookups, entries and imports.
"""

from __future__ import annotations

import atexit
import json
from pathlib import Path
from typing import Final

from fastapi.testclient import TestClient

from shieldwall.access.models import Role
from shieldwall.app import build_services
from shieldwall.config import load_settings
from shieldwall.web.app import create_app
from tests.support.fuzz_seeds import MD5, PDQ, SHA256, report_dict
from tests.support.fuzzing import Target

ROUTES: Final = (
    "POST /c/banks",
    "PUT /c/bank/KNOWN",
    "POST /c/bank/KNOWN/signal",
    "PUT /c/bank/KNOWN/content/1",
    "POST /protect/api/cases",
    "POST /protect/api/status",
    "POST /protect/api/withdraw",
    "POST /protect/api/enrolments",
    "POST /protect/api/enrolments/status",
    "POST /protect/api/enrolments/withdraw",
    "POST /api/v1/lookup/signals",
    "POST /api/v1/lookup/batch",
    "POST /api/v1/banks/known/entries",
    "POST /api/v1/banks/known/import",
)
TOKENS: Final = (b"null", b"{}", b"[]", b'"', b"1e999", b"-1", b"NaN", b"[" * 3000, b"\xff")


class ServerError(Exception):
    """A route answered 5xx: the crash this target looks for."""


def http_target(folder: Path) -> Target:
    """The routes above on a fresh SQLite server in `folder`, with an admin key."""
    unlimited = {f"rate_{role.value}": "1000000/1000000" for role in Role}
    settings = load_settings(
        config_file=folder / "absent.toml",
        environ={},
        overrides={
            "home": str(folder / "http"),
            "database_url": f"sqlite:///{folder / 'http.db'}",
            "protect_file_limit": "1000000/1000000",
            "protect_read_limit": "1000000/1000000",
            **unlimited,
        },
    )
    services = build_services(settings)
    services.banks.create_bank("known", 31, "block", [])
    token = services.access.issue_key("fuzzer", Role.ADMIN).token
    client = TestClient(create_app(services))
    client.__enter__()
    atexit.register(client.__exit__, None, None, None)
    headers = {"X-API-Key": token, "content-type": "application/json"}
    filed = client.post("/protect/api/cases", json=report_dict(), headers=headers)
    assert filed.status_code == 201, f"the seed report was refused: {filed.text}"

    def run(data: bytes) -> str:
        if not data:
            return "empty"
        route, body = ROUTES[data[0] % len(ROUTES)], data[1:]
        method, path = route.split(" ")
        sent = headers if not path.endswith("/import") else {**headers, "content-type": "text"}
        answer = client.request(method, path, content=body, headers=sent)
        if answer.status_code >= 500:
            raise ServerError(f"{answer.status_code} from {route}: {answer.text[:200]}")
        return f"{answer.status_code} {route}"

    key = {"case_number": filed.json()["case_number"], "secret": filed.json()["secret"]}
    bodies = {
        "POST /c/banks": {"name": "NEW_BANK", "enabled_ratio": 1.0},
        "PUT /c/bank/KNOWN": {"enabled_ratio": 0.0, "enabled": True},
        "POST /c/bank/KNOWN/signal": {"pdq": PDQ, "sha256": SHA256},
        "PUT /c/bank/KNOWN/content/1": {"disable_until_ts": 0, "note": "n", "metadata": {}},
        "POST /protect/api/status": key,
        "POST /protect/api/withdraw": key,
        "POST /protect/api/enrolments": {
            "enrollee": "self",
            "statements": ["own_face", "purpose", "review", "withdraw"],
            "templates": [[0.088] * 128],
        },
        "POST /protect/api/enrolments/status": {"enrolment_number": "EN-0000-0000", "secret": "x"},
        "POST /protect/api/enrolments/withdraw": {
            "enrolment_number": "EN-0000-0000",
            "secret": "x",
        },
        "POST /api/v1/lookup/signals": {"pdq": PDQ, "sha256": SHA256},
        "POST /api/v1/lookup/batch": {"items": [{"pdq": PDQ}, {"sha256": SHA256}]},
        "POST /api/v1/banks/known/entries": {
            "entries": [{"signals": [{"type": "pdq", "value": PDQ, "quality": 90}], "note": "x"}]
        },
    }
    bodies["POST /protect/api/cases"] = report_dict()
    seeds = [_pick(route) + json.dumps(body).encode() for route, body in bodies.items()]
    seeds.append(_pick("POST /api/v1/banks/known/import") + f"pdq {PDQ}\nmd5 {MD5}\n".encode())
    return Target("http-bodies", run, tuple(seeds), (), TOKENS)


def _pick(route: str) -> bytes:
    """The first byte of an input for `route`."""
    return bytes([ROUTES.index(route)])
