"""The offline SDK harness: its effects the full-definition tests (test_offline.py) do not pin down."""
from __future__ import annotations

import os

import pytest

from ml.pipelines import offline_sdk
from tests.ml.pipelines.sample import REGION


def test_canonical_json_sorts_keys_and_drops_whitespace():
    assert offline_sdk.canonical_json('{"b": 1, "a": {"d": [1, 2], "c": "é"}}') == \
        '{"a":{"c":"\\u00e9","d":[1,2]},"b":1}'


def test_the_offline_environment_is_set_inside_and_restored_outside(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "true")
    before = dict(os.environ)
    with offline_sdk.offline_sdk(REGION):
        assert os.environ["AWS_DEFAULT_REGION"] == REGION
        assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
        assert os.environ["SAGEMAKER_VALIDATE_ROLE"] == "false"
    assert dict(os.environ) == before


def test_an_explicit_region_in_the_environment_is_left_alone(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with offline_sdk.offline_sdk(REGION):
        assert "AWS_DEFAULT_REGION" not in os.environ
        assert os.environ["AWS_REGION"] == "us-east-1"


def test_the_sdk_is_patched_inside_only_and_restored_outside():
    from sagemaker.core.config import config as config_module
    from sagemaker.core.helper import session_helper
    from sagemaker.mlops.workflow import steps

    before = (steps.LocalSagemakerClient, config_module.validate_sagemaker_config,
              session_helper.validate_sagemaker_config)
    with offline_sdk.offline_sdk(REGION):
        # The steps only read a method name off this client: the stand-in builds no session.
        client = steps.LocalSagemakerClient()
        assert client.sagemaker_session is None
        assert client.create_processing_job.__name__ == "create_processing_job"
        assert config_module.validate_sagemaker_config is not before[1]
        patched = steps.LocalSagemakerClient
        with offline_sdk.offline_sdk(REGION):  # nested, as definition() inside a build
            assert steps.LocalSagemakerClient is patched
        assert steps.LocalSagemakerClient is patched, "an inner exit keeps the outer entry's patches"
    assert (steps.LocalSagemakerClient, config_module.validate_sagemaker_config,
            session_helper.validate_sagemaker_config) == before


def test_a_config_is_validated_once_per_process_and_a_bad_one_still_fails():
    calls = []

    def validate(config=None):
        calls.append(config)
        if config.get("bad"):
            raise ValueError("invalid")

    once = offline_sdk._validate_once(validate)
    once({"a": 1})
    once({"a": 1})
    assert calls == [{"a": 1}]
    for _ in range(2):
        with pytest.raises(ValueError):
            once({"bad": True})  # never remembered as valid
    assert len(calls) == 3


def test_every_model_of_a_stack_shares_one_sdk_session(built):
    """Making a session creates a dozen boto3 clients: one per bucket and region, not per model."""
    from tests.ml.pipelines.sample import sample_settings

    base = built("isolated")["settings"]
    first = offline_sdk.pipeline_session(base)
    other_model = sample_settings(training_pipeline_name="mlops-dev-m01-training",
                                  inference_pipeline_name="mlops-dev-m01-inference",
                                  hyperparameters={"num_round": "5"})
    assert offline_sdk.pipeline_session(other_model) is first
    assert offline_sdk.pipeline_session(sample_settings(data_bucket="another-bucket-111122223333")) is not first
