"""A real Synapse homeserver for the Matrix module's end-to-end tests: started on a free
loopback port with SQLite, federation off and registration by shared secret, from its own
environment (`.venv-synapse`, made by `make synapse-env`: Synapse's pins are its own), with
the Shieldwall module (integrations/synapse) loaded."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.support.polling import eventually
from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SYNAPSE_PYTHON = ROOT / ".venv-synapse" / "bin" / "python"
SERVER_NAME = "shieldwall.test"
SHARED_SECRET = "registration-secret-for-tests"
# Synapse on PostgreSQL gets a database of its own on the machine's server (trust auth).
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

_LOG_CONFIG = """\
version: 1
formatters:
  plain:
    format: '%(asctime)s %(levelname)s %(name)s %(message)s'
handlers:
  file:
    class: logging.FileHandler
    filename: {log}
    formatter: plain
loggers:
  shieldwall_synapse: {{level: INFO}}
  synapse.storage.SQL: {{level: WARNING}}
root:
  level: WARNING
  handlers: [file]
"""

_GENEROUS = {"per_second": 1000, "burst_count": 1000}


def _database(home: Path, postgres_database: str | None) -> dict[str, Any]:
    if postgres_database is None:
        return {"name": "sqlite3", "args": {"database": str(home / "homeserver.db")}}
    args = {"user": "postgres", "host": "127.0.0.1", "port": 5432, "cp_min": 1, "cp_max": 4}
    return {"name": "psycopg2", "args": {**args, "database": postgres_database}}


def _homeserver_config(
    home: Path, port: int, module: dict[str, Any], postgres_database: str | None
) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(home / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": _database(home, postgres_database),
        "log_config": str(home / "log.yaml"),
        "media_store_path": str(home / "media"),
        "signing_key_path": str(home / "signing.key"),
        "registration_shared_secret": SHARED_SECRET,
        "macaroon_secret_key": "macaroons-for-tests",
        "form_secret": "forms-for-tests",
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "enable_registration": False,
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "rc_message": _GENEROUS,
        "rc_login": {"address": _GENEROUS, "account": _GENEROUS, "failed_attempts": _GENEROUS},
        "rc_registration": _GENEROUS,
        "rc_admin_redaction": _GENEROUS,
        "rc_media_create": _GENEROUS,
        "rc_room_creation": _GENEROUS,
        "modules": [{"module": "shieldwall_synapse.ShieldwallModule", "config": module}],
    }


@dataclass
class User:
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class SynapseServer:
    """One Synapse process; `start` waits until it answers, `stop` ends it."""

    def __init__(self, home: Path, module: dict[str, Any], *, postgres: bool = False) -> None:
        assert SYNAPSE_PYTHON.exists(), (
            f"{SYNAPSE_PYTHON} is missing: `make synapse-env` installs Synapse and the module"
        )
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.module = module
        self.process: subprocess.Popen[bytes] | None = None
        self.postgres_database = f"synapse_{secrets.token_hex(4)}" if postgres else None
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / "homeserver.log"
        (home / "log.yaml").write_text(_LOG_CONFIG.format(log=self.log), encoding="utf-8")

    @property
    def config_path(self) -> Path:
        return self.home / "homeserver.yaml"

    def start(self) -> None:
        if self.postgres_database is not None:
            self._postgres(
                f"CREATE DATABASE {self.postgres_database} ENCODING 'UTF8' LC_COLLATE 'C' "
                "LC_CTYPE 'C' TEMPLATE template0"
            )
        config = _homeserver_config(self.home, self.port, self.module, self.postgres_database)
        # JSON is YAML: Synapse reads it as its config file.
        self.config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
        command = [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(self.config_path)]
        if not (self.home / "signing.key").exists():
            subprocess.run([*command, "--generate-keys"], check=True, capture_output=True)
        with (self.home / "stderr.log").open("ab") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        eventually(self._answers, timeout=60, interval=0.1, message="Synapse did not start")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"Synapse exited:\n{self.output()}")
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        parts = [self.home / "stderr.log", self.log]
        return "\n".join(p.read_text(errors="replace")[-6000:] for p in parts if p.exists())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.postgres_database is not None:
            self._postgres(f"DROP DATABASE IF EXISTS {self.postgres_database} WITH (FORCE)")

    @staticmethod
    def _postgres(statement: str) -> None:
        with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5) as connection:
            connection.execute(statement.encode())

    def register(self, localpart: str, *, admin: bool = False) -> User:
        """A user registered through the shared-secret admin API."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint, timeout=10).json()["nonce"]
        password = f"{localpart}-password"
        message = b"\x00".join(
            [
                nonce.encode(),
                localpart.encode(),
                password.encode(),
                b"admin" if admin else b"notadmin",
            ]
        )
        mac = hmac.new(SHARED_SECRET.encode(), message, hashlib.sha1).hexdigest()
        answer = httpx.post(
            endpoint,
            json={
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac,
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return User(body["user_id"], body["access_token"])
