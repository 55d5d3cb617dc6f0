"""What check() rejects, field by field (ml/sagemaker_pipeline/validation.py); no AWS."""
from __future__ import annotations

import pytest
from pulumi.output import Unknown

from ml.sagemaker_pipeline import SageMakerPipelineProvider
from ml.sagemaker_pipeline.inputs import INPUT_KEYS, UNKNOWN
from ml.sagemaker_pipeline.validation import FIELD_RULES, MAX_DEFINITION_BYTES
from tests.ml.support_pipeline_inputs import OTHER_ACCOUNT, definition, inputs

provider = SageMakerPipelineProvider()


def failures(**overrides) -> dict[str, str]:
    """property -> all its reasons, joined."""
    result = provider.check({}, inputs(**overrides))
    reasons: dict[str, str] = {}
    for f in result.failures:
        reasons[f.property] = "; ".join(filter(None, [reasons.get(f.property), f.reason]))
    return reasons


def test_every_input_has_exactly_one_validator():
    assert set(FIELD_RULES) == set(INPUT_KEYS)


def test_valid_inputs_pass_and_wire_floats_become_ints():
    result = provider.check({}, inputs(parallelism=4.0, description=None, tags=None,
                                       stop_timeout_seconds=60.0))
    assert result.failures == []
    assert result.inputs["parallelism"] == 4 and isinstance(result.inputs["parallelism"], int)
    assert result.inputs["stop_timeout_seconds"] == 60
    assert isinstance(result.inputs["stop_timeout_seconds"], int)
    assert result.inputs["description"] == "" and result.inputs["tags"] == {}


def test_only_input_keys_are_kept():
    result = provider.check({}, {**inputs(), "arn": None, "definition_sha256": None})
    assert set(result.inputs) == set(INPUT_KEYS)


def test_a_missing_stop_timeout_gets_the_default():
    assert provider.check({}, inputs()).inputs["stop_timeout_seconds"] == 1200


@pytest.mark.parametrize("name", ["-lead", "trail-", "under_score", "", "a" * 257, 42])
def test_bad_names_are_rejected_with_an_example(name):
    assert "mlops-dev-training" in failures(name=name)["name"]


@pytest.mark.parametrize("name", ["a", "A1", "a--b", "a" * 256])
def test_good_names_pass(name):
    assert "name" not in failures(name=name)


def test_definition_must_be_json():
    assert "not valid JSON" in failures(definition="not json")["definition"]


def test_definition_must_have_a_steps_list():
    assert "'Steps' list" in failures(definition='{"Version": "2020-12-01"}')["definition"]


def test_oversized_definition_says_what_to_do():
    big = definition(steps=1500)
    assert len(big.encode()) > MAX_DEFINITION_BYTES
    reason = failures(definition=big)["definition"]
    assert "100 KiB" in reason and "split the pipeline" in reason


@pytest.mark.parametrize("arn", ["arn:aws:iam::123:role/x", "arn:aws:iam::123456789012:user/x",
                                 "role/x", None])
def test_role_arn_shape(arn):
    assert "IAM role ARN" in failures(role_arn=arn)["role_arn"]


def test_assumed_role_must_share_the_pipeline_account():
    reason = failures(assume_role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/deploy")
    assert "same account" in reason["assume_role_arn"]


def test_assumed_role_shape_is_judged_even_when_the_pipeline_role_is_unknown():
    reason = failures(role_arn=UNKNOWN, assume_role_arn="role/deploy")
    assert "IAM role ARN" in reason["assume_role_arn"] and "role_arn" not in reason


@pytest.mark.parametrize("value", [0, 1001, 2.5, True, "4"])
def test_parallelism_range(value):
    assert "1 to 1000" in failures(parallelism=value)["parallelism"]


@pytest.mark.parametrize("value", [0, 3601, 2.5, False, "60"])
def test_stop_timeout_range(value):
    reason = failures(stop_timeout_seconds=value)["stop_timeout_seconds"]
    assert "1 to 3600" in reason and "running executions" in reason


@pytest.mark.parametrize("region", ["eu-west", "EU-WEST-1", "", None])
def test_region_shape(region):
    assert "eu-west-1" in failures(region=region)["region"]


def test_reserved_and_oversized_tags():
    reason = failures(tags={"aws:owner": "x", "k": "v" * 300})["tags"]
    assert "'aws:' prefix" in reason and "value of 'k'" in reason


def test_description_limit():
    assert "3072" in failures(description="d" * 3073)["description"]


def test_start_parameters_must_be_declared_in_the_definition():
    reason = failures(start_parameters={"Nope": "x"})["start_parameters"]
    assert "'Nope'" in reason and "InputDataUrl" in reason
    assert "start_parameters" not in failures(start_parameters={"InputDataUrl": "s3://b/k"})


@pytest.mark.parametrize("flag", ["adopt_existing", "start_on_create"])
def test_switches_become_booleans_and_unknown_ones_stay_unknown(flag):
    assert provider.check({}, inputs(**{flag: 1})).inputs[flag] is True
    assert provider.check({}, inputs(**{flag: None})).inputs[flag] is False
    assert provider.check({}, inputs(**{flag: UNKNOWN})).inputs[flag] == UNKNOWN


@pytest.mark.parametrize("unknown", [UNKNOWN, Unknown()], ids=["wire", "host"])
def test_unknown_values_are_not_judged_in_preview(unknown):
    assert failures(role_arn=unknown, definition=unknown, tags={"a": unknown},
                    stop_timeout_seconds=unknown) == {}


def test_every_problem_is_reported_at_once():
    assert {"name", "region", "parallelism", "stop_timeout_seconds"} <= set(failures(
        name="_", region="x", parallelism=0, stop_timeout_seconds=0))
