"""A workload stack where one model is served by an endpoint (wdbc) and one is not (mammography),
under mocks from the real stack files: only the served model gets a live-drift pipeline and its
schedule; its drift rule and gate accept that pipeline's drift too; the other model's resources,
rules and gate are exactly what they were."""
from __future__ import annotations

import copy
import dataclasses
import json
from fnmatch import fnmatchcase

import pytest
from moto.events.models import EventPattern

from ml import contract
from ml.models import load_project_models
from ml.pipelines.references import assert_references
from ml.serving_config import Serving
from mlops_platform.components.pipelines import LIVE_DRIFT, has_live_drift
from mlops_platform.config_loader import known_keys
from tests.support.many_models import OVERRIDES_KEY
from tests.support.pipeline_definitions import steps_by_name
from tests.support.stacks import run_stack, stack_config

PIPELINE = "pulumi-python:dynamic/mlops:SageMakerPipeline"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
FUNCTION = "aws:lambda/function:Function"
SERVED, BATCH_ONLY = "wdbc", "mammography"
PINS_KEY = "mlops-platform:servedVersions"


def served_config(stack: str) -> tuple[dict, list[str]]:
    """The stack's real config with wdbc served by an endpoint as well as in batches (and, once the
    platform reads pins, a pinned version, so an endpoint is registered)."""
    config, secrets = stack_config(stack)
    config = copy.deepcopy(config)
    overrides = config.setdefault(OVERRIDES_KEY, {})
    overrides[SERVED] = {**overrides.get(SERVED, {}), "serving": {"mode": "both"}}
    if PINS_KEY in known_keys():
        config[PINS_KEY] = {SERVED: "1"}
    return config, secrets


@pytest.fixture(scope="module")
def runs(registry):
    out = {}
    for stack in ("dev", "prod"):
        config, secrets = served_config(stack)
        out[stack] = run_stack(stack, config=config, secret_keys=secrets, registry_outputs=registry.outputs)
    return out


@pytest.fixture(scope="module", params=["dev", "prod"])
def run(request, runs):
    return runs[request.param]


def arn(run, name: str) -> str:
    return f"arn:aws:sagemaker:eu-west-1:{run.outputs['accountId']}:pipeline/{name}"


def step_event(pipeline_arn: str, step: str, status: str = "Failed") -> dict:
    return {"source": "aws.sagemaker", "detail-type": "SageMaker Model Building Pipeline Execution Step Status Change",
            "detail": {"stepName": step, "currentStepStatus": status, "pipelineArn": pipeline_arn}}


def matches(rule, event: dict) -> bool:
    return EventPattern.load(rule.inputs["eventPattern"]).matches_event(event)


def test_only_the_served_model_gets_a_live_drift_pipeline_reading_its_capture_prefix(run):
    pipelines = {r.name: r.inputs for r in run.of_type(PIPELINE)}
    assert f"{SERVED}-{LIVE_DRIFT}" in pipelines and LIVE_DRIFT not in pipelines  # mammography keeps its two
    assert not any(name.endswith(LIVE_DRIFT) for name in pipelines if not name.startswith(f"{SERVED}-"))
    live = pipelines[f"{SERVED}-{LIVE_DRIFT}"]
    assert live["name"] == f"mlops-{run.stack}-{SERVED}-{LIVE_DRIFT}"
    assert live["role_arn"] == run.outputs["sagemakerExecutionRoleArn"] and live["start_on_create"] is False
    assert_references(live["definition"])
    params = {p["Name"]: p["DefaultValue"] for p in json.loads(live["definition"])["Parameters"]}
    assert params[contract.PARAM_CAPTURE_DATA] == f"s3://{run.outputs['dataBucketName']}/capture/{SERVED}/"
    steps = steps_by_name(live["definition"])
    # The reference is the served model's own lookup's (its group), never another model's.
    lookup = next(r for r in run.of_type(FUNCTION) if r.name == f"{SERVED}-latest-approved-model")
    assert steps[contract.LIVE_DRIFT_STEPS["latest_model"]]["FunctionArn"].endswith(f":function:{lookup.inputs['name']}")


def test_the_served_models_live_check_runs_on_its_schedule_through_the_events_role(run):
    rules = {r.name: r for r in run.of_type(RULE)}
    schedule = rules[f"{SERVED}-{LIVE_DRIFT}-schedule"]
    batch_schedule = rules[f"{SERVED}-inference-schedule"]
    assert schedule.inputs["name"] == f"mlops-{run.stack}-{SERVED}-{LIVE_DRIFT}-schedule"
    assert schedule.inputs["scheduleExpression"] == batch_schedule.inputs["scheduleExpression"]
    (target,) = [t for t in run.of_type(TARGET) if t.name == f"{SERVED}-{LIVE_DRIFT}-schedule-{LIVE_DRIFT}"]
    assert target.inputs["arn"].endswith(f":pipeline/mlops-{run.stack}-{SERVED}-{LIVE_DRIFT}")
    assert target.inputs["roleArn"] == run.outputs["eventsRoleArn"]
    assert "sagemakerPipelineTarget" not in target.inputs  # the pipeline's defaults: no empty block
    assert not [name for name in rules if name.startswith(LIVE_DRIFT)]  # none for mammography
    # The events role may start it (one pattern for every model's live check), and no training.
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy", "events-policy").inputs["policy"])
    (statement,) = policy["Statement"]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert any(fnmatchcase(target.inputs["arn"], r) for r in resources)
    assert not any(fnmatchcase(target.inputs["arn"].replace(LIVE_DRIFT, "training"), r) for r in resources)


def test_live_drift_reaches_the_served_models_gate_and_other_live_failures_notify(run):
    rules = {r.name: r for r in run.of_type(RULE)}
    live = arn(run, f"mlops-{run.stack}-{SERVED}-{LIVE_DRIFT}")
    batch = live.replace(LIVE_DRIFT, "inference")
    drift, failed = rules[f"{SERVED}-drift-detected"], rules[f"{SERVED}-inference-failed"]
    for pipeline in (batch, live):
        assert matches(drift, step_event(pipeline, contract.INFERENCE_STEPS["drift_fail"]))
        assert not matches(failed, step_event(pipeline, contract.INFERENCE_STEPS["drift_fail"]))
        assert not matches(drift, step_event(pipeline, contract.INFERENCE_STEPS["drift_fail"], "Executing"))
    for step in (contract.LIVE_DRIFT_STEPS["capture"], contract.LIVE_DRIFT_STEPS["insufficient_data_fail"],
                 contract.LIVE_DRIFT_STEPS["latest_model"]):
        assert matches(failed, step_event(live, step)) and not matches(drift, step_event(live, step))
    # Not the other model's rules: mammography's drift rule ignores wdbc's live pipeline.
    assert not matches(rules["drift-detected"], step_event(live, contract.INFERENCE_STEPS["drift_fail"]))
    gates = {r.name: r.inputs["environment"]["variables"] for r in run.of_type(FUNCTION) if r.name.endswith("retrain-gate")}
    assert gates[f"{SERVED}-retrain-gate"]["LIVE_DRIFT_PIPELINE_ARN"].lower() == live.lower()
    assert "LIVE_DRIFT_PIPELINE_ARN" not in gates["retrain-gate"]


def test_the_model_without_an_endpoint_is_exactly_as_in_the_shipped_stack(run, stacks):
    shipped = stacks[run.stack]
    for name in ("drift-detected", "inference-failed", "training-failed", "inference-schedule"):
        assert run.one(RULE, name).inputs == shipped.one(RULE, name).inputs
    for name in ("training", "inference"):
        assert run.one(PIPELINE, name).inputs == shipped.one(PIPELINE, name).inputs
    mine = {r.name for r in run.resources if not r.name.startswith(f"{SERVED}-")}
    assert mine == {r.name for r in shipped.resources if not r.name.startswith(f"{SERVED}-")}


def test_the_served_models_definitions_are_deterministic(runs, registry):
    config, secrets = served_config("dev")
    again = run_stack("dev", config=config, secret_keys=secrets, registry_outputs=registry.outputs)
    for kind in ("training", "inference", LIVE_DRIFT):
        name = f"{SERVED}-{kind}"
        assert again.one(PIPELINE, name).inputs["definition"] == runs["dev"].one(PIPELINE, name).inputs["definition"]


def test_the_decision_follows_the_serving_mode_unless_the_caller_decides():
    spec = next(m for m in load_project_models() if m.name == BATCH_ONLY)
    served = dataclasses.replace(spec, serving=Serving(mode="both"))
    assert (has_live_drift(spec, None), has_live_drift(served, None)) == (False, True)
    assert (has_live_drift(served, False), has_live_drift(spec, True)) == (False, True)
