"""What serves where, as the promotion workflows read it: a model's serving mode per stack, a
stack's `servedVersions` output checked before it is trusted, and what dev serves that prod
should be asked to serve next."""
from __future__ import annotations

import copy
import json
import sys

import pytest

from tests.github.promotion_project import (
    SCRIPTS,
    add_to_stack_file,
    make_project,
    served_output,
    version_arn,
)
from tests.github.workflow_files import ROOT
from tests.support.stacks import run_stack, stack_config

sys.path.insert(0, str(ROOT / SCRIPTS))
import serving_plan as sp  # noqa: E402


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path)


def test_the_serving_mode_is_the_stacks_own_with_its_overrides(project):
    add_to_stack_file(project, "dev", endpoints=("mammography",))
    add_to_stack_file(project, "prod", batch=("mammography",))
    dev, prod = sp.stack_models("dev", project), sp.stack_models("prod", project)
    assert dev["mammography"].serving.endpoint and dev["mammography"].serving.batch
    assert not prod["mammography"].serving.endpoint
    # The model without an override keeps Pulumi.yaml's mode in both.
    assert dev["wdbc"].serving == prod["wdbc"].serving


def test_the_mode_command_answers_for_the_workflow_and_says_why(project, capsys, monkeypatch):
    monkeypatch.chdir(project)  # the checkout the step runs in
    add_to_stack_file(project, "dev", batch=("wdbc",), endpoints=("mammography",))
    out = project / "output"
    for model in ("mammography", "wdbc"):
        assert sp.main(["mode", "--stack", "dev", "--model", model, "--output", str(out), "--version", "4"]) == 0
    assert out.read_text().splitlines() == ["mode=both", "endpoint=true", "mode=batch", "endpoint=false"]
    said = capsys.readouterr().out.splitlines()
    assert "a pull request pins version 4 for dev" in said[0]
    assert "batch mode only in dev: no endpoint, so no pull request" in said[1]


def test_an_unknown_model_is_an_error_not_a_batch_model(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    assert sp.main(["mode", "--stack", "dev", "--model", "churn", "--output", str(project / "o")]) == 2
    assert "'churn' is not a model of the dev stack" in capsys.readouterr().err
    assert not (project / "o").exists()


def test_a_served_output_is_read_as_the_stack_exports_it():
    served = sp.parse_served(served_output("dev", {"mammography": 7}, mammography={"endpointConfigName": "cfg-1"}),
                             "dev")
    assert served == {"mammography": sp.Served("mammography", 7, version_arn("mammography", 7),
                                               "mlops-dev-mammography", "cfg-1")}
    assert served["mammography"].serves("7") and served["mammography"].serves(version_arn("mammography", 7))
    assert not served["mammography"].serves("6") and not served["mammography"].serves(version_arn("mammography", 6))
    assert sp.parse_served("", "dev") is None and sp.parse_served("{}", "dev") == {}


def _entry(version=7, arn=None, endpoint="mlops-dev-mammography"):
    return {"version": version, "modelPackageArn": arn or version_arn("mammography", 7), "endpointName": endpoint}


@pytest.mark.parametrize(("entry", "why"), [
    (_entry(arn=version_arn("mammography", 6)), "not the ARN of version 7"),
    (_entry(version="7"), "not a version number"),
    (_entry(version=True), "not a version number"),
    (_entry(endpoint="mlops-prod-mammography"), "not an endpoint of the dev"),
    (_entry(endpoint="x; rm -rf /"), "not an endpoint"),
    (_entry(arn="arn:aws:s3:::bucket"), "not the ARN"),
    ({"version": 7, "endpointName": "mlops-dev-m"}, "modelPackageArn"),
])
def test_a_malformed_served_output_is_refused_naming_the_model_and_the_field(entry, why):
    with pytest.raises(sp.PlanError, match="mammography") as err:
        sp.parse_served(json.dumps({"mammography": entry}), "dev")
    assert why in str(err.value)


def test_every_difference_between_pins_and_what_serves_is_reported():
    served = sp.parse_served(served_output("dev", {"mammography": 7, "wdbc": 3}), "dev")
    assert sp.mismatches({"mammography": "7", "wdbc": "3"}, served, "dev") == []
    assert sp.mismatches({"mammography": version_arn("mammography", 7), "wdbc": "3"}, served, "dev") == []
    problems = sp.mismatches({"mammography": "8"}, served, "dev")
    assert problems == ["mammography: Pulumi.dev.yaml pins version 8, the stack serves version 7",
                        "wdbc: the stack serves version 3, which Pulumi.dev.yaml does not pin"]
    assert sp.mismatches({"wdbc": "3"}, None, "dev") == [
        "Pulumi.dev.yaml pins wdbc but the dev stack exports no servedVersions"]
    assert sp.mismatches({}, None, "dev") == []


def test_prod_is_asked_to_serve_what_dev_serves_and_prod_does_not_pin(project):
    add_to_stack_file(project, "dev", endpoints=("mammography", "wdbc"), pins={"mammography": "7", "wdbc": "3"})
    add_to_stack_file(project, "prod", endpoints=("mammography", "wdbc"), pins={"wdbc": "3"})
    served = sp.parse_served(served_output("dev", {"mammography": 7, "wdbc": 3}), "dev")
    chosen, left_out = sp.candidates("dev", "prod", served, project)
    assert chosen == [{"model": "mammography", "version": "7", "arn": version_arn("mammography", 7)}]
    assert left_out == []


def test_the_same_version_written_as_a_number_in_one_file_and_an_arn_in_the_other_is_not_asked_for(project):
    add_to_stack_file(project, "dev", endpoints=("mammography",), pins={"mammography": "7"})
    add_to_stack_file(project, "prod", endpoints=("mammography",), pins={"mammography": version_arn("mammography", 7)})
    served = sp.parse_served(served_output("dev", {"mammography": 7}), "dev")
    assert sp.candidates("dev", "prod", served, project) == ([], [])


def test_prod_is_not_asked_for_what_dev_does_not_really_serve_or_prod_serves_in_batch(project):
    add_to_stack_file(project, "dev", endpoints=("mammography", "wdbc"), pins={"mammography": "8", "wdbc": "3"})
    add_to_stack_file(project, "prod", batch=("wdbc",))
    # dev's deploy of version 8 has not happened (its output still says 7).
    served = sp.parse_served(served_output("dev", {"mammography": 7, "wdbc": 3}), "dev")
    chosen, left_out = sp.candidates("dev", "prod", served, project)
    assert chosen == []
    assert [why.split(":")[0] for why in left_out] == ["`mammography` version `8`", "`wdbc`"]
    assert "deploy it first" in left_out[0] and "batch mode only in prod" in left_out[1]


def test_the_candidates_command_writes_outputs_and_a_summary(project, monkeypatch):
    add_to_stack_file(project, "dev", endpoints=("mammography",), pins={"mammography": "7"})
    add_to_stack_file(project, "prod", endpoints=("mammography",))
    monkeypatch.chdir(project)
    monkeypatch.setenv("SERVED", served_output("dev", {"mammography": 7}))
    out, summary = project / "output", project / "summary"
    assert sp.main(["candidates", "--from-stack", "dev", "--stack", "prod", "--output", str(out),
                    "--summary", str(summary)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "any=true" and len(lines) == 2
    assert json.loads(lines[1].removeprefix("versions=")) == [
        {"model": "mammography", "version": "7", "arn": version_arn("mammography", 7)}]
    assert "`mammography` version `7`: ready for a prod pull request" in summary.read_text()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stacks_own_served_versions_output_is_what_the_workflows_read(registry, stack):
    # The contract between the program's export and the deploy job: pulumi/actions hands the
    # output on as JSON; the smoke test and the prod candidates parse it and compare it with the
    # stack file's pins.
    config, secret_keys = stack_config(stack)
    pinned = {"wdbc": "7"}
    config = {**copy.deepcopy(config), "mlops-platform:servedVersions": pinned,
              "mlops-platform:modelOverrides": {"wdbc": {"serving": {"mode": "both"}}}}
    run = run_stack(stack, config=config, secret_keys=secret_keys, registry_outputs=registry.outputs)
    served = sp.parse_served(json.dumps(run.outputs["servedVersions"]), stack)
    assert served is not None and set(served) == {"wdbc"}
    assert served["wdbc"].endpoint.startswith(f"mlops-{stack}-"), "the deploy role may invoke mlops-<stack>-* only"
    assert served["wdbc"].arn.split(":")[4] == registry.outputs["accountId"]
    assert sp.mismatches(pinned, served, stack) == []
