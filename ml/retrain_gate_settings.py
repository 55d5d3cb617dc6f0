"""The retrain gate's settings as data: its environment, its lease table and its IAM policy.

The gate (ml/lambdas/retrain_gate.py) starts the training pipeline on drift, at most once per
cool-down; the Pulumi program (components/retrain_on_drift.py) builds its function, table and
role from these pure functions. The rules that invoke it: ml/retraining_rules.py.
"""
from __future__ import annotations

import re
from typing import Any

from ml.lambdas import retrain_gate as _gate
from ml.retraining_rules import _PIPELINE_ARN_PATTERN, _PIPELINE_NAME, DRIFT_FAIL_STEP, _pipelines

# Spacing of drift-triggered retrainings. Longer than a training run plus the manual
# approval turnaround: until a new model is approved, every inference run drifts again.
DEFAULT_RETRAIN_COOLDOWN_SECONDS = 6 * 3600

# Lease table for the gate (the Pulumi program creates it: CMK encryption, PITR, TTL).
LEASE_TABLE_HASH_KEY = _gate.LEASE_KEY_ATTRIBUTE
LEASE_TABLE_HASH_KEY_TYPE = "S"
LEASE_TABLE_TTL_ATTRIBUTE = _gate.LEASE_TTL_ATTRIBUTE
LEASE_TABLE_BILLING_MODE = "PAY_PER_REQUEST"

def retrain_gate_environment(
    *,
    training_pipeline_name: str,
    inference_pipeline_arn: str,
    lease_table_name: str,
    cooldown_seconds: int = DEFAULT_RETRAIN_COOLDOWN_SECONDS,
    live_pipeline_arn: str | None = None,
) -> dict[str, str]:
    """The retrain gate Lambda's environment variables (all strings); with `live_pipeline_arn`, the
    gate also accepts that live-drift pipeline's drift events (under the same lease)."""
    if not isinstance(training_pipeline_name, str) or not _PIPELINE_NAME.match(training_pipeline_name):
        raise ValueError(
            f"training_pipeline_name must be a pipeline name such as 'mlops-dev-training' "
            f"(not an ARN), got {training_pipeline_name!r}"
        )
    _pipelines(inference_pipeline_arn, live_pipeline_arn, "inference_pipeline_arn")
    if not isinstance(lease_table_name, str) or not re.match(r"^[A-Za-z0-9_.-]{3,255}$", lease_table_name):
        raise ValueError(f"lease_table_name must be a DynamoDB table name, got {lease_table_name!r}")
    if isinstance(cooldown_seconds, bool) or not isinstance(cooldown_seconds, int) or cooldown_seconds <= 0:
        raise ValueError(f"cooldown_seconds must be a positive int, got {cooldown_seconds!r}")
    return {
        _gate.ENV_TRAINING_PIPELINE_NAME: training_pipeline_name,
        _gate.ENV_INFERENCE_PIPELINE_ARN: inference_pipeline_arn,
        _gate.ENV_DRIFT_STEP_NAME: DRIFT_FAIL_STEP,
        _gate.ENV_LEASE_TABLE_NAME: lease_table_name,
        _gate.ENV_COOLDOWN_SECONDS: str(cooldown_seconds),
        **({_gate.ENV_LIVE_PIPELINE_ARN: live_pipeline_arn} if live_pipeline_arn else {}),
    }


def retrain_gate_policy(training_pipeline_arn: str, lease_table_arn: str) -> dict[str, Any]:
    """Least-privilege IAM policy for the gate's data calls (logs and the table's CMK apart).

    Exactly what the handler calls: list and start executions of the training pipeline,
    put and delete the lease item. `training_pipeline_arn` may be a pattern (`*` in the name)
    that covers every model's training pipeline, when one role serves every model's gate.
    """
    if not isinstance(training_pipeline_arn, str) or not _PIPELINE_ARN_PATTERN.match(training_pipeline_arn):
        raise ValueError(
            "training_pipeline_arn must be a SageMaker pipeline ARN, or one with '*' in the name such as "
            f"'arn:aws:sagemaker:eu-west-1:111122223333:pipeline/mlops-dev-*training', got {training_pipeline_arn!r}"
        )
    if not re.match(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}$", lease_table_arn or ""):
        raise ValueError(
            "lease_table_arn must be a DynamoDB table ARN such as "
            f"'arn:aws:dynamodb:eu-west-1:111122223333:table/retrain-leases', got {lease_table_arn!r}"
        )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrainingPipeline",
                "Effect": "Allow",
                "Action": ["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"],
                "Resource": training_pipeline_arn,
            },
            {
                "Sid": "RetrainLease",
                "Effect": "Allow",
                "Action": ["dynamodb:DeleteItem", "dynamodb:PutItem"],
                "Resource": lease_table_arn,
            },
        ],
    }
