"""A real Synapse homeserver for the Matrix module's end-to-end tests: started on a free
loopback port with SQLite, federation off and registration by shared secret, from its own
environment (`.venv-synapse`, made by `make synapse-env`: Synapse's pins are its own), with
the Shieldwall module (integrations/synapse) loaded."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import signal
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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
disable_existing_loggers: false
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


def _federation(home: Path) -> dict[str, Any]:
    """What a homeserver named by its loopback address and port needs to federate with
    another such: TLS on its listener (a self-signed certificate, not verified by the
    other) and loopback allowed as a federation destination (test set-ups only)."""
    certificate, key = self_signed_certificate(home)
    return {
        "tls_certificate_path": str(certificate),
        "tls_private_key_path": str(key),
        "federation_verify_certificates": False,
        # Server names that are IP literals are checked against this list only (Synapse
        # applies no allow-list to them): empty, so loopback may be reached.
        "federation_ip_range_blacklist": [],
    }


def _homeserver_config(
    home: Path,
    port: int,
    metrics_port: int,
    module: dict[str, Any] | None,
    postgres_database: str | None,
    federating: bool,
) -> dict[str, Any]:
    scheme = "https" if federating else "http"
    resources = ["client", "federation"] if federating else ["client"]
    return {
        "server_name": f"127.0.0.1:{port}" if federating else SERVER_NAME,
        "public_baseurl": f"{scheme}://127.0.0.1:{port}/",
        "pid_file": str(home / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": federating,
                "x_forwarded": False,
                "resources": [{"names": resources, "compress": False}],
            },
            {"port": metrics_port, "bind_addresses": ["127.0.0.1"], "type": "metrics"},
        ],
        "enable_metrics": True,
        **(_federation(home) if federating else {"federation_domain_whitelist": []}),
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
        "enable_registration": False,
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "rc_message": _GENEROUS,
        "rc_login": {"address": _GENEROUS, "account": _GENEROUS, "failed_attempts": _GENEROUS},
        "rc_registration": _GENEROUS,
        "rc_admin_redaction": _GENEROUS,
        "rc_media_create": _GENEROUS,
        "rc_room_creation": _GENEROUS,
        "rc_federation": {"window_size": 1000, "sleep_limit": 1000, "reject_limit": 1000},
        "rc_remote_media_downloads": {"per_second": 1000, "burst_count": 1000},
        "modules": []
        if module is None
        else [{"module": "shieldwall_synapse.ShieldwallModule", "config": module}],
    }


def self_signed_certificate(home: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written into `home`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = home / "tls.crt", home / "tls.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


@dataclass
class User:
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class SynapseServer:
    """One Synapse process; `start` waits until it answers, `stop` ends it."""

    def __init__(
        self,
        home: Path,
        module: dict[str, Any] | None,
        *,
        postgres: bool = False,
        port: int | None = None,
        federating: bool = False,
    ) -> None:
        """`module`: the Shieldwall module's config (None: no module); `federating`: named
        `127.0.0.1:<port>` and reachable over TLS by another such server (otherwise
        `shieldwall.test`, federation off)."""
        assert SYNAPSE_PYTHON.exists(), (
            f"{SYNAPSE_PYTHON} is missing: `make synapse-env` installs Synapse and the module"
        )
        self.home = home
        self.port = port or free_port()
        self.federating = federating
        self.metrics_port = free_port()
        self.server_name = f"127.0.0.1:{self.port}" if federating else SERVER_NAME
        self.url = f"{'https' if federating else 'http'}://127.0.0.1:{self.port}"
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
        config = _homeserver_config(
            self.home,
            self.port,
            self.metrics_port,
            self.module,
            self.postgres_database,
            self.federating,
        )
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
            return self.http("GET", "/health", timeout=2).status_code == 200
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

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request to this server (its self-signed certificate is not checked)."""
        kwargs.setdefault("timeout", 10)
        return httpx.request(method, f"{self.url}{path}", verify=False, **kwargs)

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a Prometheus series' samples whose labels include `labels`."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            series, _, value = line.rpartition(" ")
            if not series.startswith(name + "{"):
                continue
            if all(f'{key}="{wanted}"' in series for key, wanted in labels.items()):
                total += float(value)
        return total

    def register(self, localpart: str, *, admin: bool = False) -> User:
        """A user registered through the shared-secret admin API."""
        endpoint = "/_synapse/admin/v1/register"
        nonce = self.http("GET", endpoint).json()["nonce"]
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
        answer = self.http(
            "POST",
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
