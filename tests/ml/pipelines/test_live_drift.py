"""The live-drift pipeline definition of a model an endpoint serves, read as JSON: the endpoint's
captured requests of a window, checked against the latest approved model's reference with the
live subset of the tests, failing under the batch pipeline's drift step names."""
from __future__ import annotations

import dataclasses
import json

import pytest

from ml import contract
from ml.pipelines import inference_definition, live_drift_definition
from ml.pipelines.references import assert_references
from tests.ml.pipelines.sample import BUCKET, GROUP_ARN, KMS_KEY, LAMBDA_ARN, LIVE, ROLE_ARN, sample_settings
from tests.support.pipeline_definitions import all_strings, steps_by_name

S = contract.LIVE_DRIFT_STEPS
LAMBDA = "Steps.LatestApprovedModel.OutputParameters"


@pytest.fixture(scope="module")
def definition(built):
    return built("isolated")["live-drift"]


@pytest.fixture(scope="module")
def steps(definition):
    return steps_by_name(definition)


def _inputs(step: dict) -> dict:
    return {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}


def test_steps_are_the_contract_names_and_share_the_batch_pipelines_drift_names(steps):
    assert set(steps) == set(S.values())
    for key in ("latest_model", "drift_check", "drift_condition", "drift_fail",
                "insufficient_data_condition", "insufficient_data_fail"):
        assert S[key] == contract.INFERENCE_STEPS[key]  # so one rule and one gate serve both pipelines
    assert S["capture"] not in contract.INFERENCE_STEPS.values()


def test_every_reference_resolves(definition):
    report = assert_references(definition)
    assert f"{LAMBDA}['ReferenceDataUri']" in report.resolved
    assert f"Steps.{S['capture']}.ProcessingOutputConfig.Outputs['batch'].S3Output.S3Uri" in report.resolved


def test_parameters_are_the_capture_prefix_the_window_and_the_instance_type(definition, built):
    settings = built("isolated")["settings"]
    params = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in json.loads(definition)["Parameters"]}
    assert params == {contract.PARAM_CAPTURE_DATA: ("String", f"s3://{BUCKET}/capture/mammography/"),
                      contract.PARAM_CAPTURE_WINDOW: ("Integer", 24),
                      contract.PARAM_PROCESSING_INSTANCE: ("String", settings.processing_instance_type)}


def test_the_capture_step_reads_the_endpoints_capture_and_judges_the_window(steps, built):
    settings = built("isolated")["settings"]
    step = steps[S["capture"]]
    inputs = _inputs(step)
    assert inputs["capture"]["S3Uri"] == {"Get": f"Parameters.{contract.PARAM_CAPTURE_DATA}"}
    assert inputs["capture"]["S3DataType"] == "S3Prefix"  # every file under the model's prefix
    assert inputs["code"]["S3Uri"] == settings.script_uris[contract.CAPTURE_BATCH_SCRIPT]
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments == ["--base-dir", contract.PROCESSING_BASE, "--window-hours",
                         {"Std:Join": {"On": "", "Values": [{"Get": f"Parameters.{contract.PARAM_CAPTURE_WINDOW}"}]}}]
    assert step["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] == KMS_KEY
    assert step["Arguments"]["RoleArn"] == ROLE_ARN


def test_the_drift_check_compares_the_captured_batch_with_the_latest_approved_reference(steps):
    step = steps[S["drift_check"]]
    inputs = _inputs(step)
    assert inputs["batch"]["S3Uri"] == {
        "Get": f"Steps.{S['capture']}.ProcessingOutputConfig.Outputs['batch'].S3Output.S3Uri"}
    assert inputs["reference"]["S3Uri"] == {"Get": f"{LAMBDA}['ReferenceDataUri']"}
    assert step["Arguments"]["AppSpecification"]["ContainerArguments"] == [
        "--base-dir", contract.PROCESSING_BASE, "--tests", "distribution,out_of_domain"]
    lookup = steps[S["latest_model"]]
    assert (lookup["FunctionArn"], lookup["Arguments"]) == (LAMBDA_ARN, {"ModelPackageGroupName": GROUP_ARN})


def test_the_gates_fail_under_the_drift_names_with_messages_about_live_traffic(steps):
    drift = steps[S["drift_condition"]]["Arguments"]
    assert [s["Name"] for s in drift["IfSteps"]] == [S["drift_fail"]] and drift["ElseSteps"] == []
    assert "captured requests" in steps[S["drift_fail"]]["Arguments"]["ErrorMessage"]
    little = steps[S["insufficient_data_condition"]]["Arguments"]
    assert [s["Name"] for s in little["IfSteps"]] == [S["insufficient_data_fail"]]
    message = steps[S["insufficient_data_fail"]]["Arguments"]["ErrorMessage"]
    assert "not drift" in message and contract.PARAM_CAPTURE_WINDOW in message


def test_no_step_is_cached_and_outputs_stay_in_this_execution(steps, definition):
    assert not any("CacheConfig" in step for step in steps.values())
    outputs = [o for step in steps.values() if step["Type"] == "Processing"
               for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]]
    assert len(outputs) == 2
    for output in outputs:
        values = output["S3Output"]["S3Uri"]["Std:Join"]["Values"]
        assert values[:4] == ["s3:/", BUCKET, "pipelines", LIVE["live_drift_pipeline_name"]]
        assert values[4] == {"Get": "Execution.PipelineExecutionId"}
    assert not any("models/" in text for text in all_strings(json.loads(definition)))  # nothing to the registry


def test_the_batch_definitions_do_not_depend_on_the_live_fields(built):
    settings = built("isolated")["settings"]
    plain = dataclasses.replace(settings, live_drift_pipeline_name=None, capture_data_key=None)
    assert inference_definition(plain) == built("isolated")["inference"]


def test_a_model_without_an_endpoint_has_no_live_drift_pipeline():
    with pytest.raises(ValueError, match="only a model an endpoint serves"):
        live_drift_definition(sample_settings())


@pytest.mark.parametrize(("fields", "message"), [
    (dict(live_drift_pipeline_name="mlops-dev-live-drift"), "go together"),
    (dict(capture_data_key="capture/m/"), "go together"),
    (dict(LIVE, live_drift_pipeline_name="MLOps-Dev-Inference"), "must differ"),
    (dict(LIVE, live_drift_pipeline_name="live drift"), "live_drift_pipeline_name must look like"),
    (dict(LIVE, capture_data_key="/capture/m/"), "capture_data_key must be a relative S3 key"),
    (dict(LIVE, capture_window_hours=-1), "capture_window_hours must be an integer from 0 to 744"),
    (dict(LIVE, capture_window_hours=24 * 32), "capture_window_hours"),
])
def test_live_fields_are_checked_with_the_field_named(fields, message):
    with pytest.raises(ValueError, match=message):
        sample_settings(**fields)


def test_the_window_default_follows_the_settings():
    text = live_drift_definition(sample_settings(**LIVE, capture_window_hours=72))
    params = {p["Name"]: p["DefaultValue"] for p in json.loads(text)["Parameters"]}
    assert params[contract.PARAM_CAPTURE_WINDOW] == 72
