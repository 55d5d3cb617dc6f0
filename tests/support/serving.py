"""Stack configs with real-time serving on, generated for tests (the shipped files pin nothing).

`served_config(config, stack)` takes a stack's merged config values (`stack_config`, or
`many_models_config`) and serves every model (or those named) by endpoint and batch: a workload
stack pins version 7 of each model's group, dev by number and prod by ARN (both forms a stack file
may use), and prod sizes the first model's endpoint larger through its `modelOverrides` (as a stack
file would: merged key by key with the model's entry). Use it as

    config, secret_keys = stack_config("prod")
    run_stack("prod", config=served_config(config, "prod"), secret_keys=secret_keys, registry_outputs=...)
"""
from __future__ import annotations

import copy
from typing import Any

from mlops_platform.offline.stack_files import PROJECT

MODELS_KEY = f"{PROJECT}:models"
OVERRIDES_KEY = f"{PROJECT}:modelOverrides"
FIRST_MODEL_KEY = f"{PROJECT}:firstModel"
PINS_KEY = f"{PROJECT}:servedVersions"
VERSION = 7
SERVING = {"mode": "both", "instanceType": "ml.m5.large", "initialCount": 1,
           "autoscaling": {"min": 1, "max": 3, "targetInvocationsPerInstance": 200},
           "canaryPercent": 20, "maxP99LatencyMs": 250}
# What prod changes of the first model's endpoint (merged key by key with SERVING, the autoscaling
# map's keys too).
PROD_OVERRIDE = {"instanceType": "ml.c5.xlarge", "initialCount": 2,
                 "autoscaling": {"min": 2, "max": 4, "targetInvocationsPerInstance": 300}}


def version_arn(config: dict[str, Any], model: str, version: int = VERSION) -> str:
    """The ARN of `version` of `model`'s central group, in the config's region and registry account."""
    group = config[MODELS_KEY][model]["modelPackageGroupName"]
    region, registry = config["aws:region"], config[f"{PROJECT}:accounts"]["registry"]
    return f"arn:aws:sagemaker:{region}:{registry}:model-package/{group}/{version}"


def served_config(config: dict[str, Any], stack: str, models: list[str] | None = None) -> dict[str, Any]:
    """A copy of `config` serving `models` (default: every model) by endpoint, pinned in dev and prod."""
    out = copy.deepcopy(config)
    entries: dict[str, Any] = out[MODELS_KEY]
    chosen = list(entries) if models is None else list(models)
    for name in chosen:
        entries[name]["serving"] = copy.deepcopy(SERVING)
    if stack == "registry":
        return out
    out[PINS_KEY] = {name: version_arn(out, name) if stack == "prod" else str(VERSION) for name in chosen}
    first = out.get(FIRST_MODEL_KEY) or next(iter(entries))
    if stack == "prod" and first in chosen:
        overrides = out.setdefault(OVERRIDES_KEY, {})
        overrides.setdefault(first, {})["serving"] = copy.deepcopy(PROD_OVERRIDE)
    return out
