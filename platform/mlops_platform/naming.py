"""Deterministic names shared across stacks.

The registry is deployed before the workload roles exist, so it grants them by ARN
computed from these names (and by `aws:PrincipalArn` conditions, which accept roles
that do not exist yet, where a principal would be rejected as invalid). ARNs take their
partition from the region (`mlops_facts.arn`), so GovCloud and China stacks are right too.
"""
from __future__ import annotations

from dataclasses import dataclass

from ml import contract
from mlops_facts import arn
from mlops_facts.names import PREFIX, artifacts_bucket, data_bucket, prefix

__all__ = ["PREFIX", "ModelNames", "artifacts_bucket", "data_bucket", "model_package_group_arn", "model_packages_arn",
           "models_prefix", "pipeline_arn", "pipeline_name", "prefix", "role_arn", "role_name", "serving_roles_pattern"]


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
# Each served model's endpoint runs as its own role, `mlops-<stack>-serving-<model>`: one role per
# model, so one model's endpoint reaches no other model's versions. The purpose comes first, so
# one pattern (`mlops-dev-serving-*`) names every model's and nothing else of the stack.
SERVING = "serving"


def serving_roles_pattern(stack_role: str) -> str:
    """`mlops-<stack>-serving-*`: every served model's role name in one stack."""
    return f"{role_name(stack_role, SERVING)}-*"


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


@dataclass(frozen=True)
class ModelNames:
    """Every name one model's resources take in one stack.

    The first model (`ModelSpec.first`: the one the platform ran before models were
    configurable) keeps exactly the names, data prefixes and Pulumi logical names it had, so a
    deployed stack's URNs do not change and nothing is replaced; every other model's names carry
    its name. Prefix scoping (`mlops-dev-*`, `models/dev/*`) covers both, so no IAM document
    lists models.
    """

    stack_role: str
    model: str
    first: bool

    @property
    def prefix(self) -> str:
        """`mlops-dev` for the first model, `mlops-dev-<model>` for the others."""
        return prefix(self.stack_role) if self.first else f"{prefix(self.stack_role)}-{self.model}"

    def logical(self, name: str) -> str:
        """A Pulumi logical name: unchanged for the first model, `<model>-<name>` for the others."""
        return name if self.first else f"{self.model}-{name}"

    def pipeline_name(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    def pipeline_arn(self, region: str, account_id: str, kind: str) -> str:
        return arn("sagemaker", region, account_id, f"pipeline/{self.pipeline_name(kind)}")

    @property
    def artifacts_prefix(self) -> str:
        """Where this model's training writes in the registry bucket (under `models/<stack>/`)."""
        base = models_prefix(self.stack_role)
        return base if self.first else f"{base}/{self.model}"

    @property
    def training_data_prefix(self) -> str:
        return contract.training_data_prefix(None if self.first else self.model)

    @property
    def batch_data_prefix(self) -> str:
        return contract.batch_data_prefix(None if self.first else self.model)

    # Serving (new with real-time endpoints, so every model's names carry its name, the first's too).
    @property
    def endpoint_name(self) -> str:
        """`mlops-dev-<model>`: the model's real-time endpoint (SageMaker allows 63 characters)."""
        return f"{prefix(self.stack_role)}-{self.model}"

    @property
    def capture_prefix(self) -> str:
        """Where the endpoint's data capture writes requests and responses, in the data bucket."""
        return f"{CAPTURE_PREFIX}{self.model}/"

    @property
    def serving_role_name(self) -> str:
        """`mlops-dev-serving-<model>`: the role the model's endpoint runs as (IAM allows 64 characters)."""
        return f"{role_name(self.stack_role, SERVING)}-{self.model}"

    def serving_role_arn(self, region: str, account_id: str) -> str:
        return arn("iam", region, account_id, f"role/{self.serving_role_name}")

    @property
    def endpoint_alarm_names(self) -> tuple[str, ...]:
        """The alarms that roll a rollout of the endpoint back (`<endpoint>-errors`, `-latency`)."""
        return tuple(f"{self.endpoint_name}-{kind}" for kind in ENDPOINT_ALARMS)


# Data capture of every endpoint, by model, in a workload's data bucket.
CAPTURE_PREFIX = "capture/"
# What the alarms of an endpoint watch (components/model_endpoint.py): each rolls a rollout back.
ENDPOINT_ALARMS = ("errors", "latency")
