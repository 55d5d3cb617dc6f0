"""Deterministic names shared across stacks.

The registry is deployed before the workload roles exist, so it grants them by ARN
computed from these names (and by `aws:PrincipalArn` conditions, which accept roles
that do not exist yet, where a principal would be rejected as invalid). ARNs take their
partition from the region (`mlops_facts.arn`), so GovCloud and China stacks are right too.
"""
from __future__ import annotations

from mlops_facts import arn
from mlops_facts.names import PREFIX, artifacts_bucket, data_bucket, prefix

__all__ = ["PREFIX", "artifacts_bucket", "data_bucket", "model_package_group_arn", "model_packages_arn",
           "models_prefix", "pipeline_arn", "pipeline_name", "prefix", "role_arn", "role_name"]


def role_name(stack_role: str, purpose: str) -> str:
    return f"{prefix(stack_role)}-{purpose}"


def role_arn(region: str, account_id: str, stack_role: str, purpose: str) -> str:
    return arn("iam", region, account_id, f"role/{role_name(stack_role, purpose)}")


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
    return arn("sagemaker", region, account_id, f"pipeline/{pipeline_name(stack_role, kind)}")


def model_package_group_arn(region: str, account_id: str, group: str) -> str:
    return arn("sagemaker", region, account_id, f"model-package-group/{group}")


def model_packages_arn(region: str, account_id: str, group: str) -> str:
    """Every version in the group (model-package/<group>/<version>)."""
    return arn("sagemaker", region, account_id, f"model-package/{group}/*")


def models_prefix(stack_role: str) -> str:
    """Where a workload stack's training pipeline writes model artifacts in the registry bucket."""
    return f"models/{stack_role}"
