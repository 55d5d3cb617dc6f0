"""Names of what the stacks create that another party must compute without reading outputs.

The registry grants workload roles by ARN before they exist, the pipelines and the policy pack
check bucket names: each name is built here only.
"""
from __future__ import annotations

PREFIX = "mlops"


def prefix(stack_role: str) -> str:
    """Name prefix of everything one stack creates, e.g. `mlops-dev`."""
    return f"{PREFIX}-{stack_role}"


def data_bucket(stack_role: str, account_id: str, region: str) -> str:
    """A workload stack's data bucket: datasets, pipeline outputs (globally unique by account and region)."""
    return f"{prefix(stack_role)}-data-{account_id}-{region}"


def artifacts_bucket(account_id: str, region: str) -> str:
    """The registry's artifacts bucket: every registered model's files."""
    return f"{prefix('registry')}-artifacts-{account_id}-{region}"
