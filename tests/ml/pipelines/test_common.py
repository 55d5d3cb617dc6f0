"""Shared builder pieces whose effect the full-definition tests do not pin down."""
from __future__ import annotations

import json

from ml.pipelines import common
from ml.pipelines.training import training_definition
from tests.ml.pipelines.conftest import steps_by_name
from tests.ml.pipelines.sample import REGION, sample_settings


def test_canonical_json_sorts_keys_and_drops_whitespace():
    assert common.canonical_json('{"b": 1, "a": {"d": [1, 2], "c": "é"}}') == '{"a":{"c":"\\u00e9","d":[1,2]},"b":1}'


def test_a_named_experiment_replaces_the_pipeline_name():
    with common.offline_sdk(REGION):
        config = common.experiment_config(sample_settings(experiment_name="mammography-dev")).to_request()
    assert config["ExperimentName"] == "mammography-dev"
    assert config["TrialName"].expr == {"Get": "Execution.PipelineExecutionId"}


def test_caching_can_be_switched_off():
    settings = sample_settings(cache_expire_after=None, tags={})
    assert common.cache_config(settings) is None
    assert common.job_tags(settings) is None
    definition = training_definition(settings)
    assert all("CacheConfig" not in step for step in steps_by_name(definition).values())
    assert all("Tags" not in step.get("Arguments", {}) for step in steps_by_name(definition).values())
    assert json.loads(definition)["Steps"]
