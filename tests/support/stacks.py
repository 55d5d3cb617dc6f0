"""The program under mocks, for tests: the product's own offline runner."""
from mlops_platform.offline.runner import (  # noqa: F401
    STACKS,
    Registered,
    StackRun,
    encode,
    run_stack,
    stack_config,
)
