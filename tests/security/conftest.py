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
def served_world(served_stacks) -> World:
    """The accounts with every model served by an endpoint in dev and prod (tests/support/serving.py)."""
    return World.of(served_stacks.values())


@pytest.fixture(scope="session", params=["shipped", "serving on"])
def any_world(request, world, served_world) -> World:
    """Each of the two: what holds for both holds whether or not a stack serves."""
    return world if request.param == "shipped" else served_world


@pytest.fixture(scope="session")
def before() -> World:
    return World.before()
