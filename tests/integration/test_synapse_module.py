"""The Matrix module end to end: a real Synapse (tests/support/synapse.py) with the module
of integrations/synapse loaded, a real `shieldwall serve`, and a real Matrix client
(matrix-nio). Uploads are screened before Synapse stores them; confirmed images already
posted are redacted and quarantined through Shieldwall's webhooks."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from nio import (
    AsyncClient,
    DownloadResponse,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomSendResponse,
    UploadResponse,
)
from PIL import Image

from tests.support.cli import Cli
from tests.support.edits import captioned, cut_sides, jpeg_bytes
from tests.support.images import scene
from tests.support.polling import eventually
from tests.support.server import ServerProcess, free_port
from tests.support.synapse import SynapseServer, User

SCREENED = "shieldwall_synapse_screened_total"
TAKEDOWNS = "shieldwall_synapse_takedown_actions_total"
CONFIRM = {
    "kind": "confirm",
    "action": "remove",
    "ground": "take-it-down-act",
    "facts": "The posted image is the reported one.",
}


@dataclass
class World:
    shieldwall: ServerProcess
    synapse: SynapseServer
    admin: dict[str, str]
    reviewer: dict[str, str]
    screener: dict[str, str]
    other_platform: dict[str, str]
    alice: User
    bob: User

    def api(self, method: str, path: str, key: dict[str, str], **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method, f"{self.shieldwall.url}{path}", headers=key, timeout=30, **kwargs
        )

    def bank_file(self, bank: str, content: bytes) -> int:
        added = self.api(
            "POST",
            f"/api/v1/banks/{bank}/files",
            self.admin,
            files={"files": ("photo.jpg", content, "image/jpeg")},
        )
        assert added.status_code == 201, added.text
        entry_id: int = added.json()["results"][0]["entry_id"]
        return entry_id

    def lookups(self) -> float:
        """Lookups Shieldwall has answered (its /metrics)."""
        metrics = self.api("GET", "/metrics", self.admin).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("shieldwall_lookups_total{")
        )


def _key(server: ServerProcess, admin: dict[str, str], name: str, role: str) -> tuple[int, str]:
    made = httpx.post(
        f"{server.url}/api/v1/keys", json={"name": name, "role": role}, headers=admin, timeout=10
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["token"]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Shieldwall and a Synapse on SQLite, then on PostgreSQL (the module's table on both)."""
    home = tmp_path_factory.mktemp("synapse-e2e")
    env = {**Cli(home / "shieldwall").env, "SHIELDWALL_URL_ALLOW_PRIVATE": "127.0.0.1"}
    shieldwall = ServerProcess(env)
    synapse: SynapseServer | None = None
    try:
        admin = {"X-API-Key": shieldwall.admin_key()}
        for bank, action in (("known-ncii", "block"), ("suspected", "review")):
            made = httpx.post(
                f"{shieldwall.url}/api/v1/banks",
                json={"name": bank, "action": action},
                headers=admin,
                timeout=10,
            )
            assert made.status_code == 201, made.text
        key_id, screener = _key(shieldwall, admin, "matrix.shieldwall.test", "screener")
        _, reviewer = _key(shieldwall, admin, "reviewer", "reviewer")
        _, other = _key(shieldwall, admin, "other-platform", "screener")
        port = free_port()
        endpoint = httpx.post(
            f"{shieldwall.url}/api/v1/webhooks/endpoints",
            json={
                "url": f"http://127.0.0.1:{port}/_shieldwall/webhook",
                "events": ["lookup.verdict", "sweep.copies"],
                "key_id": key_id,
            },
            headers=admin,
            timeout=10,
        )
        assert endpoint.status_code == 201, endpoint.text
        token_file = home / "synapse-admin-token"
        synapse = SynapseServer(
            home / "synapse",
            {
                "shieldwall_url": shieldwall.url,
                "api_key": screener,
                "webhook_secret": endpoint.json()["secret"],
                "admin_access_token_path": str(token_file),
            },
            postgres=request.param == "postgres",
            port=port,
        )
        synapse.start()
        token_file.write_text(synapse.register("moderator", admin=True).token, encoding="utf-8")
        yield World(
            shieldwall,
            synapse,
            admin,
            {"X-API-Key": reviewer},
            {"X-API-Key": screener},
            {"X-API-Key": other},
            synapse.register("alice"),
            synapse.register("bob"),
        )
    finally:
        if synapse is not None:
            synapse.stop()
        shieldwall.stop()


async def _client(synapse: SynapseServer, user: User) -> AsyncClient:
    client = AsyncClient(synapse.url, user.user_id)
    client.access_token = user.token
    return client


async def _upload(client: AsyncClient, content: bytes) -> Any:
    answer, _ = await client.upload(
        io.BytesIO(content),
        content_type="image/jpeg",
        filename="photo.jpg",
        filesize=len(content),
    )
    return answer


def upload(world: World, content: bytes, user: User | None = None) -> Any:
    async def run() -> Any:
        client = await _client(world.synapse, user or world.alice)
        try:
            return await _upload(client, content)
        finally:
            await client.close()

    return asyncio.run(run())


def post_image(world: World, content: bytes) -> tuple[str, str, str]:
    """Alice uploads the image and posts it in a new room Bob joined: (room, event, mxc)."""

    async def run() -> tuple[str, str, str]:
        alice = await _client(world.synapse, world.alice)
        bob = await _client(world.synapse, world.bob)
        try:
            room = await alice.room_create(name="class of 2026", invite=[world.bob.user_id])
            assert isinstance(room, RoomCreateResponse), room
            await bob.join(room.room_id)
            uploaded = await _upload(alice, content)
            assert isinstance(uploaded, UploadResponse), uploaded
            sent = await alice.room_send(
                room.room_id,
                "m.room.message",
                {
                    "msgtype": "m.image",
                    "body": "photo.jpg",
                    "url": uploaded.content_uri,
                    "info": {"mimetype": "image/jpeg", "size": len(content)},
                },
            )
            assert isinstance(sent, RoomSendResponse), sent
            return room.room_id, sent.event_id, uploaded.content_uri
        finally:
            await alice.close()
            await bob.close()

    return asyncio.run(run())


def seen_by_bob(world: World, room_id: str, event_id: str, mxc: str) -> tuple[dict[str, Any], bool]:
    """The event's content as Bob sees it, and whether the media still downloads."""

    async def run() -> tuple[dict[str, Any], bool]:
        bob = await _client(world.synapse, world.bob)
        try:
            event = await bob.room_get_event(room_id, event_id)
            assert isinstance(event, RoomGetEventResponse), event
            download = await bob.download(mxc=mxc)
            return event.event.source.get("content", {}), isinstance(download, DownloadResponse)
        finally:
            await bob.close()

    return asyncio.run(run())


def test_a_benign_upload_passes_and_downloads(world: World) -> None:
    photo = jpeg_bytes(scene(501, 1200, 900))
    before = world.lookups()
    allowed = world.synapse.metric(SCREENED, source="upload", outcome="allow")
    answer = upload(world, photo)
    assert isinstance(answer, UploadResponse), answer
    assert world.synapse.metric(SCREENED, source="upload", outcome="allow") == allowed + 1
    # Synapse made its thumbnails of the upload before answering: they were not screened.
    thumbnails = list((world.synapse.home / "media" / "local_thumbnails").rglob("*-*"))
    assert thumbnails, "Synapse made no thumbnails"
    assert world.lookups() == before + 1

    async def fetch() -> Any:
        bob = await _client(world.synapse, world.bob)
        try:
            return await bob.download(mxc=answer.content_uri)
        finally:
            await bob.close()

    downloaded = asyncio.run(fetch())
    assert isinstance(downloaded, DownloadResponse), downloaded
    assert downloaded.body == photo


def test_a_banked_image_and_its_cropped_captioned_copy_are_refused(world: World) -> None:
    original = scene(502, 640, 480)
    world.bank_file("known-ncii", jpeg_bytes(original))
    blocked = world.synapse.metric(SCREENED, source="upload", outcome="block")
    for content in (
        jpeg_bytes(original, quality=80),
        jpeg_bytes(captioned(cut_sides(original, 0.06, 0.04, 0.02, 0.0), 70)),
    ):
        answer = upload(world, content)
        assert not isinstance(answer, UploadResponse), answer
        assert answer.status_code == "M_FORBIDDEN", (answer.status_code, answer.message)
        assert "shared without consent" in answer.message
    assert "refused mxc://" in world.synapse.output()
    assert world.synapse.metric(SCREENED, source="upload", outcome="block") == blocked + 2


def test_a_withdrawn_entry_stops_blocking_within_two_seconds(world: World) -> None:
    photo = jpeg_bytes(scene(503))
    entry_id = world.bank_file("known-ncii", photo)
    assert not isinstance(upload(world, photo), UploadResponse)
    withdrawn = world.api("POST", f"/api/v1/entries/{entry_id}/withdraw", world.admin)
    assert withdrawn.status_code == 200, withdrawn.text
    eventually(
        lambda: isinstance(upload(world, photo), UploadResponse),
        timeout=2,
        interval=0.2,
        message="the withdrawn entry still blocks",
    )


def test_a_review_verdict_queues_an_item_and_confirming_it_takes_the_post_down(
    world: World,
) -> None:
    photo = jpeg_bytes(scene(504))
    world.bank_file("suspected", photo)
    room_id, event_id, mxc = post_image(world, photo)
    assert seen_by_bob(world, room_id, event_id, mxc) == (
        {
            "msgtype": "m.image",
            "body": "photo.jpg",
            "url": mxc,
            "info": {"mimetype": "image/jpeg", "size": len(photo)},
        },
        True,
    )
    queue = world.api("GET", "/api/v1/review/queue", world.reviewer).json()
    [item] = [i for i in queue if i.get("content_ref", "").startswith(mxc)]
    assert item["content_ref"] == f"{mxc}#sender={world.alice.user_id}"
    assert item["has_content"] is True
    path = f"/api/v1/review/items/{item['id']}"
    assert world.api("POST", f"{path}/claim", world.reviewer).status_code == 200
    decided = world.api("POST", f"{path}/decisions", world.reviewer, json=CONFIRM)
    assert decided.status_code == 200, decided.text

    def taken_down() -> bool:
        content, downloads = seen_by_bob(world, room_id, event_id, mxc)
        return content == {} and not downloads

    eventually(taken_down, timeout=20, interval=0.5, message="the post was not taken down")
    assert world.synapse.metric(TAKEDOWNS, action="redacted") >= 1
    assert world.synapse.metric(TAKEDOWNS, action="quarantined") >= 1
    assert world.synapse.metric(TAKEDOWNS, action="quarantine_failed") == 0


def test_a_later_confirmation_sweeps_an_image_posted_before(world: World) -> None:
    original = scene(505, 640, 480)
    room_id, event_id, mxc = post_image(world, jpeg_bytes(captioned(original, 60)))
    assert seen_by_bob(world, room_id, event_id, mxc)[1]
    # Reported later on another platform: queued there, then confirmed by a reviewer.
    world.bank_file("suspected", jpeg_bytes(original))
    queued = world.api(
        "POST",
        "/api/v1/lookup",
        world.other_platform,
        content=jpeg_bytes(original),
        params={"queue": "true", "content_ref": "https://other.example/p/1"},
    )
    assert queued.json()["verdict"] == "review", queued.text
    path = f"/api/v1/review/items/{queued.json()['review_item']['id']}"
    assert world.api("POST", f"{path}/claim", world.reviewer).status_code == 200
    assert world.api("POST", f"{path}/decisions", world.reviewer, json=CONFIRM).status_code == 200

    def taken_down() -> bool:
        content, downloads = seen_by_bob(world, room_id, event_id, mxc)
        return content == {} and not downloads

    eventually(taken_down, timeout=30, interval=0.5, message="the earlier post stayed up")
    copies = world.api("GET", "/api/v1/sweeps/copies?outcome=all", world.screener).json()
    [copy] = [c for c in copies["copies"] if c["content_ref"].startswith(mxc)]
    assert (copy["outcome"], copy["matched_by"]) == ("removed", "pdq")


def test_the_webhook_endpoint_refuses_what_shieldwall_did_not_sign(world: World) -> None:
    url = f"{world.synapse.url}/_shieldwall/webhook"
    body = b'{"event":"lookup.verdict","data":{"decision":"confirm","content_ref":"mxc://a/b"}}'
    forged = httpx.post(url, content=body, headers={"Shieldwall-Signature": "t=1,v1=00"})
    assert forged.status_code == 401
    unsigned = httpx.post(url, content=body)
    assert unsigned.status_code == 401
    assert httpx.get(url).status_code == 405


@pytest.mark.parametrize(("mode", "passes"), [("open", True), ("closed", False)])
def test_shieldwall_down_follows_the_failure_mode(tmp_path: Path, mode: str, passes: bool) -> None:
    synapse = SynapseServer(
        tmp_path / "synapse",
        {
            "shieldwall_url": f"http://127.0.0.1:{free_port()}",  # nothing listens there
            "api_key": "sw_unused",
            "failure_mode": mode,
            "timeout": 1,
        },
    )
    synapse.start()
    try:
        alice = synapse.register("alice")

        async def run() -> Any:
            client = await _client(synapse, alice)
            try:
                return await _upload(client, jpeg_bytes(scene(506)))
            finally:
                await client.close()

        answer = asyncio.run(run())
        assert isinstance(answer, UploadResponse) is passes, answer
        outcome = "unavailable_allowed" if passes else "unavailable_refused"
        assert synapse.metric(SCREENED, source="upload", outcome=outcome) == 1
        if not passes:
            assert "Try again soon" in answer.message
    finally:
        synapse.stop()


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_media_fetched_over_federation_are_screened(world: World, tmp_path: Path) -> None:
    """Two homeservers federating over TLS on loopback: the origin has no module; the
    home server screens what it fetches from the origin for its users."""
    origin = SynapseServer(tmp_path / "origin", None, federating=True)
    home = SynapseServer(
        tmp_path / "home",
        {"shieldwall_url": world.shieldwall.url, "api_key": world.screener["X-API-Key"]},
        federating=True,
    )
    origin.start()
    try:
        home.start()
        carol, alice = origin.register("carol"), home.register("alice")
        banked, suspected, benign = scene(507), scene(508), scene(509)
        world.bank_file("known-ncii", jpeg_bytes(banked))
        world.bank_file("suspected", jpeg_bytes(suspected))

        def posted_on_origin(image: Image.Image) -> str:
            answer = origin.http(
                "POST",
                "/_matrix/media/v3/upload",
                content=jpeg_bytes(image),
                headers={**carol.headers, "Content-Type": "image/jpeg"},
            )
            assert answer.status_code == 200, answer.text
            media_id: str = answer.json()["content_uri"].rsplit("/", 1)[1]
            return media_id

        def fetched_at_home(media_id: str) -> httpx.Response:
            return home.http(
                "GET",
                f"/_matrix/client/v1/media/download/{origin.server_name}/{media_id}",
                headers=alice.headers,
                timeout=30,
            )

        fine = fetched_at_home(posted_on_origin(benign))
        assert fine.status_code == 200, fine.text
        assert fine.content == jpeg_bytes(benign)
        refused_id = posted_on_origin(banked)
        assert fetched_at_home(refused_id).status_code == 404
        assert f"refused mxc://{origin.server_name}/{refused_id}" in home.output()
        assert home.metric(SCREENED, source="remote", outcome="block") == 1
        review_id = posted_on_origin(suspected)
        assert fetched_at_home(review_id).status_code == 200
        queue = world.api("GET", "/api/v1/review/queue", world.reviewer).json()
        refs = [item.get("content_ref") for item in queue]
        assert f"mxc://{origin.server_name}/{review_id}" in refs
    finally:
        home.stop()
        origin.stop()
