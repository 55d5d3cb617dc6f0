"""The drift -> retraining rules as data: EventBridge patterns and the rule set (the retrain
gate's own settings: ml/retrain_gate_settings.py).

The Pulumi program creates the rules from these functions, so this module is the single
source of truth for what each rule matches. All functions are pure: same input, same
JSON-serializable output, no AWS call.

Which events each rule sees, per workload account:

- inference pipeline, drift: the step-status event of the drift fail step with status
  Failed -> the retrain gate Lambda (ml/lambdas/retrain_gate.py).
- inference pipeline, other failures: step-status Failed of any *other* step -> SNS.
  Step-level on purpose: when the drift FailStep runs, the execution also ends Failed,
  and the execution-status event carries no reason, so an execution-level rule would
  report every drift as a pipeline failure.
- the live-drift pipeline of a model an endpoint serves (ml/pipelines/live_drift.py): the same
  two rules match it too (its drift fail step has the same name), so live drift retrains
  through the same gate and lease as batch drift; without an endpoint the rules are exactly the
  batch pipeline's.
- training pipeline: execution-status Failed -> SNS. One message per failed execution,
  whichever step failed (including the AUC-threshold fail step), none per step.

Pipeline ARNs are matched ignoring case: SageMaker writes pipeline names in lower case in
ARNs, so an ARN assembled from a mixed-case name would otherwise never match.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ml import contract
from ml.lambdas import retrain_gate as _gate

SAGEMAKER_SOURCE = _gate.SAGEMAKER_SOURCE
STEP_STATUS_DETAIL_TYPE = _gate.STEP_STATUS_DETAIL_TYPE
EXECUTION_STATUS_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
MODEL_PACKAGE_STATE_DETAIL_TYPE = "SageMaker Model Package State Change"
DRIFT_FAIL_STEP = contract.INFERENCE_STEPS["drift_fail"]
MODEL_APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")

# Rule targets, as named in RuleSpec.target.
TARGET_RETRAIN_GATE = "retrain-gate"
TARGET_NOTIFY = "notify"

_PIPELINE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline/[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$"
)
# A pipeline ARN whose name may hold `*` (IAM's wildcard): every model's pipeline of one kind.
_PIPELINE_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:pipeline/[A-Za-z0-9][A-Za-z0-9*-]{0,255}$"
)
# EventBridge's default limit on one rule's event pattern (adjustable to 4096 by a quota
# increase; the platform stays under the default): see EventRule.eventPattern, AWS quotas.
MAX_EVENT_PATTERN_CHARS = 2048
_GROUP_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
_PIPELINE_NAME = re.compile(r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$")


@dataclass(frozen=True)
class RuleSpec:
    """One EventBridge rule: a short name (for the resource name), its purpose, pattern, target."""

    name: str
    description: str
    pattern: dict[str, Any]
    target: str


def validate_pipeline_arn(arn: str, what: str = "pipeline_arn") -> str:
    """Return `arn` if it is a SageMaker pipeline ARN; raise ValueError naming it otherwise."""
    if not isinstance(arn, str) or not _PIPELINE_ARN.match(arn):
        raise ValueError(
            f"{what} must be a SageMaker pipeline ARN such as "
            f"'arn:aws:sagemaker:eu-west-1:111122223333:pipeline/my-pipeline' "
            f"(not an execution ARN, not a name), got {arn!r}"
        )
    return arn


def _same_pipeline(arn: str) -> list[dict[str, str]]:
    return [{"equals-ignore-case": arn}]


def _pipelines(primary: str, live: str | None, what: str) -> list[dict[str, str]]:
    """The pipelineArn matcher of the batch pipeline and, for a model an endpoint serves, its
    live-drift pipeline (either matches)."""
    validate_pipeline_arn(primary, what)
    if live is None:
        return _same_pipeline(primary)
    validate_pipeline_arn(live, "live_pipeline_arn")
    if live.lower() == primary.lower():
        raise ValueError(f"live_pipeline_arn must name a pipeline other than {what}, both are {live!r}")
    return [*_same_pipeline(primary), *_same_pipeline(live)]


def drift_detected_pattern(inference_pipeline_arn: str, live_pipeline_arn: str | None = None) -> dict[str, Any]:
    """Matches only: the inference pipeline's drift fail step reached status Failed (or, with
    `live_pipeline_arn`, the live-drift pipeline's, which has the same name).

    Not the "no approved model" failure (the LatestApprovedModel Lambda step), not other
    steps, not other pipelines (even one whose ARN starts with this one), not other
    statuses of the drift step, and not the execution-level Failed that accompanies it.
    """
    return {
        "source": [SAGEMAKER_SOURCE],
        "detail-type": [STEP_STATUS_DETAIL_TYPE],
        "detail": {
            "pipelineArn": _pipelines(inference_pipeline_arn, live_pipeline_arn, "inference_pipeline_arn"),
            "stepName": [DRIFT_FAIL_STEP],
            "currentStepStatus": ["Failed"],
        },
    }


def other_failures_pattern(pipeline_arn: str, exclude_steps: Sequence[str] = (DRIFT_FAIL_STEP,),
                           live_pipeline_arn: str | None = None) -> dict[str, Any]:
    """Matches a Failed step of the pipeline (or, with `live_pipeline_arn`, of that one too) whose
    name is not in `exclude_steps`.

    For the inference pipeline with the default exclusion this is "every failure but
    drift": one event per failed step, including LatestApprovedModel's "no approved model".
    An empty `exclude_steps` matches every failed step.
    """
    pipelines = _pipelines(pipeline_arn, live_pipeline_arn, "pipeline_arn")
    if isinstance(exclude_steps, str) or not all(isinstance(s, str) and s for s in exclude_steps):
        raise ValueError(
            f"exclude_steps must be a sequence of step names such as ({DRIFT_FAIL_STEP!r},), "
            f"got {exclude_steps!r}"
        )
    detail: dict[str, Any] = {"pipelineArn": pipelines}
    if exclude_steps:
        # Sorted and de-duplicated so the rule's JSON does not depend on the caller's order.
        detail["stepName"] = [{"anything-but": sorted(set(exclude_steps))}]
    detail["currentStepStatus"] = ["Failed"]
    return {"source": [SAGEMAKER_SOURCE], "detail-type": [STEP_STATUS_DETAIL_TYPE], "detail": detail}


def pipeline_failed_pattern(pipeline_arn: str) -> dict[str, Any]:
    """Matches the execution-status event Failed of the pipeline (one per failed execution).

    Use it for the training pipeline only: for the inference pipeline a drift also ends the
    execution Failed, and the event cannot tell drift from a real failure.
    """
    validate_pipeline_arn(pipeline_arn)
    return {
        "source": [SAGEMAKER_SOURCE],
        "detail-type": [EXECUTION_STATUS_DETAIL_TYPE],
        "detail": {
            "pipelineArn": _same_pipeline(pipeline_arn),
            "currentPipelineExecutionStatus": ["Failed"],
        },
    }


def model_package_state_pattern(group_names: str | Iterable[str],
                                approval_statuses: Iterable[str] | None = None) -> dict[str, Any]:
    """Matches state changes of model packages in the group(s) (the registry's SNS topic).

    The detail keys of this event are PascalCase (ModelPackageGroupName,
    ModelApprovalStatus) and matching is case-sensitive. With `approval_statuses`, only
    packages in those statuses; by default every change (registered, approved, rejected).
    """
    groups = [group_names] if isinstance(group_names, str) else list(group_names)
    bad = [g for g in groups if not isinstance(g, str) or not _GROUP_NAME.match(g)]
    if not groups or bad:
        raise ValueError(
            f"group_names must be model package group names such as 'mammography-models' "
            f"(not ARNs), got {bad or group_names!r}"
        )
    detail: dict[str, Any] = {"ModelPackageGroupName": sorted(set(groups))}
    if approval_statuses is not None:
        statuses = sorted(set(approval_statuses))
        unknown = [s for s in statuses if s not in MODEL_APPROVAL_STATUSES]
        if not statuses or unknown:
            raise ValueError(
                f"approval_statuses must be a non-empty subset of {MODEL_APPROVAL_STATUSES}, "
                f"got {approval_statuses!r}"
            )
        detail["ModelApprovalStatus"] = statuses
    return {"source": [SAGEMAKER_SOURCE], "detail-type": [MODEL_PACKAGE_STATE_DETAIL_TYPE], "detail": detail}


def model_package_state_patterns(group_names: Sequence[str],
                                 max_chars: int = MAX_EVENT_PATTERN_CHARS) -> list[dict[str, Any]]:
    """Patterns that together match every group's state changes, each under `max_chars`.

    As few as fit: one rule for the platform's groups while their names fit in one pattern,
    another for each further batch. Groups keep their order (the first model's group first), so
    adding a model never moves an existing group into another rule.
    """
    if not group_names:
        raise ValueError("group_names must name at least one model package group")
    batches: list[list[str]] = [[]]
    for group in group_names:
        candidate = [*batches[-1], group]
        if batches[-1] and len(pattern_json(model_package_state_pattern(candidate))) > max_chars:
            batches.append([group])
        else:
            batches[-1] = candidate
    patterns = [model_package_state_pattern(batch) for batch in batches]
    too_long = [p for p in patterns if len(pattern_json(p)) > max_chars]
    if too_long:
        raise ValueError(f"a model package group name is too long for one event pattern of {max_chars} characters")
    return patterns


def workload_rules(inference_pipeline_arn: str, training_pipeline_arn: str,
                   live_pipeline_arn: str | None = None) -> tuple[RuleSpec, ...]:
    """The failure/drift rules of one model in one workload account, in a fixed order.

    Together they route each pipeline failure to exactly one target: drift to the gate,
    every other failure to SNS once (see the module docstring for why this split). With
    `live_pipeline_arn` (a model an endpoint serves), the drift and inference-failure rules
    match its live-drift pipeline as well; without it they are exactly the batch pipeline's.
    """
    validate_pipeline_arn(inference_pipeline_arn, "inference_pipeline_arn")
    validate_pipeline_arn(training_pipeline_arn, "training_pipeline_arn")
    if inference_pipeline_arn.lower() == training_pipeline_arn.lower():
        raise ValueError(
            f"inference_pipeline_arn and training_pipeline_arn must name two different pipelines, "
            f"both are {inference_pipeline_arn!r}"
        )
    if live_pipeline_arn is not None and live_pipeline_arn.lower() == training_pipeline_arn.lower():
        raise ValueError(f"live_pipeline_arn and training_pipeline_arn must name two different pipelines, "
                         f"both are {live_pipeline_arn!r}")
    live = " or live-drift" if live_pipeline_arn else ""
    return (
        RuleSpec(
            "drift-detected",
            f"Inference{live} step {DRIFT_FAIL_STEP} failed: data drift, ask the retrain gate",
            drift_detected_pattern(inference_pipeline_arn, live_pipeline_arn),
            TARGET_RETRAIN_GATE,
        ),
        RuleSpec(
            "inference-failed",
            f"An inference{live} step other than {DRIFT_FAIL_STEP} failed",
            other_failures_pattern(inference_pipeline_arn, live_pipeline_arn=live_pipeline_arn),
            TARGET_NOTIFY,
        ),
        RuleSpec(
            "training-failed",
            "A training pipeline execution failed",
            pipeline_failed_pattern(training_pipeline_arn),
            TARGET_NOTIFY,
        ),
    )


def pattern_json(pattern: dict[str, Any]) -> str:
    """The pattern as the compact, key-sorted JSON string EventBridge takes."""
    return json.dumps(pattern, sort_keys=True, separators=(",", ":"))
