"""Definitions built once per session (a build costs a few seconds) for the three network
shapes the platform supports: isolated (default), isolated inside a VPC, and open."""
from __future__ import annotations

import json

import pytest

from ml.pipelines import inference_definition, training_definition
from tests.ml.pipelines.sample import CENTRAL, VPC, sample_settings

SHAPES = {
    "isolated": {},
    "vpc": dict(VPC),
    "open": dict(network_isolation=False),
    "central": dict(CENTRAL),
}


@pytest.fixture(scope="session")
def built():
    """{shape: {"settings", "training", "inference"}}; definitions as JSON text, built lazily."""
    cache: dict[str, dict] = {}

    def get(shape: str) -> dict:
        if shape not in cache:
            settings = sample_settings(**SHAPES[shape])
            cache[shape] = {
                "settings": settings,
                "training": training_definition(settings),
                "inference": inference_definition(settings),
            }
        return cache[shape]

    return get


def steps_by_name(definition: str) -> dict[str, dict]:
    """Every step of a definition (condition branches included), by name."""
    found: dict[str, dict] = {}

    def walk(steps):
        for step in steps:
            found[step["Name"]] = step
            for branch in ("IfSteps", "ElseSteps"):
                walk(step.get("Arguments", {}).get(branch, []))

    walk(json.loads(definition)["Steps"])
    return found


JOB_TYPES = ("Processing", "Training", "Transform")


def all_strings(node):
    """Every string value anywhere in a parsed definition."""
    if isinstance(node, dict):
        for value in node.values():
            yield from all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_strings(value)
    elif isinstance(node, str):
        yield node
