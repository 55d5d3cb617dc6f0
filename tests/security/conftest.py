"""The accounts as the program describes them today, and as they were before issue 10."""
from __future__ import annotations

import pytest

from tests.security.world import World
from tests.support.stacks import run_stack


@pytest.fixture(scope="session")
def runs():
    registry = run_stack("registry")
    return {"registry": registry, **{s: run_stack(s, registry_outputs=registry.outputs) for s in ("dev", "prod")}}


@pytest.fixture(scope="session")
def world(runs) -> World:
    return World.of(runs.values())


@pytest.fixture(scope="session")
def before() -> World:
    return World.before()
