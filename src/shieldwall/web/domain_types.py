"""Schema types derived from the domain: its enums and the signal-type registry.

The native API's bodies use these instead of copies of the domain's values, so a new
signal type (`vpdq`) or role is added in the domain alone and the OpenAPI document,
request validation and responses follow. tests/unit/test_web_domain_types.py checks that
the document's allowed values are the domain's.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from shieldwall.signals.models import SIGNAL_TYPES

SIGNAL_TYPE_NAMES: Final = tuple(SIGNAL_TYPES)
"""The registered signal types, in registry order."""


def _registered_signal_type(name: str) -> str:
    if name not in SIGNAL_TYPES:
        raise ValueError(f"unknown signal type (known: {', '.join(SIGNAL_TYPE_NAMES)})")
    return name


SignalTypeName = Annotated[
    str,
    AfterValidator(_registered_signal_type),
    WithJsonSchema({"type": "string", "enum": list(SIGNAL_TYPE_NAMES)}),
]
"""A signal type's name, one of the registry's (`signals.models.SIGNAL_TYPES`)."""


def signal_value_fields() -> dict[str, Any]:
    """One optional hex field per registered signal type, sized by its `hex_length`."""
    return {
        name: (
            str | None,
            Field(
                default=None,
                description=f"{kind.hex_length} hex digits: {kind.description}",
                max_length=kind.hex_length,
            ),
        )
        for name, kind in SIGNAL_TYPES.items()
    }


def signal_values_model(name: str) -> type[BaseModel]:
    """A model with one optional field per registered signal type, no other fields."""
    model: type[BaseModel] = create_model(
        name, __config__=ConfigDict(extra="forbid"), **signal_value_fields()
    )
    return model
