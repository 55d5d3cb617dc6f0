"""Definitions built once per session (a build costs a few seconds) for the three network
shapes the platform supports: isolated (default), isolated inside a VPC, and open; each with the
live-drift pipeline of a model an endpoint serves (its settings carry the live fields, which the
training and inference definitions do not depend on)."""
from __future__ import annotations

import pytest

from ml.pipelines import inference_definition, live_drift_definition, training_definition
from tests.ml.pipelines.sample import CENTRAL, LIVE, VPC, sample_settings

SHAPES = {
    "isolated": {},
    "vpc": dict(VPC),
    "open": dict(network_isolation=False),
    "central": dict(CENTRAL),
}


@pytest.fixture(scope="session")
def built():
    """{shape: {"settings", "training", "inference", "live-drift"}}; definitions as JSON text, built lazily."""
    cache: dict[str, dict] = {}

    def get(shape: str) -> dict:
        if shape not in cache:
            settings = sample_settings(**SHAPES[shape], **LIVE)
            cache[shape] = {
                "settings": settings,
                "training": training_definition(settings),
                "inference": inference_definition(settings),
                "live-drift": live_drift_definition(settings),
            }
        return cache[shape]

    return get
