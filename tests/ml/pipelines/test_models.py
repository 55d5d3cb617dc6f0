"""Per-model definitions: each model's pipelines carry its own hyperparameters, sizing, schema
and prefixes, and two models' definitions differ exactly where the models differ."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest

from ml import contract
from ml.models import JobSizing, ModelSpec, load_project_models
from ml.pipelines import inference_definition, training_definition
from ml.pipelines.settings import PipelineSettings, model_fields, settings_for_model
from mlops_platform.naming import ModelNames
from tests.ml.pipelines.sample import BUCKET, CENTRAL, GROUP_ARN, LAMBDA_ARN, sample_settings
from tests.support.pipeline_definitions import differences, steps_by_name

BUILDERS = {"training": training_definition, "inference": inference_definition}
PROCESSING_STEPS = {"training": ("Preprocess", "Evaluate"), "inference": ("PrepareBatch", "CheckDataDrift")}


@pytest.fixture(scope="module")
def mammography() -> ModelSpec:
    first = load_project_models()[0]
    assert first.name == "mammography" and first.first
    return first


@pytest.fixture(scope="module")
def second(mammography) -> ModelSpec:
    """Another model: its own name, group, hyperparameters, threshold and sizing."""
    return dataclasses.replace(
        mammography, name="m01", group_name="m01-model-package", first=False, auc_threshold=0.72,
        hyperparameters={"objective": "binary:logistic", "num_round": "120", "max_depth": "4", "eta": "0.1"},
        jobs={"processing": JobSizing("ml.m5.xlarge", 2, 1800), "training": JobSizing("ml.c5.2xlarge", 3, 7200),
              "transform": JobSizing("ml.c5.xlarge", 4, 900)})


def stack_fields(model: ModelSpec, *, schema_digest: str = "00112233445566ff") -> dict:
    """What the dev stack gives every model (as components/pipelines.py does), by its ModelNames."""
    names = ModelNames("dev", model.name, model.first)
    base = sample_settings(**CENTRAL)
    own = set(model_fields(model))
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(PipelineSettings) if f.name not in own}
    fields.update(
        training_pipeline_name=names.pipeline_name("training"), inference_pipeline_name=names.pipeline_name("inference"),
        model_package_group_arn=GROUP_ARN.rsplit("/", 1)[0] + f"/{model.group_name}",
        latest_model_lambda_arn=LAMBDA_ARN.replace("latest-approved", f"{names.prefix}-latest-approved"),
        schema_uri=f"s3://{BUCKET}/{contract.SCHEMAS_PREFIX}/{schema_digest}/{contract.SCHEMA_FILE}",
        training_data_key=names.training_data_prefix, batch_data_key=names.batch_data_prefix,
        artifacts_prefix=names.artifacts_prefix)
    return fields


def definitions(settings: PipelineSettings) -> dict[str, dict]:
    return {kind: json.loads(build(settings)) for kind, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def built_models(mammography, second):
    settings = {m.name: settings_for_model(m, **stack_fields(m, schema_digest=digest))
                for m, digest in ((mammography, "00112233445566ff"), (second, "ffeeddccbbaa9988"))}
    return {name: {"settings": s, **definitions(s)} for name, s in settings.items()}


def test_a_models_own_fields_come_from_its_spec(second):
    settings = settings_for_model(second, **stack_fields(second))
    assert dict(settings.hyperparameters) == dict(second.hyperparameters)
    assert settings.auc_threshold == 0.72
    assert (settings.processing_instance_type, settings.processing_instance_count,
            settings.processing_max_runtime_seconds) == ("ml.m5.xlarge", 2, 1800)
    assert (settings.training_instance_type, settings.training_instance_count,
            settings.training_max_runtime_seconds) == ("ml.c5.2xlarge", 3, 7200)
    # A transform job has no job-level limit in SageMaker: the model's bounds each request.
    assert (settings.transform_instance_type, settings.transform_instance_count,
            settings.transform_invocation_timeout_seconds) == ("ml.c5.xlarge", 4, 900)


def test_the_stack_may_not_restate_what_the_model_decides(second):
    with pytest.raises(ValueError, match=r"\['auc_threshold'\] come from model 'm01'"):
        settings_for_model(second, **stack_fields(second), auc_threshold=0.9)


def test_a_transform_limit_beyond_what_sagemaker_allows_names_the_config_key(second):
    jobs = {**second.jobs, "transform": JobSizing("ml.m5.large", 1, 7200)}
    with pytest.raises(ValueError, match=r"models\.m01\.jobs\.transform\.maxRuntimeSeconds is 7200.*3600"):
        settings_for_model(dataclasses.replace(second, jobs=jobs), **stack_fields(second))


def test_the_second_models_definitions_carry_its_hyperparameters_sizing_schema_and_prefixes(built_models, second):
    built = built_models["m01"]
    training, inference = steps_by_name(json.dumps(built["training"])), steps_by_name(json.dumps(built["inference"]))
    train = training["TrainXGBoost"]["Arguments"]
    assert train["HyperParameters"] == dict(second.hyperparameters)
    assert train["ResourceConfig"]["InstanceCount"] == 3
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    params = {p["Name"]: p.get("DefaultValue") for kind in BUILDERS for p in built[kind]["Parameters"]}
    assert params[contract.PARAM_INPUT_DATA] == f"s3://{BUCKET}/datasets/m01/training/"
    assert params[contract.PARAM_BATCH_DATA] == f"s3://{BUCKET}/datasets/m01/batches/latest/"
    assert (params[contract.PARAM_PROCESSING_INSTANCE], params[contract.PARAM_TRAINING_INSTANCE],
            params[contract.PARAM_TRANSFORM_INSTANCE], params[contract.PARAM_AUC_THRESHOLD]) == (
        "ml.m5.xlarge", "ml.c5.2xlarge", "ml.c5.xlarge", 0.72)
    assert inference["BatchTransform"]["Arguments"]["TransformResources"]["InstanceCount"] == 4
    schema_uri = built["settings"].schema_uri
    for kind, steps in (("training", training), ("inference", inference)):
        for name in PROCESSING_STEPS[kind]:
            args = steps[name]["Arguments"]
            inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in args["ProcessingInputs"]}
            assert inputs["schema"] == schema_uri, f"{kind} {name}"
            assert args["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 2
            assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    model_output = train["OutputDataConfig"]["S3OutputPath"]["Std:Join"]["Values"]
    assert model_output[2:4] == ["models/dev/m01", "mlops-dev-m01-training"]


# Why each path may differ between two models' definitions, by what differs between them.
ALLOWED = {
    "pipeline names, artifacts prefix": r"Steps\[.+\]\.Arguments\.(ProcessingOutputConfig\.Outputs\[\w+\]\.S3Output\."
                                        r"S3Uri|OutputDataConfig\.S3OutputPath|TransformOutput\.S3OutputPath)"
                                        r"\.Std:Join\.Values\[[23]\]",
    "hyperparameters": r"Steps\[TrainXGBoost\]\.Arguments\.HyperParameters\.\w+",
    "schema": r"Steps\[\w+\]\.Arguments\.ProcessingInputs\[schema\]\.S3Input\.S3Uri",
    "data prefixes, instance types, threshold": r"Parameters\[\w+\]\.DefaultValue",
    "instance counts": r"Steps\[\w+\]\.Arguments\.(ProcessingResources\.ClusterConfig|ResourceConfig|"
                       r"TransformResources)\.InstanceCount",
    "runtimes": r"Steps\[\w+\]\.Arguments\.(StoppingCondition\.MaxRuntimeInSeconds|"
                r"ModelClientConfig\.InvocationsTimeoutInSeconds)",
    "group": r"Steps\[(LatestApprovedModel\]\.Arguments\.ModelPackageGroupName|AucAboveThreshold\]\.Arguments\."
             r"IfSteps\[RegisterModel\]\.Arguments\.ModelPackageGroupName)",
    "transform instance type": r"Steps\[AucAboveThreshold\]\.Arguments\.IfSteps\[RegisterModel\]\.Arguments\."
                               r"InferenceSpecification\.Supported\w+InstanceTypes\[0\]",
    "lookup function": r"Steps\[LatestApprovedModel\]\.FunctionArn",
}


@pytest.mark.parametrize("kind", BUILDERS)
def test_two_models_definitions_differ_only_where_the_models_differ(built_models, kind):
    found = differences(built_models["mammography"][kind], built_models["m01"][kind])
    unexplained = sorted(p for p in found if not any(re.fullmatch(rx, p) for rx in ALLOWED.values()))
    assert unexplained == []
    explained = {why for why, rx in ALLOWED.items() if any(re.fullmatch(rx, p) for p in found)}
    assert {"pipeline names, artifacts prefix", "schema", "data prefixes, instance types, threshold",
            "instance counts", "runtimes", "group"} <= explained


# One model field at a time: the exact paths of the definitions it reaches, and nothing else.
ONE_FIELD = [
    ("hyperparameters", {"hyperparameters": {"num_round": "7", "max_depth": "3"}},
     {"training": {"Steps[TrainXGBoost].Arguments.HyperParameters." + k
                   for k in ("eta", "eval_metric", "max_depth", "num_round", "objective", "seed", "subsample")}}),
    ("schema", {"schema_uri": f"s3://{BUCKET}/code/schemas/aaaaaaaaaaaaaaaa/schema.json"},
     {kind: {f"Steps[{s}].Arguments.ProcessingInputs[schema].S3Input.S3Uri" for s in steps}
      for kind, steps in PROCESSING_STEPS.items()}),
    ("training data", {"training_data_key": "datasets/m01/training/"},
     {"training": {"Parameters[InputDataUri].DefaultValue"}}),
    ("batch data", {"batch_data_key": "datasets/m01/batches/latest/"},
     {"inference": {"Parameters[BatchDataUri].DefaultValue"}}),
    ("threshold", {"auc_threshold": 0.9}, {"training": {"Parameters[AucThreshold].DefaultValue"}}),
    ("training count", {"training_instance_count": 2},
     {"training": {"Steps[TrainXGBoost].Arguments.ResourceConfig.InstanceCount"}}),
    ("transform count", {"transform_instance_count": 3},
     {"inference": {"Steps[BatchTransform].Arguments.TransformResources.InstanceCount"}}),
]


@pytest.mark.parametrize(("what", "change", "expected"), ONE_FIELD, ids=[w for w, _, _ in ONE_FIELD])
def test_each_model_field_reaches_exactly_its_places(built, what, change, expected):
    base = built("isolated")
    changed = definitions(dataclasses.replace(base["settings"], **change))
    for kind in BUILDERS:
        assert differences(json.loads(base[kind]), changed[kind]) == expected.get(kind, set()), kind


def test_building_other_models_first_changes_no_byte_of_a_definition(built, second):
    """The SDK session is shared by every build of a process (ml/pipelines/offline_sdk.py): what
    was built before must not leak into the next definition."""
    base = built("isolated")
    definitions(settings_for_model(second, **stack_fields(second)))
    assert training_definition(base["settings"]) == base["training"]
    assert inference_definition(base["settings"]) == base["inference"]
