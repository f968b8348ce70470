"""Property-based API test: Schemathesis generates requests from `/openapi.json`.

Every operation gets a bounded, reproducible run (derandomized, a fixed number of examples:
`SHIELDWALL_FUZZ_EXAMPLES`) with an admin key, and every answer must be no server error,
carry a status the document declares, and match the declared response schema.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from shieldwall.access.models import Role
from shieldwall.app import build_services
from shieldwall.config import load_settings
from shieldwall.web.app import create_app

EXAMPLES_PER_OPERATION: Final = int(os.environ.get("SHIELDWALL_FUZZ_EXAMPLES", "25"))
"""Bounded for CI; raise it (e.g. SHIELDWALL_FUZZ_EXAMPLES=500) for a deeper local run."""
CHECKS: Final = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _build_app() -> tuple[FastAPI, str, int]:
    """An app over a fresh SQLite file with one bank and an admin key for the fuzzer."""
    home = Path(tempfile.mkdtemp(prefix="shieldwall-fuzz-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    unlimited = {f"rate_{role.value}": "1000000/1000000" for role in Role}
    settings_ = load_settings(
        config_file=home / "absent.toml",
        environ={},
        overrides={"home": str(home), "database_url": f"sqlite:///{home / 'f.db'}", **unlimited},
    )
    services = build_services(settings_)
    services.banks.create_bank("known", 31, "block", [])
    issued = services.access.issue_key("fuzzer", Role.ADMIN)
    return create_app(services), issued.token, issued.key.id


def _started_once(app: FastAPI) -> ASGIApp:
    """The app with its lifespan run once, for the whole module, and the index loaded.

    Schemathesis calls an ASGI app through a test client per request, which would run the
    lifespan (load the index, then close everything) around every call.
    """
    client = TestClient(app)
    client.__enter__()
    atexit.register(client.__exit__, None, None, None)
    deadline = time.monotonic() + 60
    while client.get("/status/ready").status_code != 200:
        assert time.monotonic() < deadline, "the index did not load"
        time.sleep(0.05)

    async def without_lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:  # already started: acknowledge start-up and shutdown, do nothing
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            if message["type"] == "lifespan.shutdown":
                return

    return without_lifespan


# Bank imports take JSON lines as text; send generated strings as they are.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
APP, TOKEN, ADMIN_KEY_ID = _build_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", _started_once(APP))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
def test_api_answers_within_its_contract(case: schemathesis.Case[Any]) -> None:
    # The fuzzer's own key must survive DELETE /api/v1/keys/{key_id}.
    if case.path_parameters and str(case.path_parameters.get("key_id")) == str(ADMIN_KEY_ID):
        case.path_parameters["key_id"] = ADMIN_KEY_ID + 1_000_000
    case.call_and_validate(headers={"X-API-Key": TOKEN}, checks=CHECKS)
