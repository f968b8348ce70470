"""Every capability is checked by some route: none stands in the matrix for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shieldwall.access.models import Capability
from shieldwall.app import Services
from shieldwall.web.app import create_app
from tests.support.services import make_services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = make_services(tmp_path)
    yield built
    built.close()


def test_every_capability_guards_a_documented_operation(services: Services) -> None:
    document = create_app(services).openapi()
    checked = {
        operation["x-capability"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "x-capability" in operation
    }
    assert checked == {capability.value for capability in Capability}
