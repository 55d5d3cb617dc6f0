"""Serving as configuration: a mode and an endpoint's size per model, and the served version
pinned per stack, checked against the model's own group and region before anything exists."""
from __future__ import annotations

import pytest

from ml.model_checks import Report
from ml.models import PROJECT_ROOT
from ml.serving_config import PINS_KEY, Pin, Serving, parse_serving, resolve_pins

GROUPS = {"mammography": "mammo-severity-model-package", "wdbc": "wdbc-model-package"}
REGISTRY = "111111111111"
ARN = f"arn:aws:sagemaker:eu-west-1:{REGISTRY}:model-package/mammo-severity-model-package/7"


def _serving(raw):
    problems: list[tuple[str, str]] = []
    return parse_serving(Report(lambda k, m: problems.append((k, m))), "m.serving", raw), problems


def _pins(raw, serving=None):
    problems, notes = [], []
    serving = serving or {"mammography": Serving(mode="endpoint"), "wdbc": Serving()}
    pins = resolve_pins(raw, serving=serving, groups=GROUPS, region="eu-west-1", registry_account=REGISTRY,
                        fail=lambda k, m: problems.append((k, m)), note=notes.append)
    return pins, problems, notes


def test_without_a_serving_entry_a_model_is_served_by_batch_only():
    serving, problems = _serving(None)
    assert serving == Serving() and not serving.endpoint and serving.batch and problems == []


def test_an_endpoint_entry_is_read_with_its_bounds():
    serving, problems = _serving({"mode": "both", "instanceType": "ml.c5.xlarge", "initialCount": 2,
                                  "autoscaling": {"min": 1, "max": 4, "targetInvocationsPerInstance": "250"},
                                  "canaryPercent": 20, "maxP99LatencyMs": 300})
    assert problems == []
    assert serving == Serving("both", "ml.c5.xlarge", 2, 1, 4, 250, 20, 300)
    assert serving.endpoint and serving.batch


def test_every_bad_serving_value_is_reported_at_once_with_its_key():
    serving, problems = _serving({"mode": "realtime", "instanceType": "m5.large", "initialCount": 0,
                                  "autoscaling": {"min": 3, "max": 2, "target": 5}, "canaryPercent": 80, "modee": 1})
    keys = {k for k, _ in problems}
    assert serving is None
    assert keys == {"m.serving.mode", "m.serving.instanceType", "m.serving.initialCount", "m.serving.canaryPercent",
                    "m.serving.modee", "m.serving.autoscaling.target", "m.serving.autoscaling"}
    assert any("did you mean mode" in m for _, m in problems)


def test_autoscaling_bounds_must_hold_the_initial_count():
    serving, problems = _serving({"mode": "endpoint", "initialCount": 5, "autoscaling": {"min": 1, "max": 3}})
    assert serving is None and problems == [("m.serving.autoscaling", problems[0][1])]
    assert "min <= initialCount <= max" in problems[0][1]


def test_a_version_number_pins_that_version_of_the_models_group():
    pins, problems, notes = _pins({"mammography": "7"})
    assert problems == [] and notes == []
    assert pins == {"mammography": Pin("mammography", ARN, 7)}


def test_an_arn_pin_must_be_a_version_of_the_models_own_group_in_this_region_and_registry():
    assert _pins({"mammography": ARN})[0] == {"mammography": Pin("mammography", ARN, 7)}
    for wrong, why in ((ARN.replace("mammo-severity-model-package", "wdbc-model-package"), "group"),
                       (ARN.replace("eu-west-1", "us-east-1"), "region"),
                       (ARN.replace(REGISTRY, "222222222222"), "account"),
                       (ARN.replace("arn:aws:", "arn:aws-cn:"), "partition")):
        pins, problems, _ = _pins({"mammography": wrong})
        assert pins is None and problems[0][0] == f"{PINS_KEY}.mammography" and f"its {why}" in problems[0][1]


@pytest.mark.parametrize(("raw", "why"), [
    ({"mammography": "latest"}, "version number"), ({"mammography": 0}, "version number from 1"),
    ({"nosuch": "3"}, "not a model of this platform"), ({"wdbc": "3"}, "batch mode only"),
])
def test_pins_that_cannot_serve_are_refused(raw, why):
    pins, problems, _ = _pins(raw)
    assert pins is None and len(problems) == 1 and why in problems[0][1]


def test_an_endpoint_model_without_a_pin_gets_no_endpoint_and_is_told_so():
    pins, problems, notes = _pins(None)
    assert pins == {} and problems == []
    assert len(notes) == 1 and notes[0].startswith("mammography:") and "no endpoint is registered" in notes[0]


def _models(serving_entry, serving_override=None):
    import copy

    import yaml

    from ml.models import ModelDefaults, parse_models
    raw = copy.deepcopy(yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]["mlops-platform:models"]["value"])
    raw["wdbc"]["serving"] = serving_entry
    overrides = {"wdbc": {"serving": serving_override}} if serving_override is not None else None
    problems: list[tuple[str, str]] = []
    specs = parse_models(raw, overrides=overrides, defaults=ModelDefaults(0.85, "rate(1 day)"),
                         first_model="mammography", stack_role="prod", fail=lambda k, m: problems.append((k, m)))
    return ({s.name: s.serving for s in specs} if specs else None), problems


def test_a_models_serving_entry_is_merged_key_by_key_with_the_stacks_override():
    serving, problems = _models({"mode": "endpoint", "instanceType": "ml.m5.large"}, {"instanceType": "ml.c5.xlarge"})
    assert problems == []
    assert serving["wdbc"] == Serving(mode="endpoint", instance_type="ml.c5.xlarge")
    assert serving["mammography"] == Serving()


def test_a_bad_serving_override_is_reported_under_the_override_key():
    serving, problems = _models({"mode": "endpoint"}, {"mode": "streaming"})
    assert serving is None
    assert problems == [("mlops-platform:modelOverrides.wdbc.serving.mode", problems[0][1])]


def test_an_override_of_one_autoscaling_bound_keeps_the_entrys_others():
    entry = {"mode": "endpoint", "autoscaling": {"min": 1, "max": 3, "targetInvocationsPerInstance": 200}}
    serving, problems = _models(entry, {"autoscaling": {"max": 6}})
    assert problems == []
    wdbc = serving["wdbc"]
    assert (wdbc.min_count, wdbc.max_count, wdbc.target_invocations_per_instance) == (1, 6, 200)
