"""The stacks the workflow tests check the workflows against, each run once per session."""
from __future__ import annotations

import pytest

from tests.support.stacks import StackRun, run_stack


@pytest.fixture(scope="session")
def registry() -> StackRun:
    return run_stack("registry")
