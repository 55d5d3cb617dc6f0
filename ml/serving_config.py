"""How a model is served, and which version serves in a stack: parsed and checked once.

A model's `serving` entry (in `mlops-platform:models`, overridable per stack in
`mlops-platform:modelOverrides`) says whether it is served by the scheduled batch run, a
real-time endpoint, or both, and how the endpoint is sized and rolled out. Which version an
endpoint serves is pinned per stack, in that stack's file:

    mlops-platform:servedVersions:
      mammography: "7"          # a version number of the model's central group, or its ARN

Pinned, never "latest at deploy time": a preview shows exactly what a merge changes, and
reverting the pull request that pinned a version is the rollback. An endpoint model without a
pin registers no endpoint; `resolve_pins` says so in a note rather than failing, because a new
model has no approved version to pin yet. Standard library only.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ml.model_checks import INSTANCE_TYPE, Report, mapping, number, text, unknown_keys
from mlops_facts import arn
from mlops_facts.regions import partition

PROJECT = "mlops-platform"
PINS_KEY = f"{PROJECT}:servedVersions"
BATCH, ENDPOINT, BOTH = "batch", "endpoint", "both"
MODES = (BATCH, ENDPOINT, BOTH)
SERVING_KEYS = ("mode", "instanceType", "initialCount", "autoscaling", "canaryPercent", "maxP99LatencyMs")
AUTOSCALING_KEYS = ("min", "max", "targetInvocationsPerInstance")
_VERSION_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
                          r"model-package/(?P<group>[A-Za-z0-9-]+)/(?P<version>[1-9][0-9]*)")


@dataclass(frozen=True)
class Serving:
    """How one model is served in one stack (defaults: batch only, the smallest endpoint)."""

    mode: str = BATCH
    instance_type: str = "ml.m5.large"
    initial_count: int = 1
    min_count: int = 1
    max_count: int = 2
    target_invocations_per_instance: int = 100
    canary_percent: int = 10
    max_p99_latency_ms: int = 500

    @property
    def endpoint(self) -> bool:
        return self.mode in (ENDPOINT, BOTH)

    @property
    def batch(self) -> bool:
        return self.mode in (BATCH, BOTH)


def parse_serving(report: Report, key: str, raw: Any) -> Serving | None:
    """The `serving` entry of one model; None (problems reported) when anything is bad."""
    if raw is None:
        return Serving()
    entry = mapping(report, key, raw, "{mode: endpoint, instanceType: ml.m5.large, initialCount: 1}")
    if entry is None:
        return None
    before = report.count
    unknown_keys(report, key, entry, SERVING_KEYS)
    mode = entry.get("mode", BATCH)
    if mode not in MODES:
        report(f"{key}.mode", f"must be one of {', '.join(MODES)}, got {mode!r}.")
    instance = text(report, f"{key}.instanceType", entry.get("instanceType", Serving.instance_type),
                    "an instance type such as ml.m5.large")
    if instance is not None and not INSTANCE_TYPE.fullmatch(instance):
        report(f"{key}.instanceType", f"must look like ml.m5.large (ml.<family>.<size>), got {instance!r}.")
    counts = {name: _whole(report, f"{key}.{name}", entry.get(name, default), low, high)
              for name, default, low, high in (("initialCount", Serving.initial_count, 1, 10),
                                               ("canaryPercent", Serving.canary_percent, 1, 50),
                                               ("maxP99LatencyMs", Serving.max_p99_latency_ms, 1, 60000))}
    scaling = _autoscaling(report, f"{key}.autoscaling", entry.get("autoscaling"), counts["initialCount"])
    if report.count > before or scaling is None:
        return None
    return Serving(str(mode), str(instance), int(counts["initialCount"] or 1), *scaling,
                   int(counts["canaryPercent"] or 1), int(counts["maxP99LatencyMs"] or 1))


def _whole(report: Report, key: str, value: Any, low: int, high: int) -> int | None:
    parsed = number(report, key, value, whole=True, ok=lambda x: low <= x <= high,
                    what=f"a whole number from {low} to {high}")
    return None if parsed is None else int(parsed)


def _autoscaling(report: Report, key: str, raw: Any, initial: int | None) -> tuple[int, int, int] | None:
    entry = {} if raw is None else mapping(report, key, raw, "{min: 1, max: 4, targetInvocationsPerInstance: 100}")
    if entry is None:
        return None
    unknown_keys(report, key, entry, AUTOSCALING_KEYS)
    low = _whole(report, f"{key}.min", entry.get("min", Serving.min_count), 1, 10)
    high = _whole(report, f"{key}.max", entry.get("max", max(Serving.max_count, initial or 1)), 1, 20)
    target = _whole(report, f"{key}.targetInvocationsPerInstance",
                    entry.get("targetInvocationsPerInstance", Serving.target_invocations_per_instance), 1, 100000)
    if low is None or high is None or target is None:
        return None
    if not low <= (initial or low) <= high:
        report(key, f"needs min <= initialCount <= max, got min {low}, initialCount {initial}, max {high}: "
               "widen the bounds or change initialCount.")
        return None
    return low, high, target


@dataclass(frozen=True)
class Pin:
    """The version an endpoint serves: its ARN in the central group, and the number."""

    model: str
    arn: str
    version: int


def resolve_pins(raw: Any, *, serving: Mapping[str, Serving], groups: Mapping[str, str], region: str,
                 registry_account: str, fail: Callable[[str, str], None],
                 note: Callable[[str], None]) -> dict[str, Pin] | None:
    """Every model's pinned version, checked against its group, region and serving mode.

    `serving` and `groups` are keyed by model name (the group is the model's central group
    name). Problems go to `fail(key, message)`; `note` hears about endpoint models that have no
    pin (and so get no endpoint). None when anything is bad.
    """
    report = Report(fail)
    entry = {} if raw is None else mapping(report, PINS_KEY, raw, '{mammography: "7"}')
    if entry is None:
        return None
    pins = {}
    for model, value in sorted(entry.items(), key=lambda kv: str(kv[0])):
        key = f"{PINS_KEY}.{model}"
        if model not in serving:
            report(key, f"pins a version of {model!r}, which is not a model of this platform "
                   f"(models: {', '.join(sorted(serving))}): fix the name or remove the pin.")
        elif not serving[model].endpoint:
            report(key, f"pins a version, but {model} is served in batch mode only: set its serving.mode to "
                   "endpoint or both, or remove the pin.")
        elif (pin := _pin(report, key, str(model), value, groups[model], region, registry_account)) is not None:
            pins[str(model)] = pin
    for model in sorted(m for m, s in serving.items() if s.endpoint and m not in entry):
        note(f"{model}: serving.mode is {serving[model].mode} but {PINS_KEY} pins no version in this stack, so no "
             "endpoint is registered; approve a version, then merge the pull request that pins it.")
    return None if report.count else pins


def _pin(report: Report, key: str, model: str, value: Any, group: str, region: str, account: str) -> Pin | None:
    if isinstance(value, int) and not isinstance(value, bool) or isinstance(value, str) and value.isdigit():
        number_ = int(value)
        if number_ < 1:
            report(key, f"must be a version number from 1, got {value!r}.")
            return None
        return Pin(model, arn("sagemaker", region, account, f"model-package/{group}/{number_}"), number_)
    m = _VERSION_ARN.fullmatch(str(value))
    if m is None:
        report(key, f"must be a version number of the group {group} (e.g. \"7\") or its ARN, got {value!r}.")
        return None
    expected = {"partition": partition(region), "region": region, "account": account, "group": group}
    wrong = [f"{part} {m[part]!r} (expected {want!r})" for part, want in expected.items() if m[part] != want]
    if wrong:
        report(key, f"{value!r} is not a version of {model}'s group in the registry: its {', '.join(wrong)}. "
               "Pin a version of this model's own group, in this stack's region.")
        return None
    return Pin(model, str(value), int(m["version"]))
