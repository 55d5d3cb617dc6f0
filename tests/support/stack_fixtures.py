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


@pytest.fixture(scope="session")
def served_stacks() -> dict[str, StackRun]:
    """The three stacks with every model served by an endpoint, pinned in dev and prod
    (tests/support/serving.py); the shipped files serve nothing."""
    from tests.support.serving import served_config
    from tests.support.stacks import stack_config

    def run(stack: str, registry_outputs=None) -> StackRun:
        config, secret_keys = stack_config(stack)
        return run_stack(stack, config=served_config(config, stack), secret_keys=secret_keys,
                         registry_outputs=registry_outputs)

    registry = run("registry")
    return {"registry": registry, **{s: run(s, registry.outputs) for s in ("dev", "prod")}}
