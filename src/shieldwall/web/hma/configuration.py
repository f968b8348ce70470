"""HMA's small discovery routes: `/c/signal_type`, `/c/content_type` and `/site-map`.

HMA clients read them to learn what a deployment hashes and which routes it has. The
answers are fixed by what Shieldwall is (no per-deployment switches): every signal type
in the registry is enabled for photos; video is a content type HMA knows and Shieldwall
does not hash yet, listed as disabled (as `/h/hash` says when asked for it).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request

from shieldwall.access.models import Capability
from shieldwall.web.hma.names import CONTENT_TYPES, SIGNAL_TYPE_NAMES
from shieldwall.web.hma.routing import HmaRoute, hma_route
from shieldwall.web.paths import is_hma_path

router = APIRouter(tags=["hma"], route_class=HmaRoute)
DISABLED_CONTENT_TYPES: Final = ("video",)
"""HMA content types Shieldwall does not hash."""


@router.get(
    "/c/signal_type",
    summary="HMA: the signal types and their enabled ratio",
    **hma_route(Capability.READ_BANKS),
)
def signal_types() -> list[dict[str, Any]]:
    """`[{"name": "pdq", "enabled_ratio": 1.0}, ...]`: every type Shieldwall matches."""
    return [{"name": name, "enabled_ratio": 1.0} for name in SIGNAL_TYPE_NAMES]


@router.get(
    "/c/content_type",
    summary="HMA: the content types and whether each is enabled",
    **hma_route(Capability.READ_BANKS),
)
def content_types() -> list[dict[str, Any]]:
    """`[{"name": "photo", "enabled": true}, {"name": "video", "enabled": false}]`."""
    enabled = [{"name": name, "enabled": True} for name in CONTENT_TYPES]
    return enabled + [{"name": name, "enabled": False} for name in DISABLED_CONTENT_TYPES]


@router.get(
    "/site-map",
    summary="HMA: the HMA-compatible routes, sorted",
    **hma_route(Capability.ANY_KEY),
)
def site_map(request: Request) -> list[str]:
    """The paths of the HMA-compatible routes, as HMA's `/site-map` lists its own."""
    # The OpenAPI document (built once, cached) lists every route of included routers.
    documented: dict[str, Any] = request.app.openapi().get("paths", {})
    return sorted(path for path in documented if is_hma_path(path))
