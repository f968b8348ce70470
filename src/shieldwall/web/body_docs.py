"""The one way to document a request body that a route reads itself (after its limits).

Routes that read their own bodies (uploads, CSV, bodies read only after a rate limit)
cannot let FastAPI derive the OpenAPI requestBody, so they describe it with these helpers.
A JSON body names its pydantic model, and `add_body_schemas` puts that model in the
document's components, so every `$ref` resolves.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from shieldwall.access.models import Capability
from shieldwall.web.security import guarded

COMPONENTS: Final = "#/components/schemas/"
_BODY_MODELS: dict[str, type[BaseModel]] = {}
"""Models named by hand-documented bodies, added to every document's components."""

BINARY: Final[dict[str, Any]] = {"schema": {"type": "string", "format": "binary"}}
TEXT: Final[dict[str, Any]] = {"schema": {"type": "string"}}


def json_model(model: type[BaseModel]) -> dict[str, Any]:
    """A media type entry whose schema is `model` (added to the document's components)."""
    _BODY_MODELS[model.__name__] = model
    return {"schema": {"$ref": f"{COMPONENTS}{model.__name__}"}}


def multipart_files(
    field: str, *, many: bool = False, description: str | None = None
) -> dict[str, Any]:
    """A `multipart/form-data` entry with one file (or, with `many`, files) in `field`."""
    file: dict[str, Any] = {"type": "string", "format": "binary"}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {field: {"type": "array", "items": file} if many else file},
        "required": [field],
    }
    if description:
        schema["description"] = description
    return {"multipart/form-data": {"schema": schema}}


def body_schema(content: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An OpenAPI requestBody: required, of these media types."""
    return {"required": True, "content": content}


def request_body(content: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`openapi_extra` for a required body of these media types."""
    return {"requestBody": body_schema(content)}


def guarded_with_body(capability: Capability, content: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Route keyword arguments: guarded by `capability`, with a hand-documented body."""
    kwargs = guarded(capability)
    kwargs["openapi_extra"] = {**kwargs["openapi_extra"], **request_body(content)}
    return kwargs


def add_body_schemas(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with every model named by a hand-documented body in its components."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, model in _BODY_MODELS.items():
        schema = model.model_json_schema(ref_template=COMPONENTS + "{model}")
        for nested, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(nested, definition)
        schemas.setdefault(name, schema)
    return doc
