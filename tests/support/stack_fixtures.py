"""Session fixtures: each stack run once per session from its real config files.

Registered for the whole suite by tests/conftest.py (`pytest_plugins`), so test packages
share them without importing one another's conftest."""
from __future__ import annotations

import pytest

from tests.support.stacks import StackRun, run_stack


@pytest.fixture(scope="session")
def registry() -> StackRun:
    return run_stack("registry")


@pytest.fixture(scope="session")
def dev(registry) -> StackRun:
    return run_stack("dev", registry_outputs=registry.outputs)


@pytest.fixture(scope="session")
def prod(registry) -> StackRun:
    return run_stack("prod", registry_outputs=registry.outputs)


@pytest.fixture(scope="session")
def stacks(registry, dev, prod) -> dict[str, StackRun]:
    return {"registry": registry, "dev": dev, "prod": prod}
