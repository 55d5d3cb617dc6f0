"""The policy pack's rules are imported from policy/ (the pack's directory, not a package of
the project), and the three stacks' session fixtures come from tests/support/stack_fixtures.py."""
from __future__ import annotations

import sys

import pytest

from tests.policy.pack_venv import POLICY_DIR

if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

from tests.policy.adapter import context_for, resources_of  # noqa: E402


@pytest.fixture(scope="session")
def stack_views(stacks):
    """{stack: (resources as the pack sees them, stack context from the real config)}."""
    registry_outputs = stacks["registry"].outputs
    return {name: (resources_of(run, registry_outputs), context_for(name)) for name, run in stacks.items()}


@pytest.fixture(scope="session")
def served_views(served_stacks):
    """The same, for the stacks that serve every model by endpoint (tests/support/serving.py)."""
    registry_outputs = served_stacks["registry"].outputs
    return {name: (resources_of(run, registry_outputs), context_for(name)) for name, run in served_stacks.items()}
