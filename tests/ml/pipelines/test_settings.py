"""PipelineSettings: the inputs of both definitions are validated before any SDK code runs."""
from __future__ import annotations

import dataclasses

import pytest

from ml.pipelines.settings import PipelineSettings
from tests.ml.pipelines.sample import ACCOUNT, BUCKET, REGION, library_uris, sample_settings, script_uris


def test_sample_settings_are_valid_and_defaults_are_conservative():
    settings = sample_settings()
    assert settings.network_isolation is True
    assert settings.vpc_enabled is False
    assert 0 < settings.auc_threshold < 1
    assert settings.training_max_runtime_seconds <= 24 * 3600
    assert settings.training_data_uri == f"s3://{BUCKET}/datasets/training/"  # a prefix: all labelled data
    assert settings.pipeline_outputs_uri == f"s3://{BUCKET}/pipelines"


def test_settings_are_frozen_and_their_mappings_read_only():
    settings = sample_settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.region = "us-east-1"
    with pytest.raises(TypeError):
        settings.tags["owner"] = "someone"
    with pytest.raises(TypeError):
        settings.script_uris["preprocess.py"] = "s3://elsewhere/preprocess.py"


def test_mappings_are_copied_so_later_changes_to_the_caller_dict_do_not_leak():
    tags = {"b": "2", "a": "1"}
    settings = sample_settings(tags=tags)
    tags["c"] = "3"
    assert list(settings.tags) == ["a", "b"]


BAD = [
    ("region", "Ireland", "region"),
    ("account_id", "1234", "account_id"),
    ("training_pipeline_name", "bad_name!", "training_pipeline_name"),
    ("inference_pipeline_name", "mlops-dev-training", "must differ"),
    ("role_arn", "mlops-dev-sagemaker-execution", "role_arn"),
    ("role_arn", "arn:aws:iam::999999999999:role/other", "account"),
    ("data_bucket", f"s3://{BUCKET}", "data_bucket"),
    ("kms_key_arn", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/data", "kms_key_arn"),
    ("kms_key_arn", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abcd", "region"),
    ("model_package_group_arn", "mammography", "model_package_group_arn"),
    ("latest_model_lambda_arn", "latest-approved-model", "latest_model_lambda_arn"),
    ("auc_threshold", 1.0, "auc_threshold"),
    ("auc_threshold", 0, "auc_threshold"),
    ("auc_threshold", True, "auc_threshold"),
    ("training_max_runtime_seconds", 0, "training_max_runtime_seconds"),
    ("processing_max_runtime_seconds", 3 * 24 * 3600, "processing_max_runtime_seconds"),
    ("transform_invocation_timeout_seconds", 7200, "transform_invocation_timeout_seconds"),
    ("training_instance_type", "m5.large", "training_instance_type"),
    ("transform_instance_count", 0, "transform_instance_count"),
    ("subnets", ("subnet-0123456789abcdef0",), "go together"),
    ("security_group_ids", ("sg-0123456789abcdef0",), "go together"),
    ("subnets", ("vpc-0123",), "subnets"),
    ("tags", {"aws:cost": "x"}, "tag key"),
    ("experiment_name", "bad name", "experiment_name"),
    ("cache_expire_after", "7 days", "cache_expire_after"),
    ("output_prefix", "/pipelines", "output_prefix"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD, ids=[f"{f}={v!r}" for f, v, _ in BAD])
def test_each_bad_value_is_rejected_with_a_message_naming_it(field, value, message):
    with pytest.raises(ValueError, match=message):
        sample_settings(**{field: value})


def test_script_uris_must_name_exactly_the_four_step_scripts():
    uris = script_uris()
    del uris["evaluate.py"]
    with pytest.raises(ValueError, match=r"missing \['evaluate.py'\]"):
        sample_settings(script_uris=uris)
    with pytest.raises(ValueError, match=r"unknown \['extra.py'\]"):
        sample_settings(script_uris={**script_uris(), "extra.py": f"s3://{BUCKET}/code/x/extra.py"})


BAD_MODEL_FIELDS = [
    ("hyperparameters", {}, "non-empty"),
    ("hyperparameters", {"num_round": 50}, "text of 1 to 2500"),
    ("hyperparameters", {"max_depth": "2"}, r"must set \['num_round'\]"),
    ("hyperparameters", {"num_round": "5", "max depth": "2"}, "hyperparameter name"),
    ("hyperparameters", {"num_round": "5", **{f"k{i}": "1" for i in range(100)}}, "at most 100"),
    ("schema_uri", "code/schemas/abc/schema.json", "schema_uri"),
    ("schema_uri", f"s3://{BUCKET}/code/schemas/abc/other.json", "must end with /schema.json"),
    ("library_uris", {}, r"missing \['tabular.py'"),
    ("library_uris", {**library_uris(), "tabular.py": f"s3://{BUCKET}/code/steps/abc/other.py"},
     "must end with /tabular.py"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_MODEL_FIELDS,
                         ids=[f"{f}={str(v)[:30]}" for f, v, _ in BAD_MODEL_FIELDS])
def test_each_bad_model_field_is_rejected_with_a_message_naming_it(field, value, message):
    with pytest.raises(ValueError, match=message):
        sample_settings(**{field: value})


def test_shared_modules_must_lie_in_one_directory_that_one_input_ships(monkeypatch):
    from ml import contract

    monkeypatch.setattr(contract, "STEP_LIBRARY_MODULES", ("tabular.py", "tabular_cells.py"))
    together = {name: f"s3://{BUCKET}/code/steps/abc/{name}" for name in contract.STEP_LIBRARY_MODULES}
    assert sample_settings(library_uris=together).library_dir_uri == f"s3://{BUCKET}/code/steps/abc/"
    apart = {**together, "tabular_cells.py": f"s3://{BUCKET}/code/steps/def/tabular_cells.py"}
    with pytest.raises(ValueError, match="one directory"):
        sample_settings(library_uris=apart)


def test_model_mappings_are_frozen_and_sorted():
    hyperparameters = {"seed": "1", "num_round": "5"}
    settings = sample_settings(hyperparameters=hyperparameters)
    hyperparameters["eta"] = "0.3"
    assert list(settings.hyperparameters) == ["num_round", "seed"]
    with pytest.raises(TypeError):
        settings.hyperparameters["eta"] = "0.3"
    with pytest.raises(TypeError):
        settings.library_uris["tabular.py"] = "s3://elsewhere/tabular.py"


def test_script_uris_must_be_s3_and_end_with_the_script_name():
    with pytest.raises(ValueError, match="s3://"):
        sample_settings(script_uris={**script_uris(), "preprocess.py": "ml/steps/preprocess.py"})
    with pytest.raises(ValueError, match="must end with /preprocess.py"):
        sample_settings(script_uris={**script_uris(), "preprocess.py": f"s3://{BUCKET}/code/abc/other.py"})


def test_a_vpc_needs_subnets_and_security_groups_together():
    settings = sample_settings(subnets=["subnet-0123456789abcdef0"], security_group_ids=["sg-0123456789abcdef0"])
    assert settings.vpc_enabled
    assert settings.subnets == ("subnet-0123456789abcdef0",)  # lists become tuples


def test_registry_group_may_live_in_another_account_but_not_another_region():
    other_account = sample_settings(
        model_package_group_arn=f"arn:aws:sagemaker:{REGION}:444455556666:model-package-group/g")
    assert other_account.model_package_group_arn.split(":")[4] == "444455556666"
    with pytest.raises(ValueError, match="region"):
        sample_settings(model_package_group_arn="arn:aws:sagemaker:us-east-1:444455556666:model-package-group/g")


def test_required_fields_have_no_defaults():
    required = [f.name for f in dataclasses.fields(PipelineSettings)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    assert required == ["region", "account_id", "training_pipeline_name", "inference_pipeline_name",
                        "role_arn", "data_bucket", "kms_key_arn", "model_package_group_arn",
                        "script_uris", "latest_model_lambda_arn", "hyperparameters", "schema_uri",
                        "library_uris"]


def test_artifacts_bucket_and_key_go_together():
    from tests.ml.pipelines.sample import REGISTRY_BUCKET, REGISTRY_KEY

    with pytest.raises(ValueError, match="artifacts_bucket and artifacts_kms_key_arn go together"):
        sample_settings(artifacts_bucket=REGISTRY_BUCKET)
    with pytest.raises(ValueError, match="artifacts_kms_key_arn is in region us-east-1"):
        sample_settings(artifacts_bucket=REGISTRY_BUCKET,
                        artifacts_kms_key_arn=REGISTRY_KEY.replace("eu-west-1", "us-east-1"))
    central = sample_settings(artifacts_bucket=REGISTRY_BUCKET, artifacts_kms_key_arn=REGISTRY_KEY)
    assert (central.model_bucket, central.model_kms_key_arn) == (REGISTRY_BUCKET, REGISTRY_KEY)
    alone = sample_settings()
    assert (alone.model_bucket, alone.model_kms_key_arn) == (alone.data_bucket, alone.kms_key_arn)
