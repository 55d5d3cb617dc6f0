"""Which EventBridge rule fires for which SageMaker event.

The sample events in sample_events/ follow the shapes of the AWS documentation
("Events that Amazon SageMaker AI sends to Amazon EventBridge"), with this project's
pipeline and step names. Each rule is matched against each sample twice: with moto's
pattern matcher, and once end-to-end through the moto server (put_rule + SQS target +
put_events, then reading the queues).
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import boto3
import pytest
from moto.events.models import EventPattern

from ml import contract, retrain_gate_settings, retraining_rules
from ml.lambdas import retrain_gate

SAMPLES_DIR = Path(__file__).parent / "sample_events"
SAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted(SAMPLES_DIR.glob("*.json"))}
ACCOUNT_REGION = "eu-west-1:111122223333"
INFERENCE_ARN = f"arn:aws:sagemaker:{ACCOUNT_REGION}:pipeline/mlops-dev-inference"
TRAINING_ARN = f"arn:aws:sagemaker:{ACCOUNT_REGION}:pipeline/mlops-dev-training"
LIVE_ARN = f"arn:aws:sagemaker:{ACCOUNT_REGION}:pipeline/mlops-dev-live-drift"
GROUP = "mammography-models"
PACKAGE_RULE = "model-package-state"


def all_rules(live: str | None = None) -> dict[str, dict]:
    """A workload account's rules (with `live`: of a model an endpoint serves) plus the registry
    account's model-package rule."""
    rules = {r.name: r.pattern for r in retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN, live)}
    rules[PACKAGE_RULE] = retraining_rules.model_package_state_pattern(GROUP)
    return rules


# The specification: sample event -> the rules that must fire for it (and no others).
EXPECTED = {
    "inference_drift_step_failed": {"drift-detected"},
    "inference_drift_step_executing": set(),
    "inference_drift_check_step_succeeded": set(),
    "inference_latest_model_step_failed": {"inference-failed"},
    "inference_transform_step_failed": {"inference-failed"},
    "inference_execution_failed": set(),  # accompanies every inference failure, drift included
    "other_pipeline_drift_step_failed": set(),
    "training_step_failed": set(),  # reported once, by its execution's Failed event
    "training_execution_failed": {"training-failed"},
    "training_execution_succeeded": set(),
    "model_package_approved": {PACKAGE_RULE},
    "model_package_other_group": set(),
    # A model without an endpoint has no live-drift pipeline: no rule of its matches one.
    "live_drift_step_failed": set(),
    "live_capture_step_failed": set(),
    "live_insufficient_data_step_failed": set(),
    "live_drift_check_step_succeeded": set(),
    "live_execution_failed": set(),
}
# A model an endpoint serves: its live-drift pipeline's drift retrains through the same rule (and
# gate), its other failures notify through the same rule, and nothing else changes.
EXPECTED_WITH_LIVE = {
    **EXPECTED,
    "live_drift_step_failed": {"drift-detected"},
    "live_capture_step_failed": {"inference-failed"},
    "live_insufficient_data_step_failed": {"inference-failed"},
}

# What SageMaker emits for one outcome (a failed step, then its execution fails).
SCENARIOS = {
    "drift": (["inference_drift_step_failed", "inference_execution_failed"], ["drift-detected"]),
    "no approved model": (["inference_latest_model_step_failed", "inference_execution_failed"], ["inference-failed"]),
    "batch transform failure": (["inference_transform_step_failed", "inference_execution_failed"],
                                ["inference-failed"]),
    "AUC below threshold": (["training_step_failed", "training_execution_failed"], ["training-failed"]),
    "clean inference run": (["inference_drift_check_step_succeeded"], []),
    "clean training run": (["training_execution_succeeded"], []),
    "live drift": (["live_drift_step_failed", "live_execution_failed"], ["drift-detected"]),
    "no captured request in the window": (["live_capture_step_failed", "live_execution_failed"], ["inference-failed"]),
    "too little live traffic": (["live_insufficient_data_step_failed", "live_execution_failed"], ["inference-failed"]),
    "clean live check": (["live_drift_check_step_succeeded"], []),
}


def matching_rules(event: dict, rules: dict[str, dict]) -> set[str]:
    return {name for name, pattern in rules.items() if EventPattern.load(json.dumps(pattern)).matches_event(event)}


def test_every_sample_event_has_an_expected_outcome():
    assert set(SAMPLES) == set(EXPECTED)


def test_samples_use_the_contract_step_names():
    known = set(contract.INFERENCE_STEPS.values()) | set(contract.TRAINING_STEPS.values()) \
        | set(contract.LIVE_DRIFT_STEPS.values())
    step_names = {e["detail"]["stepName"] for e in SAMPLES.values() if "stepName" in e["detail"]}
    assert step_names <= known
    assert contract.INFERENCE_STEPS["drift_fail"] in step_names
    assert contract.INFERENCE_STEPS["latest_model"] in step_names


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_rule_table(sample):
    assert matching_rules(SAMPLES[sample], all_rules()) == EXPECTED[sample]


@pytest.mark.parametrize("sample", sorted(EXPECTED_WITH_LIVE))
def test_rule_table_of_a_model_an_endpoint_serves(sample):
    assert matching_rules(SAMPLES[sample], all_rules(LIVE_ARN)) == EXPECTED_WITH_LIVE[sample]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_outcome_reaches_exactly_one_target(scenario):
    events, expected = SCENARIOS[scenario]
    rules = all_rules(LIVE_ARN)
    fired = sorted(name for sample in events for name in matching_rules(SAMPLES[sample], rules))
    assert fired == expected


def test_without_an_endpoint_the_rules_are_exactly_the_batch_pipelines():
    rules = retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN)
    assert rules == retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN, None)
    assert rules[0].pattern["detail"]["pipelineArn"] == [{"equals-ignore-case": INFERENCE_ARN}]
    assert rules[0].description == "Inference step DataDriftDetected failed: data drift, ask the retrain gate"
    live = retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN, LIVE_ARN)
    assert [r.name for r in live] == [r.name for r in rules]  # same rules (and resources), wider patterns
    assert live[0].pattern["detail"]["pipelineArn"] == [{"equals-ignore-case": INFERENCE_ARN},
                                                        {"equals-ignore-case": LIVE_ARN}]
    assert live[2] == rules[2]  # training failures as before
    assert all(len(retraining_rules.pattern_json(r.pattern)) <= retraining_rules.MAX_EVENT_PATTERN_CHARS for r in live)


def test_rule_targets_send_drift_to_the_gate_and_failures_to_sns():
    targets = {r.name: r.target for r in retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN)}
    assert targets == {
        "drift-detected": retraining_rules.TARGET_RETRAIN_GATE,
        "inference-failed": retraining_rules.TARGET_NOTIFY,
        "training-failed": retraining_rules.TARGET_NOTIFY,
    }


def test_drift_rule_ignores_case_of_the_pipeline_arn():
    # SageMaker lower-cases pipeline names in ARNs; an ARN built from the mixed-case
    # name must still match the event.
    mixed_case = INFERENCE_ARN.replace("mlops-dev-inference", "MLOps-Dev-Inference")
    pattern = retraining_rules.drift_detected_pattern(mixed_case)
    assert EventPattern.load(json.dumps(pattern)).matches_event(SAMPLES["inference_drift_step_failed"])


def test_drift_rule_does_not_match_a_pipeline_whose_arn_extends_it():
    assert SAMPLES["other_pipeline_drift_step_failed"]["detail"]["pipelineArn"].startswith(INFERENCE_ARN)
    pattern = retraining_rules.drift_detected_pattern(INFERENCE_ARN)
    assert not EventPattern.load(json.dumps(pattern)).matches_event(SAMPLES["other_pipeline_drift_step_failed"])


def test_other_failures_without_exclusions_matches_the_drift_step_too():
    pattern = retraining_rules.other_failures_pattern(INFERENCE_ARN, exclude_steps=())
    assert "stepName" not in pattern["detail"]
    assert EventPattern.load(json.dumps(pattern)).matches_event(SAMPLES["inference_drift_step_failed"])


def test_model_package_rule_can_narrow_to_approvals():
    approved_only = retraining_rules.model_package_state_pattern(GROUP, ["Approved"])
    pending = json.loads(json.dumps(SAMPLES["model_package_approved"]))
    pending["detail"]["ModelApprovalStatus"] = "PendingManualApproval"
    assert EventPattern.load(json.dumps(approved_only)).matches_event(SAMPLES["model_package_approved"])
    assert not EventPattern.load(json.dumps(approved_only)).matches_event(pending)


def _approved(group: str) -> dict:
    event = json.loads(json.dumps(SAMPLES["model_package_approved"]))
    event["detail"]["ModelPackageGroupName"] = group
    return event


def test_one_model_package_rule_matches_every_models_group_and_no_other():
    groups = [GROUP, "wdbc-diagnosis-model-package", "third-model-package"]
    pattern = EventPattern.load(json.dumps(retraining_rules.model_package_state_pattern(groups)))
    assert all(pattern.matches_event(_approved(g)) for g in groups)
    assert not pattern.matches_event(_approved("someone-elses-group"))
    assert retraining_rules.model_package_state_pattern(list(reversed(groups))) == \
        retraining_rules.model_package_state_pattern(groups)


def test_groups_are_split_over_rules_only_when_one_pattern_would_be_too_long():
    groups = [f"model-{i:03d}-" + "x" * 50 for i in range(60)]
    patterns = retraining_rules.model_package_state_patterns(groups)
    assert len(patterns) > 1
    sizes = [len(retraining_rules.pattern_json(p)) for p in patterns]
    assert max(sizes) <= retraining_rules.MAX_EVENT_PATTERN_CHARS
    covered = [g for p in patterns for g in p["detail"]["ModelPackageGroupName"]]
    assert sorted(covered) == sorted(groups)  # each group in exactly one rule
    # As few rules as fit: no two neighbours could have been one.
    for left, right in zip(patterns, patterns[1:], strict=False):
        merged = left["detail"]["ModelPackageGroupName"] + right["detail"]["ModelPackageGroupName"][:1]
        assert len(retraining_rules.pattern_json(retraining_rules.model_package_state_pattern(merged))) > \
            retraining_rules.MAX_EVENT_PATTERN_CHARS
    # A group keeps its rule when models are added after it.
    assert retraining_rules.model_package_state_patterns(groups + ["late-model"])[0] == patterns[0]
    assert len(retraining_rules.model_package_state_patterns(groups[:20])) == 1


def test_the_gate_policy_may_cover_every_models_training_pipeline_by_pattern():
    pattern = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/mlops-dev-*training"
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/mlops-dev-retrain-lease"
    policy = retrain_gate_settings.retrain_gate_policy(pattern, table)
    assert {s["Resource"] for s in policy["Statement"] if s["Sid"] == "TrainingPipeline"} == {pattern}
    with pytest.raises(ValueError, match="training_pipeline_arn"):
        retrain_gate_settings.retrain_gate_policy("*", table)


def test_patterns_are_deterministic_json():
    rules = retraining_rules.workload_rules
    first = [retraining_rules.pattern_json(r.pattern) for r in rules(INFERENCE_ARN, TRAINING_ARN)]
    again = [retraining_rules.pattern_json(r.pattern) for r in rules(INFERENCE_ARN, TRAINING_ARN)]
    assert first == again
    assert retraining_rules.pattern_json(retraining_rules.other_failures_pattern(INFERENCE_ARN, ["B", "A", "B"])) == (
        retraining_rules.pattern_json(retraining_rules.other_failures_pattern(INFERENCE_ARN, ["A", "B"]))
    )
    assert json.loads(first[0]) == retraining_rules.drift_detected_pattern(INFERENCE_ARN)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: retraining_rules.drift_detected_pattern(INFERENCE_ARN + "/execution/abc"), "inference_pipeline_arn"),
        (lambda: retraining_rules.drift_detected_pattern("mlops-dev-inference"), "inference_pipeline_arn"),
        (lambda: retraining_rules.pipeline_failed_pattern("arn:aws:s3:::bucket"), "pipeline_arn"),
        (lambda: retraining_rules.other_failures_pattern(INFERENCE_ARN, "DataDriftDetected"), "exclude_steps"),
        (lambda: retraining_rules.model_package_state_pattern(
            f"arn:aws:sagemaker:{ACCOUNT_REGION}:model-package-group/g"), "group_name"),
        (lambda: retraining_rules.model_package_state_pattern(GROUP, ["approved"]), "approval_statuses"),
        (lambda: retraining_rules.workload_rules(INFERENCE_ARN, INFERENCE_ARN.replace("mlops-dev", "MLOps-Dev")),
         "two different"),
        (lambda: retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN, TRAINING_ARN), "two different"),
        (lambda: retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN, INFERENCE_ARN), "live_pipeline_arn"),
        (lambda: retraining_rules.drift_detected_pattern(INFERENCE_ARN, "mlops-dev-live-drift"), "live_pipeline_arn"),
    ],
)
def test_bad_inputs_are_rejected_with_the_parameter_named(call, named):
    with pytest.raises(ValueError, match=named):
        call()


@pytest.mark.parametrize("live", [None, LIVE_ARN], ids=["batch only", "with an endpoint"])
def test_rules_route_the_samples_through_the_moto_server(aws, live):
    """End to end: real put_rule/put_targets/put_events over HTTP, events read from SQS."""
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    queues = {}
    suffix = "live" if live else "batch"
    for name, pattern in all_rules(live).items():
        url = sqs.create_queue(QueueName=f"rule-{name}-{suffix}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"{name}-{suffix}", EventPattern=retraining_rules.pattern_json(pattern), State="ENABLED")
        events.put_targets(Rule=f"{name}-{suffix}", Targets=[{"Id": "queue", "Arn": arn}])
        queues[name] = url

    entries = [
        {"Source": e["source"], "DetailType": e["detail-type"], "Resources": e["resources"],
         "Detail": json.dumps(e["detail"])}
        for e in SAMPLES.values()
    ]
    for start in range(0, len(entries), 10):  # PutEvents takes at most 10 entries
        response = events.put_events(Entries=entries[start : start + 10])
        assert response["FailedEntryCount"] == 0

    by_detail = {json.dumps(e["detail"], sort_keys=True): name for name, e in SAMPLES.items()}
    received: dict[str, set[str]] = {name: set() for name in SAMPLES}
    for rule, url in queues.items():
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                delivered = json.loads(message["Body"])
                received[by_detail[json.dumps(delivered["detail"], sort_keys=True)]].add(rule)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert received == (EXPECTED_WITH_LIVE if live else EXPECTED)


def test_the_environment_built_for_pulumi_is_what_the_gate_reads():
    env = retrain_gate_settings.retrain_gate_environment(
        training_pipeline_name="mlops-dev-training", inference_pipeline_arn=INFERENCE_ARN,
        lease_table_name="mlops-dev-retrain-leases"
    )
    assert all(isinstance(v, str) for v in env.values())
    config = retrain_gate.GateConfig.from_env(env)
    assert config.drift_step_name == contract.INFERENCE_STEPS["drift_fail"]
    assert config.cooldown_seconds == retrain_gate_settings.DEFAULT_RETRAIN_COOLDOWN_SECONDS
    assert (config.training_pipeline_name, config.inference_pipeline_arn, config.lease_table_name) == (
        "mlops-dev-training", INFERENCE_ARN, "mlops-dev-retrain-leases",
    )


def api_calls_in(source: Path) -> set[str]:
    """IAM actions of the `sagemaker.x(...)` / `dynamodb.x(...)` client calls in a module."""
    calls = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)):
            service = node.func.value.id
            if service in ("sagemaker", "dynamodb"):
                calls.add(f"{service}:" + "".join(part.title() for part in node.func.attr.split("_")))
    return calls


def test_the_policy_grants_exactly_the_calls_the_gate_makes():
    pipeline_arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/mlops-dev-training"
    table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/mlops-dev-retrain-leases"
    policy = retrain_gate_settings.retrain_gate_policy(pipeline_arn, table_arn)
    grants = {(a, s["Resource"]) for s in policy["Statement"] for a in s["Action"]}
    assert grants == {
        ("sagemaker:ListPipelineExecutions", pipeline_arn),
        ("sagemaker:StartPipelineExecution", pipeline_arn),
        ("dynamodb:PutItem", table_arn),
        ("dynamodb:DeleteItem", table_arn),
    }
    assert {action for action, _ in grants} == api_calls_in(Path(retrain_gate.__file__))
    with pytest.raises(ValueError, match="lease_table_arn"):
        retrain_gate_settings.retrain_gate_policy(pipeline_arn, "*")
