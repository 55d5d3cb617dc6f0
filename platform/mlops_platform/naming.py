"""Deterministic names shared across stacks.

The registry is deployed before the workload roles exist, so it grants them by ARN
computed from these names (and by `aws:PrincipalArn` conditions, which accept roles
that do not exist yet, where a principal would be rejected as invalid).
"""
from __future__ import annotations

PREFIX = "mlops"


def prefix(stack_role: str) -> str:
    """Name prefix of everything one stack creates, e.g. `mlops-dev`."""
    return f"{PREFIX}-{stack_role}"


def role_name(stack_role: str, purpose: str) -> str:
    return f"{prefix(stack_role)}-{purpose}"


def role_arn(account_id: str, stack_role: str, purpose: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name(stack_role, purpose)}"


# Role purposes: one role per job, each with only what that job needs.
SAGEMAKER_EXECUTION = "sagemaker-execution"
MODEL_LOOKUP_LAMBDA = "model-lookup-lambda"
RETRAIN_GATE_LAMBDA = "retrain-gate-lambda"
EVENTS_INVOKE = "events-invoke"
GITHUB_DEPLOY = "github-deploy"
GITHUB_PREVIEW = "github-preview"
MODEL_APPROVER = "github-model-approver"

# Workload roles the registry trusts with its artifacts, key and model package group.
REGISTRY_CONSUMERS = (SAGEMAKER_EXECUTION, MODEL_LOOKUP_LAMBDA)


def pipeline_name(stack_role: str, kind: str) -> str:
    """`mlops-dev-training`, `mlops-prod-inference`, ..."""
    return f"{prefix(stack_role)}-{kind}"


def pipeline_arn(region: str, account_id: str, stack_role: str, kind: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account_id}:pipeline/{pipeline_name(stack_role, kind)}"


def model_package_group_arn(region: str, account_id: str, group: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account_id}:model-package-group/{group}"


def model_packages_arn(region: str, account_id: str, group: str) -> str:
    """Every version in the group (model-package/<group>/<version>)."""
    return f"arn:aws:sagemaker:{region}:{account_id}:model-package/{group}/*"


def models_prefix(stack_role: str) -> str:
    """Where a workload stack's training pipeline writes model artifacts in the registry bucket."""
    return f"models/{stack_role}"
