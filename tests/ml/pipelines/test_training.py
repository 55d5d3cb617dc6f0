"""The training pipeline definition, read as JSON: structure, wiring and security properties."""
from __future__ import annotations

import json

import pytest

from ml import contract
from ml.pipelines.references import assert_references
from tests.ml.pipelines.sample import BUCKET, GROUP_ARN, KMS_KEY, ROLE_ARN
from tests.support.pipeline_definitions import JOB_TYPES, all_strings, steps_by_name

S = contract.TRAINING_STEPS


@pytest.fixture(scope="module")
def definition(built):
    return built("isolated")["training"]


@pytest.fixture(scope="module")
def steps(definition):
    return steps_by_name(definition)


def test_step_names_are_exactly_the_contract_names(steps):
    assert set(steps) == set(S.values())


def test_every_reference_resolves(definition):
    report = assert_references(definition)
    assert "Steps.Evaluate.PropertyFiles.EvaluationReport" in report.resolved
    assert "Parameters.AucThreshold" in report.resolved


def test_parameters_cover_input_data_instance_types_and_threshold(definition, built):
    settings = built("isolated")["settings"]
    params = {p["Name"]: p for p in json.loads(definition)["Parameters"]}
    assert params[contract.PARAM_INPUT_DATA]["DefaultValue"] == settings.training_data_uri
    assert params[contract.PARAM_PROCESSING_INSTANCE]["DefaultValue"] == settings.processing_instance_type
    assert params[contract.PARAM_TRAINING_INSTANCE]["DefaultValue"] == settings.training_instance_type
    assert params[contract.PARAM_AUC_THRESHOLD] == {"Name": "AucThreshold", "Type": "Float",
                                                  "DefaultValue": settings.auc_threshold}


def test_experiment_config_is_explicit(definition):
    config = json.loads(definition)["PipelineExperimentConfig"]
    assert config == {"ExperimentName": {"Get": "Execution.PipelineName"},
                      "TrialName": {"Get": "Execution.PipelineExecutionId"}}


def test_every_job_is_encrypted_bounded_tagged_and_retried(steps, built):
    settings = built("isolated")["settings"]
    jobs = [s for s in steps.values() if s["Type"] in JOB_TYPES]
    assert {s["Name"] for s in jobs} == {S["preprocess"], S["train"], S["evaluate"]}
    for step in jobs:
        args = step["Arguments"]
        if step["Type"] == "Processing":
            assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KMS_KEY
            assert args["ProcessingOutputConfig"]["KmsKeyId"] == KMS_KEY
            assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": settings.processing_max_runtime_seconds}
        else:
            assert args["ResourceConfig"]["VolumeKmsKeyId"] == KMS_KEY
            assert args["OutputDataConfig"]["KmsKeyId"] == KMS_KEY
            assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": settings.training_max_runtime_seconds}
        assert args["RoleArn"] == ROLE_ARN
        assert {t["Key"]: t["Value"] for t in args["Tags"]} == dict(settings.tags)
        exceptions = {e for policy in step["RetryPolicies"] for e in policy["ExceptionType"]}
        assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= exceptions
        assert all(policy["MaxAttempts"] >= 1 for policy in step["RetryPolicies"])


def test_steps_fed_by_this_execution_are_cached_but_preprocess_and_registration_are_not(steps, built):
    expire = built("isolated")["settings"].cache_expire_after
    for name in (S["train"], S["evaluate"]):
        assert steps[name]["CacheConfig"] == {"Enabled": True, "ExpireAfter": expire}
    # A cached preprocess would hand a retraining the old splits: its cache key is the input
    # prefix, not the data that landed under it since.
    assert "CacheConfig" not in steps[S["preprocess"]]
    assert "CacheConfig" not in steps[S["register"]]


def test_preprocess_runs_the_content_addressed_script_on_the_sklearn_image(steps, built):
    settings = built("isolated")["settings"]
    args = steps[S["preprocess"]]["Arguments"]
    image = args["AppSpecification"]["ImageUri"]
    assert image.endswith(f"sagemaker-scikit-learn:{contract.SKLEARN_FRAMEWORK_VERSION}-cpu-py3")
    assert args["AppSpecification"]["ContainerEntrypoint"] == [
        "python3", f"/opt/ml/processing/input/code/{contract.PREPROCESS_SCRIPT}"]
    assert args["AppSpecification"]["ContainerArguments"] == ["--base-dir", "/opt/ml/processing"]
    inputs = {i["InputName"]: i["S3Input"] for i in args["ProcessingInputs"]}
    assert inputs["code"]["S3Uri"] == settings.script_uris[contract.PREPROCESS_SCRIPT]
    assert inputs["data"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    assert inputs["data"]["LocalPath"] == "/opt/ml/processing/input/data"
    outputs = {o["OutputName"]: o["S3Output"] for o in args["ProcessingOutputConfig"]["Outputs"]}
    assert set(outputs) == {"train", "validation", "test", "imputation", "reference"}
    for name, output in outputs.items():
        assert output["LocalPath"] == f"/opt/ml/processing/output/{name}"
        assert output["S3Uri"] == {"Std:Join": {"On": "/", "Values": [
            "s3:/", BUCKET, "pipelines", "mlops-dev-training",
            {"Get": "Execution.PipelineExecutionId"}, S["preprocess"], name]}}


def test_training_uses_the_xgboost_3_image_contract_hyperparameters_and_csv_channels(steps):
    args = steps[S["train"]]["Arguments"]
    assert args["AlgorithmSpecification"]["TrainingImage"].endswith(
        f"sagemaker-xgboost:{contract.XGBOOST_FRAMEWORK_VERSION}")
    assert args["HyperParameters"] == contract.XGB_HYPERPARAMETERS
    channels = {c["ChannelName"]: c for c in args["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    for name, channel in channels.items():
        assert channel["ContentType"] == "text/csv"
        assert channel["DataSource"]["S3DataSource"]["S3Uri"] == {
            "Get": f"Steps.Preprocess.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}
    assert args["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}


def test_evaluate_reads_the_model_and_test_split_and_publishes_a_property_file(steps):
    step = steps[S["evaluate"]]
    args = step["Arguments"]
    assert "sagemaker-xgboost" in args["AppSpecification"]["ImageUri"]
    inputs = {i["InputName"]: i["S3Input"] for i in args["ProcessingInputs"]}
    assert inputs["model"]["S3Uri"] == {"Get": "Steps.TrainXGBoost.ModelArtifacts.S3ModelArtifacts"}
    assert inputs["test"]["S3Uri"]["Get"].endswith("Outputs['test'].S3Output.S3Uri")
    assert step["PropertyFiles"] == [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
                                      "FilePath": "evaluation.json"}]


def test_the_gate_compares_the_auc_with_the_threshold_parameter(steps):
    gate = steps[S["condition"]]["Arguments"]
    auc = {"Std:JsonGet": {"Path": contract.EVALUATION_AUC_PATH,
                           "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}}}
    assert gate["Conditions"] == [{"Type": "GreaterThanOrEqualTo", "LeftValue": auc,
                                   "RightValue": {"Get": "Parameters.AucThreshold"}}]
    assert [s["Name"] for s in gate["IfSteps"]] == [S["register"]]
    assert [s["Name"] for s in gate["ElseSteps"]] == [S["fail"]]
    message = steps[S["fail"]]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert auc in message and {"Get": "Parameters.AucThreshold"} in message


def test_registration_targets_the_central_group_by_arn_pending_approval(steps):
    args = steps[S["register"]]["Arguments"]
    assert args["ModelPackageGroupName"] == GROUP_ARN
    assert args["ModelApprovalStatus"] == "PendingManualApproval"
    container, = args["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.TrainXGBoost.ModelArtifacts.S3ModelArtifacts"}
    assert container["Image"].endswith(f"sagemaker-xgboost:{contract.XGBOOST_FRAMEWORK_VERSION}")
    assert args["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]


def test_registration_carries_metrics_and_the_reference_and_imputation_locations(steps):
    args = steps[S["register"]]["Arguments"]
    stats = args["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert stats["ContentType"] == "application/json"
    assert stats["S3Uri"]["Std:Join"]["Values"] == [
        {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}, "evaluation.json"]
    assert args["CustomerMetadataProperties"] == {
        contract.METADATA_REFERENCE_URI:
            {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['reference'].S3Output.S3Uri"},
        contract.METADATA_IMPUTATION_URI:
            {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['imputation'].S3Output.S3Uri"},
        # what the version refers to, as evaluated: the inference Lambda verifies these
        **{key: {"Std:JsonGet": {"Path": f"artifacts.{key}",
                                 "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}}}
           for key in contract.METADATA_DIGESTS.values()},
    }


def test_every_s3_location_is_in_the_data_bucket(definition):
    text = definition
    assert "sagemaker-eu-west-1" not in text  # the SDK's default bucket never appears
    literals = [v for v in all_strings(json.loads(text)) if v.startswith("s3://")]
    assert literals and all(v.startswith(f"s3://{BUCKET}/") for v in literals)



def _outputs(step: dict) -> list:
    args = step["Arguments"]
    if step["Type"] == "Processing":
        return [o["S3Output"]["S3Uri"] for o in args["ProcessingOutputConfig"]["Outputs"]]
    return [args["OutputDataConfig"]["S3OutputPath"]]


def test_with_a_central_registry_every_output_lands_in_its_bucket_under_its_key(built):
    from tests.ml.pipelines.sample import REGISTRY_BUCKET, REGISTRY_KEY

    steps = steps_by_name(built("central")["training"])
    jobs = [s for s in steps.values() if s["Type"] in JOB_TYPES]
    assert len(jobs) == 3
    for step in jobs:
        args = step["Arguments"]
        out_key = (args.get("ProcessingOutputConfig") or args["OutputDataConfig"])["KmsKeyId"]
        volume = (args.get("ProcessingResources", {}).get("ClusterConfig") or args["ResourceConfig"])["VolumeKmsKeyId"]
        assert out_key == REGISTRY_KEY, f"{step['Name']} outputs must be readable by every approved account"
        assert volume == KMS_KEY, f"{step['Name']} volumes stay on the workload's own key"
        for uri in _outputs(step):
            values = uri["Std:Join"]["Values"]
            assert values[1:3] == [REGISTRY_BUCKET, "models/dev"], f"{step['Name']} writes {values[1:3]}"
    literals = [v for v in all_strings(json.loads(built("central")["training"])) if v.startswith("s3://")]
    assert all(v.startswith(f"s3://{BUCKET}/") for v in literals), "inputs still come from the data bucket"


def test_the_inference_pipeline_keeps_its_outputs_in_the_workload_bucket(built):
    text = built("central")["inference"]
    from tests.ml.pipelines.sample import REGISTRY_BUCKET, REGISTRY_KEY

    assert REGISTRY_BUCKET not in text and REGISTRY_KEY not in text
