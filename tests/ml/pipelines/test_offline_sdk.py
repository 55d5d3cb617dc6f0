"""The offline SDK harness: its effects the full-definition tests (test_offline.py) do not pin down."""
from __future__ import annotations

import os

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
