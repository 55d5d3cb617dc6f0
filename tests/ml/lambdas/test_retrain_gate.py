"""The retrain gate starts at most one training per drift storm.

Against the moto server over real HTTP: a DynamoDB lease table and a training pipeline are
created per test. moto starts every pipeline execution as Succeeded and has no API to
change that, so where a test needs a *running* training it plays SageMaker's part and sets
the execution's status in the in-process server's state.
"""
from __future__ import annotations

import ast
import copy
import json
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.sagemaker.models import sagemaker_backends

from ml import retrain_gate_settings, retraining_rules
from ml.lambdas import retrain_gate

SAMPLES_DIR = Path(__file__).parents[1] / "sample_events"
SAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted(SAMPLES_DIR.glob("*.json"))}
DRIFT = SAMPLES["inference_drift_step_failed"]
INFERENCE_ARN = DRIFT["detail"]["pipelineArn"]
TRAINING = "mlops-dev-training"
TABLE = "mlops-dev-retrain-leases"
COOLDOWN = 3600
STORM = 25


def drift_event(n: int) -> dict:
    """The n-th drift event of a storm: its own event id and inference execution."""
    event = copy.deepcopy(DRIFT)
    event["id"] = f"drift-{n:04d}"
    execution = f"{INFERENCE_ARN}/execution/run{n:04d}"
    event["detail"]["pipelineExecutionArn"] = execution
    event["resources"] = [INFERENCE_ARN, execution]
    return event


def training_executions() -> list[dict]:
    return boto3.client("sagemaker").list_pipeline_executions(PipelineName=TRAINING)["PipelineExecutionSummaries"]


def moto_execution(arn: str):
    """The moto server's record of an execution (same process), to play SageMaker's part."""
    _, _, _, region, account, resource = arn.split(":", 5)
    return sagemaker_backends[account][region].pipelines[resource.split("/")[1]].pipeline_executions[arn]


def leases() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Items"]


@pytest.fixture
def config(aws, monkeypatch) -> retrain_gate.GateConfig:
    """Lease table + training pipeline in moto, and the gate's environment set as Pulumi will."""
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": retrain_gate_settings.LEASE_TABLE_HASH_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": retrain_gate_settings.LEASE_TABLE_HASH_KEY,
             "AttributeType": retrain_gate_settings.LEASE_TABLE_HASH_KEY_TYPE}
        ],
        BillingMode=retrain_gate_settings.LEASE_TABLE_BILLING_MODE,
    )
    dynamodb.update_time_to_live(
        TableName=TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": retrain_gate_settings.LEASE_TABLE_TTL_ATTRIBUTE},
    )
    boto3.client("sagemaker").create_pipeline(
        PipelineName=TRAINING,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/mlops-dev-sagemaker-execution",
    )
    env = retrain_gate_settings.retrain_gate_environment(
        training_pipeline_name=TRAINING,
        inference_pipeline_arn=INFERENCE_ARN,
        lease_table_name=TABLE,
        cooldown_seconds=COOLDOWN,
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return retrain_gate.GateConfig.from_env()


def lease_attempts_in_flight(dynamodb) -> tuple[list, callable]:
    """Record PutItem call spans on the gate's client; returns (spans, stop)."""
    spans, begun = [], {}

    def before(**_):
        begun[threading.get_ident()] = time.perf_counter()

    def after(**_):
        spans.append((begun[threading.get_ident()], time.perf_counter()))

    dynamodb.meta.events.register("before-call.dynamodb.PutItem", before)
    dynamodb.meta.events.register("after-call.dynamodb.PutItem", after)

    def stop():
        dynamodb.meta.events.unregister("before-call.dynamodb.PutItem", before)
        dynamodb.meta.events.unregister("after-call.dynamodb.PutItem", after)

    return spans, stop


def max_overlap(spans: list) -> int:
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def test_a_concurrent_burst_of_drift_events_starts_exactly_one_training(config):
    barrier = threading.Barrier(STORM)
    _, dynamodb = retrain_gate._clients()  # the client every invocation in this process shares
    spans, stop = lease_attempts_in_flight(dynamodb)

    def invoke(n: int) -> dict:
        barrier.wait()  # all invocations race for the lease at once
        return retrain_gate.handler(drift_event(n), None)

    try:
        with ThreadPoolExecutor(STORM) as pool:
            results = list(pool.map(invoke, range(STORM)))
    finally:
        stop()

    # The premise: the conditional puts really were in flight together.
    assert len(spans) == STORM and max_overlap(spans) >= STORM // 2
    started = [r for r in results if r["status"] == "started"]
    assert len(started) == 1
    assert sorted({r["reason"] for r in results if r["status"] == "skipped"}) == ["cooldown"]
    executions = training_executions()
    assert [e["PipelineExecutionArn"] for e in executions] == [started[0]["training_execution_arn"]]
    # The execution names the inference run that triggered it.
    trigger = started[0]["inference_execution_arn"]
    assert executions[0]["PipelineExecutionDisplayName"] == "drift-" + trigger.rsplit("/", 1)[1]
    assert trigger in executions[0]["PipelineExecutionDescription"]
    # Every loser was told who holds the lease.
    holders = {r["lease_holder"] for r in results if r["status"] == "skipped"}
    assert holders == {started[0]["event_id"]}


def test_drift_while_a_training_runs_starts_nothing_even_after_the_cooldown(config):
    t0 = time.time()
    first = retrain_gate.gate(drift_event(1), config, now=t0)
    moto_execution(first["training_execution_arn"]).pipeline_execution_status = "Executing"

    later = retrain_gate.gate(drift_event(2), config, now=t0 + COOLDOWN + 60)

    assert later["status"] == "skipped"
    assert later["reason"] == "training_already_running"
    assert later["training_execution_arn"] == first["training_execution_arn"]
    assert len(training_executions()) == 1


def test_after_the_cooldown_and_with_no_training_running_one_more_starts(config):
    t0 = time.time()
    assert retrain_gate.gate(drift_event(1), config, now=t0)["status"] == "started"

    within = retrain_gate.gate(drift_event(2), config, now=t0 + COOLDOWN - 1)
    after = [retrain_gate.gate(drift_event(n), config, now=t0 + COOLDOWN) for n in (3, 4, 5)]

    assert (within["status"], within["reason"]) == ("skipped", "cooldown")
    assert [r["status"] for r in after] == ["started", "skipped", "skipped"]
    assert len(training_executions()) == 2


def test_a_retried_winner_event_does_not_start_a_second_training(config):
    event = drift_event(7)
    first = retrain_gate.handler(event, None)
    retry = retrain_gate.handler(event, None)

    assert first["status"] == "started"
    assert (retry["status"], retry["reason"]) == ("skipped", "cooldown")
    assert len(training_executions()) == 1
    # The start carried the token derived from the lease, so SageMaker itself would
    # deduplicate a repeated start of this lease (moto does not implement that).
    recorded = moto_execution(first["training_execution_arn"]).client_request_token
    assert recorded == retrain_gate.request_token(config.lease_id, event["id"])
    assert 32 <= len(recorded) <= 128


@pytest.mark.parametrize("sample", sorted(set(SAMPLES) - {"inference_drift_step_failed"}))
def test_events_that_are_not_this_pipelines_drift_start_nothing(config, sample):
    result = retrain_gate.handler(SAMPLES[sample], None)

    assert result["status"] == "skipped"
    # A model without an endpoint has no live-drift pipeline: its drift event is another pipeline's.
    drift_elsewhere = ("other_pipeline_drift_step_failed", "live_drift_step_failed")
    expected = "other_pipeline" if sample in drift_elsewhere else "not_a_drift_event"
    assert result["reason"] == expected
    assert training_executions() == []
    assert leases() == []


@pytest.mark.parametrize("event", [None, "text", {}, {"id": "x", "detail": "not a dict"}])
def test_malformed_input_is_ignored(config, event):
    result = retrain_gate.handler(event, None)
    assert (result["status"], result["reason"]) == ("skipped", "not_an_eventbridge_event")


def test_a_failed_start_releases_the_lease_so_the_retry_can_start(config):
    # Fault injection: SageMaker throttles the start (botocore's own event hook).
    def throttled(**_):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartPipelineExecution")

    flaky = boto3.session.Session()
    flaky.events.register("before-call.sagemaker.StartPipelineExecution", throttled)
    event, t0 = drift_event(1), time.time()

    with pytest.raises(ClientError, match="Throttling"):
        retrain_gate.gate(event, config, now=t0, session=flaky)
    assert leases() == []

    assert retrain_gate.gate(event, config, now=t0 + 1)["status"] == "started"
    assert len(training_executions()) == 1


def test_the_lease_item_has_the_schema_the_table_declares(config):
    t0 = int(time.time())
    retrain_gate.gate(drift_event(1), config, now=t0)

    (item,) = leases()
    assert item[retrain_gate_settings.LEASE_TABLE_HASH_KEY] == {"S": f"retrain#{TRAINING}"}
    assert item[retrain_gate_settings.LEASE_TABLE_TTL_ATTRIBUTE] == {"N": str(t0 + COOLDOWN)}
    assert item["holder"] == {"S": "drift-0001"}


def test_a_drift_event_routed_by_eventbridge_starts_training(config):
    """The drift rule (moto EventBridge) feeds the gate: only the drift sample gets through."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    url = sqs.create_queue(QueueName="gate-input")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = retraining_rules.drift_detected_pattern(INFERENCE_ARN)
    events.put_rule(Name="drift-detected", EventPattern=retraining_rules.pattern_json(pattern), State="ENABLED")
    events.put_targets(Rule="drift-detected", Targets=[{"Id": "gate", "Arn": queue_arn}])
    entries = [
        {"Source": e["source"], "DetailType": e["detail-type"], "Resources": e["resources"], "Detail": json.dumps(e["detail"])}
        for e in SAMPLES.values()
    ]
    for start in range(0, len(entries), 10):
        events.put_events(Entries=entries[start : start + 10])

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    results = [retrain_gate.handler(json.loads(m["Body"]), None) for m in messages]

    assert [r["status"] for r in results] == ["started"]
    assert results[0]["inference_execution_arn"] == DRIFT["detail"]["pipelineExecutionArn"]
    assert len(training_executions()) == 1


def test_each_decision_is_logged_as_one_json_line(config, caplog):
    with caplog.at_level(logging.INFO, logger="retrain_gate"):
        retrain_gate.handler(drift_event(1), None)
        retrain_gate.handler(drift_event(2), None)
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "retrain_gate"]
    assert [(entry["status"], entry["reason"]) for entry in logged] == [
        ("started", "drift_detected"),
        ("skipped", "cooldown"),
    ]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({retrain_gate.ENV_LEASE_TABLE_NAME: ""}, retrain_gate.ENV_LEASE_TABLE_NAME),
        ({retrain_gate.ENV_COOLDOWN_SECONDS: "6h"}, retrain_gate.ENV_COOLDOWN_SECONDS),
        ({retrain_gate.ENV_COOLDOWN_SECONDS: "0"}, retrain_gate.ENV_COOLDOWN_SECONDS),
    ],
)
def test_bad_configuration_names_the_variable(change, named):
    env = retrain_gate_settings.retrain_gate_environment(
        training_pipeline_name=TRAINING, inference_pipeline_arn=INFERENCE_ARN, lease_table_name=TABLE
    )
    with pytest.raises(ValueError, match=named):
        retrain_gate.GateConfig.from_env({**env, **change})


def test_the_gate_imports_only_the_stdlib_and_boto3():
    """It is zipped alone: no import of this project (or anything else) may sneak in."""
    tree = ast.parse(Path(retrain_gate.__file__).read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert roots - sys.stdlib_module_names <= {"boto3", "botocore"}


def second_model(n: int) -> tuple[retrain_gate.GateConfig, dict]:
    """Another model's gate on the same lease table (its own pipelines), and its n-th drift event."""
    training, inference = "mlops-dev-wdbc-training", INFERENCE_ARN.replace("mlops-dev-inference",
                                                                            "mlops-dev-wdbc-inference")
    boto3.client("sagemaker").create_pipeline(
        PipelineName=training, PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/mlops-dev-sagemaker-execution")
    env = retrain_gate_settings.retrain_gate_environment(
        training_pipeline_name=training, inference_pipeline_arn=inference, lease_table_name=TABLE,
        cooldown_seconds=COOLDOWN)
    event = drift_event(n)
    event["detail"]["pipelineArn"] = inference
    return retrain_gate.GateConfig.from_env(env), event


def test_each_model_has_its_own_lease_in_the_shared_table(config):
    other, other_event = second_model(1)
    now = time.time()
    first = retrain_gate.gate(drift_event(0), config, now=now, session=boto3.session.Session())
    # The first model holds its lease for a whole cool-down: the other model still retrains once...
    started = retrain_gate.gate(other_event, other, now=now + 1, session=boto3.session.Session())
    assert (first["status"], started["status"]) == ("started", "started")
    assert started["training_execution_arn"].split("/")[1] == "mlops-dev-wdbc-training"
    # ...and then is held back by its own lease, not the first model's.
    again = retrain_gate.gate(second_model_event(other_event, 2), other, now=now + 2, session=boto3.session.Session())
    assert (again["status"], again["reason"]) == ("skipped", "cooldown")
    assert sorted(item[retrain_gate_settings.LEASE_TABLE_HASH_KEY]["S"] for item in leases()) == [
        "retrain#mlops-dev-training", "retrain#mlops-dev-wdbc-training"]


def second_model_event(event: dict, n: int) -> dict:
    out = copy.deepcopy(event)
    out["id"] = f"drift-other-{n:04d}"
    return out


def test_a_gate_ignores_another_models_drift(config):
    _, other_event = second_model(1)
    result = retrain_gate.gate(other_event, config, now=time.time(), session=boto3.session.Session())
    assert (result["status"], result["reason"]) == ("skipped", "other_pipeline")
    assert training_executions() == [] and leases() == []


# --- A model an endpoint serves: live drift retrains through the same gate and lease ---------------
LIVE_DRIFT = SAMPLES["live_drift_step_failed"]
LIVE_ARN = LIVE_DRIFT["detail"]["pipelineArn"]


@pytest.fixture
def live_config(config, monkeypatch) -> retrain_gate.GateConfig:
    """The gate of a model with an endpoint: its environment names the live-drift pipeline too."""
    env = retrain_gate_settings.retrain_gate_environment(
        training_pipeline_name=TRAINING, inference_pipeline_arn=INFERENCE_ARN, lease_table_name=TABLE,
        cooldown_seconds=COOLDOWN, live_pipeline_arn=LIVE_ARN)
    assert env[retrain_gate.ENV_LIVE_PIPELINE_ARN] == LIVE_ARN
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return retrain_gate.GateConfig.from_env()


def live_drift_event(n: int) -> dict:
    event = copy.deepcopy(LIVE_DRIFT)
    event["id"] = f"live-{n:04d}"
    execution = f"{LIVE_ARN}/execution/live{n:04d}"
    event["detail"]["pipelineExecutionArn"] = execution
    event["resources"] = [LIVE_ARN, execution]
    return event


def test_live_drift_starts_training_and_says_where_it_came_from(live_config):
    result = retrain_gate.handler(live_drift_event(1), None)
    assert (result["status"], result["reason"]) == ("started", "drift_detected")
    (execution,) = training_executions()
    assert execution["PipelineExecutionDisplayName"] == "drift-live0001"
    assert f"live-drift execution {LIVE_ARN}/execution/live0001" in execution["PipelineExecutionDescription"]
    assert retrain_gate.GateConfig.from_env().live_pipeline_arn == LIVE_ARN == live_config.live_pipeline_arn


def test_batch_and_live_drift_share_one_lease_one_training_per_cooldown(live_config):
    barrier = threading.Barrier(STORM)

    def invoke(n: int) -> dict:  # half the storm from the batch pipeline, half from live traffic
        barrier.wait()
        return retrain_gate.handler(drift_event(n) if n % 2 else live_drift_event(n), None)

    with ThreadPoolExecutor(STORM) as pool:
        results = list(pool.map(invoke, range(STORM)))
    assert [r["status"] for r in results].count("started") == 1
    assert {r["reason"] for r in results if r["status"] == "skipped"} == {"cooldown"}
    assert len(training_executions()) == 1
    (item,) = leases()
    assert item[retrain_gate_settings.LEASE_TABLE_HASH_KEY] == {"S": f"retrain#{TRAINING}"}
    # Batch drift first, live drift within the cool-down: held back; after it, one more.
    t0 = time.time() + 2 * COOLDOWN
    assert retrain_gate.gate(drift_event(100), live_config, now=t0)["status"] == "started"
    held = retrain_gate.gate(live_drift_event(101), live_config, now=t0 + COOLDOWN - 1)
    assert (held["status"], held["reason"]) == ("skipped", "cooldown")
    assert retrain_gate.gate(live_drift_event(102), live_config, now=t0 + COOLDOWN)["status"] == "started"


@pytest.mark.parametrize("sample", sorted(set(SAMPLES) - {"inference_drift_step_failed", "live_drift_step_failed"}))
def test_with_live_traffic_still_nothing_but_drift_starts_training(live_config, sample):
    result = retrain_gate.handler(SAMPLES[sample], None)
    assert result["status"] == "skipped"
    assert result["reason"] == ("other_pipeline" if sample == "other_pipeline_drift_step_failed" else "not_a_drift_event")
    assert training_executions() == [] and leases() == []


def test_the_live_pipeline_must_be_another_pipeline_than_the_batch_one():
    with pytest.raises(ValueError, match="live_pipeline_arn must name a pipeline other than"):
        retrain_gate_settings.retrain_gate_environment(
            training_pipeline_name=TRAINING, inference_pipeline_arn=INFERENCE_ARN, lease_table_name=TABLE,
            live_pipeline_arn=INFERENCE_ARN.replace("mlops-dev-inference", "MLOps-Dev-Inference"))
    env = retrain_gate_settings.retrain_gate_environment(
        training_pipeline_name=TRAINING, inference_pipeline_arn=INFERENCE_ARN, lease_table_name=TABLE)
    assert retrain_gate.ENV_LIVE_PIPELINE_ARN not in env  # a model without an endpoint: as before
    assert retrain_gate.GateConfig.from_env(env).drift_pipeline_arns == (INFERENCE_ARN.lower(),)
