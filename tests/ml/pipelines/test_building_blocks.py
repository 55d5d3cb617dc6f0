"""Step building blocks whose effect the full-definition tests do not pin down."""
from __future__ import annotations

import json

from ml.pipelines import building_blocks as blocks
from ml.pipelines.offline_sdk import offline_sdk
from ml.pipelines.training import training_definition
from tests.ml.pipelines.sample import REGION, sample_settings
from tests.support.pipeline_definitions import steps_by_name


def test_a_named_experiment_replaces_the_pipeline_name():
    with offline_sdk(REGION):
        config = blocks.experiment_config(sample_settings(experiment_name="mammography-dev")).to_request()
    assert config["ExperimentName"] == "mammography-dev"
    assert config["TrialName"].expr == {"Get": "Execution.PipelineExecutionId"}


def test_caching_can_be_switched_off():
    settings = sample_settings(cache_expire_after=None, tags={})
    assert blocks.cache_config(settings) is None
    assert blocks.job_tags(settings) is None
    definition = training_definition(settings)
    assert all("CacheConfig" not in step for step in steps_by_name(definition).values())
    assert all("Tags" not in step.get("Arguments", {}) for step in steps_by_name(definition).values())
    assert json.loads(definition)["Steps"]


def test_no_network_settings_without_a_vpc_or_isolation():
    settings = sample_settings(network_isolation=False)
    assert blocks.processing_network(settings) is None
    assert blocks.networking(settings) is None
