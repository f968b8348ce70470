"""`/docs`: the API's OpenAPI document in Swagger UI, every asset served by the service.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script, on
the same origin as the victims' pages. Here the assets come from the installed
`fastapi-offline` package (no CDN, no network), the start-up script is a file of ours,
and the page has a Content-Security-Policy that allows only this origin's scripts.
The setting `api_docs = false` turns the page off.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
"""Swagger UI sets style attributes from script; nothing else may come from elsewhere."""
ASSETS: Final = "/docs/assets"


def _swagger_assets() -> Path:
    """The folder of Swagger UI files inside the installed fastapi-offline package."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)} - API documentation</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" href="{ASSETS}/favicon.png">
</head>
<body data-openapi="{html.escape(openapi_url)}">
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Serve /docs, its assets and its start-up script from this service only."""
    router = APIRouter(include_in_schema=False)
    page = _page(app.title, openapi_url)
    init_script = resources.files("shieldwall.web") / "static" / "docs" / "init.js"

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get("/docs/init.js")
    def init() -> Response:
        return Response(
            init_script.read_text(encoding="utf-8"),
            media_type="text/javascript",
            headers={"Content-Security-Policy": DOCS_CSP},
        )

    app.mount(ASSETS, StaticFiles(directory=str(_swagger_assets())), name="docs-assets")
    app.include_router(router)
    app.state.api_docs = True  # the home page links to /docs only when it is there
