"""The inference pipeline definition, read as JSON: structure, wiring and security properties."""
from __future__ import annotations

import json

import pytest

from ml import contract
from ml.pipelines.references import assert_references
from tests.ml.pipelines.sample import BUCKET, GROUP_ARN, KMS_KEY, LAMBDA_ARN, ROLE_ARN
from tests.support.pipeline_definitions import JOB_TYPES, all_strings, steps_by_name

S = contract.INFERENCE_STEPS
LAMBDA = "Steps.LatestApprovedModel.OutputParameters"


@pytest.fixture(scope="module")
def definition(built):
    return built("isolated")["inference"]


@pytest.fixture(scope="module")
def steps(definition):
    return steps_by_name(definition)


def test_step_names_are_exactly_the_contract_names(steps):
    assert set(steps) == set(S.values())


def test_every_reference_resolves(definition):
    report = assert_references(definition)
    assert f"{LAMBDA}['ImputationUri']" in report.resolved
    assert "DependsOn BatchTransform" in report.resolved


def test_parameters_cover_the_batch_and_instance_types(definition, built):
    settings = built("isolated")["settings"]
    params = {p["Name"]: p["DefaultValue"] for p in json.loads(definition)["Parameters"]}
    assert params == {contract.PARAM_BATCH_DATA: settings.batch_data_uri,
                      contract.PARAM_PROCESSING_INSTANCE: settings.processing_instance_type,
                      contract.PARAM_TRANSFORM_INSTANCE: settings.transform_instance_type}


def test_the_lambda_is_referenced_by_arn_only_and_returns_the_contract_outputs(steps):
    step = steps[S["latest_model"]]
    assert step["FunctionArn"] == LAMBDA_ARN
    assert step["Arguments"] == {"ModelPackageGroupName": GROUP_ARN}
    assert [o["OutputName"] for o in step["OutputParameters"]] == list(contract.LATEST_MODEL_OUTPUTS)
    assert "CacheConfig" not in step  # "latest approved" changes when an approver acts


def test_prepare_batch_applies_the_imputation_of_the_model_in_use(steps, built):
    settings = built("isolated")["settings"]
    args = steps[S["prepare"]]["Arguments"]
    inputs = {i["InputName"]: i["S3Input"] for i in args["ProcessingInputs"]}
    assert inputs["batch"]["S3Uri"] == {"Get": "Parameters.BatchDataUri"}
    assert inputs["imputation"]["S3Uri"] == {"Get": f"{LAMBDA}['ImputationUri']"}
    assert inputs["imputation"]["LocalPath"] == "/opt/ml/processing/input/imputation"
    assert inputs["code"]["S3Uri"] == settings.script_uris[contract.PREPARE_BATCH_SCRIPT]


def test_the_model_is_built_from_the_lambda_outputs(steps, built):
    settings = built("isolated")["settings"]
    step = steps[S["model"]]
    args = step["Arguments"]
    assert {t["Key"]: t["Value"] for t in args["Tags"]} == dict(settings.tags)
    assert [e for p in step["RetryPolicies"] for e in p["ExceptionType"]] == ["Step.THROTTLING", "Step.SERVICE_FAULT"]
    assert args["PrimaryContainer"]["Image"] == {"Get": f"{LAMBDA}['ImageUri']"}
    assert args["PrimaryContainer"]["ModelDataUrl"] == {"Get": f"{LAMBDA}['ModelDataUrl']"}
    assert args["ExecutionRoleArn"] == ROLE_ARN
    assert args["EnableNetworkIsolation"] is True


def test_batch_transform_scores_the_prepared_batch_with_kms(steps):
    args = steps[S["transform"]]["Arguments"]
    assert args["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}
    source = args["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    assert source == {"Get": "Steps.PrepareBatch.ProcessingOutputConfig.Outputs['batch'].S3Output.S3Uri"}
    assert args["TransformOutput"]["KmsKeyId"] == KMS_KEY
    assert args["TransformResources"]["VolumeKmsKeyId"] == KMS_KEY
    assert args["TransformResources"]["InstanceType"] == {"Get": "Parameters.TransformInstanceType"}
    assert args["ModelClientConfig"]["InvocationsTimeoutInSeconds"] <= 3600


def test_drift_check_compares_the_batch_with_the_models_reference_after_scoring(steps, built):
    settings = built("isolated")["settings"]
    step = steps[S["drift_check"]]
    args = step["Arguments"]
    assert "sagemaker-scikit-learn" in args["AppSpecification"]["ImageUri"]
    inputs = {i["InputName"]: i["S3Input"] for i in args["ProcessingInputs"]}
    assert inputs["reference"]["S3Uri"] == {"Get": f"{LAMBDA}['ReferenceDataUri']"}
    assert inputs["batch"]["S3Uri"] == {"Get": "Parameters.BatchDataUri"}
    assert inputs["code"]["S3Uri"] == settings.script_uris[contract.DRIFT_CHECK_SCRIPT]
    assert step["PropertyFiles"] == [{"PropertyFileName": "DriftReport", "OutputName": "drift",
                                      "FilePath": "drift_report.json"}]
    assert step["DependsOn"] == [S["transform"]]


def test_drift_fails_the_execution_in_a_step_named_for_drift(steps):
    gate = steps[S["drift_condition"]]["Arguments"]
    assert gate["Conditions"] == [{
        "Type": "Equals",
        "LeftValue": {"Std:JsonGet": {"Path": "drift_detected",
                                      "PropertyFile": {"Get": "Steps.CheckDataDrift.PropertyFiles.DriftReport"}}},
        "RightValue": True,
    }]
    assert [s["Name"] for s in gate["IfSteps"]] == [S["drift_fail"]]
    assert gate["ElseSteps"] == []
    fail = steps[S["drift_fail"]]
    assert fail["Type"] == "Fail" and "drift" in fail["Name"].lower()
    assert "drift" in fail["Arguments"]["ErrorMessage"].lower()


def test_every_job_is_encrypted_tagged_retried_and_never_cached(steps, built):
    settings = built("isolated")["settings"]
    jobs = [s for s in steps.values() if s["Type"] in JOB_TYPES]
    assert {s["Name"] for s in jobs} == {S["prepare"], S["transform"], S["drift_check"]}
    for step in jobs:
        args = step["Arguments"]
        assert "CacheConfig" not in step, step["Name"]
        assert {t["Key"]: t["Value"] for t in args["Tags"]} == dict(settings.tags)
        assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= {
            e for p in step["RetryPolicies"] for e in p["ExceptionType"]}
        if step["Type"] == "Processing":
            assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KMS_KEY
            assert args["ProcessingOutputConfig"]["KmsKeyId"] == KMS_KEY
            assert args["StoppingCondition"]["MaxRuntimeInSeconds"] == settings.processing_max_runtime_seconds
            assert args["RoleArn"] == ROLE_ARN


def test_every_s3_location_is_in_the_data_bucket(definition):
    assert "sagemaker-eu-west-1" not in definition
    literals = [v for v in all_strings(json.loads(definition)) if v.startswith("s3://")]
    assert literals and all(v.startswith(f"s3://{BUCKET}/") for v in literals)
