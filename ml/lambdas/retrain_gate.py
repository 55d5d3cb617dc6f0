"""Retrain gate: start the training pipeline on data drift, at most once per storm.

EventBridge invokes this Lambda for every "drift step failed" event of the inference
pipeline, and of the live-drift pipeline of a model an endpoint serves (same step name; both
share one lease, so batch and live drift together still start one retraining per cool-down).
Drift tends to arrive in bursts (each scheduled run on drifted data fails again, SageMaker may
emit duplicate events, EventBridge and Lambda retry), and each retraining costs a training job,
so the gate lets one through per cool-down:

1. events that are not a drift event of the configured inference (or live-drift) pipeline are
   ignored (the EventBridge rule already filters; this is defence in depth);
2. if a training execution is already running, nothing starts;
3. an atomic lease in DynamoDB (a conditional put that succeeds only if no lease exists
   or the previous one has expired) elects one winner among concurrent invocations;
4. the winner starts the training pipeline with a ClientRequestToken derived from its
   lease, so SageMaker deduplicates a repeated start of the same lease.

Self-contained (stdlib + boto3) because it is zipped alone. Configuration comes from the
environment; `ml.retrain_gate_settings.retrain_gate_environment` builds it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

ENV_TRAINING_PIPELINE_NAME = "TRAINING_PIPELINE_NAME"
ENV_INFERENCE_PIPELINE_ARN = "INFERENCE_PIPELINE_ARN"
ENV_DRIFT_STEP_NAME = "DRIFT_STEP_NAME"
ENV_LEASE_TABLE_NAME = "LEASE_TABLE_NAME"
ENV_COOLDOWN_SECONDS = "RETRAIN_COOLDOWN_SECONDS"
# Optional: the live-drift pipeline of a model an endpoint serves (absent: batch drift only).
ENV_LIVE_PIPELINE_ARN = "LIVE_DRIFT_PIPELINE_ARN"
REQUIRED_ENV = (
    ENV_TRAINING_PIPELINE_NAME,
    ENV_INFERENCE_PIPELINE_ARN,
    ENV_DRIFT_STEP_NAME,
    ENV_LEASE_TABLE_NAME,
    ENV_COOLDOWN_SECONDS,
)

# Lease table schema: one item per training pipeline.
LEASE_KEY_ATTRIBUTE = "lease_id"  # hash key, type S
LEASE_TTL_ATTRIBUTE = "expires_at"  # epoch seconds, type N; also the table's TTL attribute

SAGEMAKER_SOURCE = "aws.sagemaker"
STEP_STATUS_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Step Status Change"
# Stopping still holds the training resources; a new execution would compete with it.
RUNNING_STATUSES = frozenset({"Executing", "Stopping"})
# Newest executions examined for a running one. Older executions are finished in practice:
# a training run takes far less time than the cool-down spaces them out.
RUNNING_CHECK_PAGE = 50
_DISPLAY_NAME_MAX = 82  # PipelineExecutionDisplayName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}
_DESCRIPTION_MAX = 3072

# Clients are reused across warm invocations, as Lambda recommends; keyed by endpoint and
# region so a changed environment gets fresh ones. Building clients from one session is
# not thread-safe, hence the lock (boto3 clients themselves are).
_CLIENTS_LOCK = threading.Lock()
_CLIENTS: dict[tuple[str, str], tuple[Any, Any]] = {}

LOG = logging.getLogger("retrain_gate")
LOG.setLevel(logging.INFO)


@dataclass(frozen=True)
class GateConfig:
    """What the gate guards: which pipelines, which lease table, how long a cool-down."""

    training_pipeline_name: str
    inference_pipeline_arn: str
    drift_step_name: str
    lease_table_name: str
    cooldown_seconds: int
    live_pipeline_arn: str = ""  # "": the model has no endpoint, only batch drift counts

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> GateConfig:
        """Read and validate the configuration from the Lambda environment."""
        env = os.environ if environ is None else environ
        missing = [name for name in REQUIRED_ENV if not env.get(name, "").strip()]
        if missing:
            raise ValueError(
                f"retrain gate: environment variable(s) {', '.join(missing)} missing or empty; "
                "set them on the Lambda function (ml.retrain_gate_settings.retrain_gate_environment builds them)"
            )
        raw = env[ENV_COOLDOWN_SECONDS].strip()
        try:
            cooldown = int(raw)
        except ValueError:
            cooldown = 0
        if cooldown <= 0:
            raise ValueError(
                f"retrain gate: {ENV_COOLDOWN_SECONDS} must be a positive whole number of seconds, "
                f"got {raw!r}; for example 21600 for six hours"
            )
        return cls(
            training_pipeline_name=env[ENV_TRAINING_PIPELINE_NAME].strip(),
            inference_pipeline_arn=env[ENV_INFERENCE_PIPELINE_ARN].strip(),
            drift_step_name=env[ENV_DRIFT_STEP_NAME].strip(),
            lease_table_name=env[ENV_LEASE_TABLE_NAME].strip(),
            cooldown_seconds=cooldown,
            live_pipeline_arn=env.get(ENV_LIVE_PIPELINE_ARN, "").strip(),
        )

    @property
    def drift_pipeline_arns(self) -> tuple[str, ...]:
        """The pipelines whose drift events start retraining, lower-cased as the rule compares them."""
        return tuple(a.lower() for a in (self.inference_pipeline_arn, self.live_pipeline_arn) if a)

    @property
    def lease_id(self) -> str:
        """The lease item's key: one lease per training pipeline, so tables can be shared."""
        return f"retrain#{self.training_pipeline_name}"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: gate one EventBridge event; return what was decided and why."""
    return gate(event, GateConfig.from_env(), now=time.time())


def gate(
    event: dict[str, Any],
    config: GateConfig,
    *,
    now: float,
    session: boto3.session.Session | None = None,
) -> dict[str, Any]:
    """Decide on one event at time `now` (epoch seconds; injectable so tests need no sleep).

    Returns {"status": "started" | "skipped", "reason": ..., ...}. Raises only when AWS
    fails (so Lambda retries and, after that, the failure reaches its on-failure target).
    """
    why_not = _not_a_drift_event(event, config)
    if why_not:
        return _decided("skipped", why_not, event_id=_get(event, "id"))
    detail = event["detail"]
    event_id = str(event["id"])
    inference_execution = str(detail.get("pipelineExecutionArn") or "")
    if session is None:
        sagemaker, dynamodb = _clients()
    else:
        sagemaker, dynamodb = session.client("sagemaker"), session.client("dynamodb")

    running = _running_execution(sagemaker, config.training_pipeline_name)
    if running:
        return _decided(
            "skipped", "training_already_running", event_id=event_id,
            inference_execution_arn=inference_execution, training_execution_arn=running,
        )

    expires_at = int(now) + config.cooldown_seconds
    holder = _acquire_lease(dynamodb, config, event_id, inference_execution, now, expires_at)
    if holder is not None:
        return _decided(
            "skipped", "cooldown", event_id=event_id,
            inference_execution_arn=inference_execution, lease_holder=holder,
        )

    try:
        started = sagemaker.start_pipeline_execution(
            PipelineName=config.training_pipeline_name,
            PipelineExecutionDisplayName=_display_name(inference_execution, event_id),
            PipelineExecutionDescription=_description(config, inference_execution, event_id, expires_at),
            ClientRequestToken=request_token(config.lease_id, event_id),
        )
    except Exception:
        # Free the lease so the Lambda retry of this event (or the next drift event) can
        # try again instead of being locked out for a whole cool-down by a failed start.
        _release_lease(dynamodb, config, event_id)
        LOG.error(json.dumps({"status": "error", "reason": "start_failed", "event_id": event_id}))
        raise
    return _decided(
        "started", "drift_detected", event_id=event_id,
        inference_execution_arn=inference_execution,
        training_execution_arn=started["PipelineExecutionArn"],
        lease_expires_at=_iso(expires_at),
    )


def request_token(lease_id: str, holder: str) -> str:
    """ClientRequestToken for the start made under a lease (64 hex chars; AWS wants 32-128).

    Derived from the lease and the event that won it, so a repeated start of the same
    lease is the same request to SageMaker, which then starts nothing new.
    """
    return hashlib.sha256(f"{lease_id}|{holder}".encode()).hexdigest()


def _not_a_drift_event(event: Any, config: GateConfig) -> str | None:
    """Why `event` is not a drift event of the configured inference or live-drift pipeline, or None."""
    if not isinstance(event, dict) or not isinstance(event.get("detail"), dict) or not event.get("id"):
        return "not_an_eventbridge_event"
    detail = event["detail"]
    if (
        event.get("source") != SAGEMAKER_SOURCE
        or event.get("detail-type") != STEP_STATUS_DETAIL_TYPE
        or detail.get("stepName") != config.drift_step_name
        or detail.get("currentStepStatus") != "Failed"
    ):
        return "not_a_drift_event"
    # SageMaker writes pipeline names in lower case in ARNs; compare as the rule does.
    if str(detail.get("pipelineArn", "")).lower() not in config.drift_pipeline_arns:
        return "other_pipeline"
    return None


def _running_execution(sagemaker: Any, pipeline_name: str) -> str | None:
    """ARN of a running execution of the pipeline among the newest ones, or None."""
    page = sagemaker.list_pipeline_executions(
        PipelineName=pipeline_name,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=RUNNING_CHECK_PAGE,
    )
    for summary in page.get("PipelineExecutionSummaries", []):
        if summary.get("PipelineExecutionStatus") in RUNNING_STATUSES:
            return summary.get("PipelineExecutionArn")
    return None


def _acquire_lease(
    dynamodb: Any, config: GateConfig, holder: str, inference_execution: str, now: float, expires_at: int
) -> str | None:
    """Take the lease atomically. None if won; otherwise the current holder's event id."""
    try:
        dynamodb.put_item(
            TableName=config.lease_table_name,
            Item={
                LEASE_KEY_ATTRIBUTE: {"S": config.lease_id},
                "holder": {"S": holder},
                "inference_execution_arn": {"S": inference_execution or "-"},
                "acquired_at": {"N": str(int(now))},
                LEASE_TTL_ATTRIBUTE: {"N": str(expires_at)},
            },
            # TTL deletion lags by up to days, so expiry is checked here, not left to TTL.
            ConditionExpression="attribute_not_exists(#key) OR #expires <= :now",
            ExpressionAttributeNames={"#key": LEASE_KEY_ATTRIBUTE, "#expires": LEASE_TTL_ATTRIBUTE},
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException as lost:
        item = lost.response.get("Item") or {}
        return item.get("holder", {}).get("S", "unknown")
    return None


def _release_lease(dynamodb: Any, config: GateConfig, holder: str) -> None:
    """Delete the lease if this event still holds it; never raise (the caller is raising)."""
    try:
        dynamodb.delete_item(
            TableName=config.lease_table_name,
            Key={LEASE_KEY_ATTRIBUTE: {"S": config.lease_id}},
            ConditionExpression="#holder = :holder",
            ExpressionAttributeNames={"#holder": "holder"},
            ExpressionAttributeValues={":holder": {"S": holder}},
        )
    except Exception as exc:  # the lease then simply expires after the cool-down
        LOG.warning(json.dumps({"status": "warning", "reason": "lease_not_released", "error": str(exc)}))


def _display_name(inference_execution: str, event_id: str) -> str:
    """`drift-<inference execution id>`, within the display-name pattern and length."""
    source = inference_execution.rsplit("/", 1)[-1] if inference_execution else event_id
    cleaned = re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9]+", "-", source)).strip("-")
    return f"drift-{cleaned}"[:_DISPLAY_NAME_MAX].rstrip("-")


def _description(config: GateConfig, inference_execution: str, event_id: str, expires_at: int) -> str:
    text = (
        f"Retraining started by the retrain gate: step {config.drift_step_name} failed in "
        f"{_kind(config, inference_execution)} execution {inference_execution or 'unknown'} "
        f"(EventBridge event {event_id}). "
        f"No other drift-triggered retraining before {_iso(expires_at)}."
    )
    return text[:_DESCRIPTION_MAX]


def _kind(config: GateConfig, execution: str) -> str:
    """Which drift pipeline an execution ARN (`<pipeline ARN>/execution/<id>`) belongs to."""
    live = config.live_pipeline_arn.lower()
    return "live-drift" if live and execution.lower().startswith(f"{live}/execution/") else "inference"


def _decided(status: str, reason: str, **fields: Any) -> dict[str, Any]:
    """The handler's answer, also logged as one JSON line."""
    result = {"status": status, "reason": reason, **{k: v for k, v in fields.items() if v}}
    LOG.info(json.dumps(result, sort_keys=True))
    return result


def _clients() -> tuple[Any, Any]:
    """(sagemaker, dynamodb) clients for the current endpoint and region, built once."""
    key = (
        os.environ.get("AWS_ENDPOINT_URL", ""),
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
    )
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            session = boto3.session.Session()
            _CLIENTS[key] = (session.client("sagemaker"), session.client("dynamodb"))
        return _CLIENTS[key]


def _get(event: Any, key: str) -> Any:
    return event.get(key) if isinstance(event, dict) else None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
