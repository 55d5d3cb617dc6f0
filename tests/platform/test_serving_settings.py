"""Which version serves where is per-stack configuration (`mlops-platform:servedVersions`): read
only from a workload stack's own file, checked against each model's group, region and serving mode
with every other config problem before any resource exists; a model served by endpoint without a
pin is not an error but a note, which `pulumi up` prints as a warning and the offline plan shows."""
from __future__ import annotations

import copy
import io
import json

import pytest

from mlops_platform.config_loader import known_keys, load_settings
from mlops_platform.offline import plan
from mlops_platform.offline.plan_diff import diff
from mlops_platform.offline.plan_document import document, render
from mlops_platform.project_stacks import REPOSITORY_ROOT, project_config_keys, stack_roles
from mlops_platform.settings import ConfigError
from tests.support.serving import served_config, version_arn
from tests.support.stacks import StackRun, encode, run_stack, stack_config

P = "mlops-platform"
PINS = f"{P}:servedVersions"
NO_PIN = "wdbc: serving.mode is both but mlops-platform:servedVersions pins no version in this stack"


class _Namespace:
    def __init__(self, encoded, namespace):
        self.encoded, self.namespace = encoded, namespace

    def get(self, key):
        return self.encoded.get(f"{self.namespace}:{key}")


def _load(stack, config, project_keys=None):
    encoded = encode(config)
    return load_settings(_Namespace(encoded, P), _Namespace(encoded, "aws"), stack=stack,
                         github=_Namespace(encoded, "github"), present_keys=set(encoded),
                         stack_roles=stack_roles(REPOSITORY_ROOT), project_keys=project_keys)


def _config(stack, pins=None, serve=("mammography", "wdbc")):
    config, _ = stack_config(stack)
    config = served_config(config, stack, list(serve))
    if pins is not None:
        config[PINS] = pins
    return config


def _problems(stack, config, project_keys=None):
    with pytest.raises(ConfigError) as err:
        _load(stack, config, project_keys)
    return err.value.problems


def test_the_key_is_one_the_project_reads():
    assert PINS in known_keys()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_workload_stacks_pins_reach_its_settings_by_number_or_by_arn(stack):
    config = _config(stack)
    settings = _load(stack, config)
    assert {m: (p.version, p.arn) for m, p in settings.served_versions.items()} == {
        m: (7, version_arn(config, m)) for m in ("mammography", "wdbc")}
    assert settings.notes == ()


def test_the_shipped_stacks_pin_nothing_and_say_so_for_the_model_served_by_endpoint():
    for stack in ("dev", "prod"):
        config, _ = stack_config(stack)
        settings = _load(stack, config)
        assert settings.served_versions == {}
        assert [n for n in settings.notes if n.startswith(NO_PIN)] == list(settings.notes) and settings.notes


def test_pins_in_the_project_file_are_refused_with_where_they_belong():
    config = _config("dev")
    problems = _problems("dev", config, project_keys={f"{P}:models", PINS})
    assert [p.split(":")[0] + ":" + p.split(":")[1] for p in problems] == [PINS]
    assert "Pulumi.dev.yaml and Pulumi.prod.yaml" in problems[0]


def test_pins_in_the_registrys_file_are_refused():
    config, _ = stack_config("registry")
    config = {**copy.deepcopy(config), PINS: {"mammography": "7"}}
    [problem] = _problems("registry", config)
    assert problem.startswith(f"{PINS}: ") and "Remove it from Pulumi.registry.yaml" in problem


def test_every_bad_pin_is_reported_at_once_with_the_other_problems_and_nothing_is_registered(registry):
    config = _config("prod", pins={
        "mammography": version_arn(_config("prod"), "wdbc"),  # another model's group
        "wdbc": "latest",  # not a version
        "nosuch": "3"})  # not a model
    config[f"{P}:notificationEmail"] = "nope"
    run = StackRun("prod")
    with pytest.raises(ConfigError) as err:
        run_stack("prod", config=config, registry_outputs=registry.outputs, run=run)
    keys = sorted(p.split(": ", 1)[0] for p in err.value.problems)
    assert keys == [f"{P}:notificationEmail", f"{PINS}.mammography", f"{PINS}.nosuch", f"{PINS}.wdbc"]
    assert run.resources == []


def test_a_pin_of_a_model_served_by_batch_only_is_refused():
    config = _config("dev", serve=("mammography",), pins={"mammography": "7", "wdbc": "2"})
    config[f"{P}:modelOverrides"] = {"wdbc": {"serving": {"mode": "batch"}}}  # dev serves it by batch only
    [problem] = _problems("dev", config)
    assert problem.startswith(f"{PINS}.wdbc: ") and "batch mode only" in problem


def test_a_pin_is_checked_against_the_stacks_region_and_the_registry_account():
    config = _config("dev")
    config[PINS] = {"mammography": version_arn(config, "mammography").replace("111111111111", "222222222222")}
    [problem] = _problems("dev", config)
    assert "its account '222222222222' (expected '111111111111')" in problem


def test_the_program_warns_about_an_endpoint_model_without_a_pin_and_registers_no_endpoint(dev):
    assert [w for w in dev.warnings if w.startswith(NO_PIN)] == dev.warnings and dev.warnings
    assert dev.outputs["servedVersions"] == {}
    assert not dev.of_type("aws:sagemaker/endpoint:Endpoint")


def test_the_offline_plan_shows_the_note_and_a_diff_reports_it_going_away(registry, dev):
    doc = document({"dev": dev})
    assert doc["stacks"]["dev"]["warnings"] == sorted(set(dev.warnings))
    assert f"warning: {NO_PIN}" in render(doc).replace("\n    ", " ")
    quiet = json.loads(json.dumps(doc))
    quiet["stacks"]["dev"]["warnings"] = []
    assert [line for line in diff(doc, quiet) if "warning" in line] == [f"dev: - warning {dev.warnings[0]}"]


def test_plan_prints_the_warning_from_the_real_stack_files():
    out, err = io.StringIO(), io.StringIO()
    assert plan.main(["--stack", "dev"], out=out, err=err) == plan.OK
    assert "  warning: wdbc: serving.mode is both" in out.getvalue()


def test_the_project_file_itself_pins_nothing():
    assert PINS not in project_config_keys(REPOSITORY_ROOT)
