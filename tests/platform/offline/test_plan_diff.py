"""`plan --diff`: what changed between a saved plan and now, like a preview."""
from __future__ import annotations

import copy

import pytest

from mlops_platform.offline.plan_diff import PlanFileError, check_saved, diff
from mlops_platform.offline.plan_document import document

BUCKET = "aws:s3/bucket:Bucket::data"


@pytest.fixture(scope="module")
def plan(stacks):
    return document(stacks)


def test_a_plan_equals_itself(plan):
    assert diff(plan, copy.deepcopy(plan)) == []


def test_a_changed_property_is_named_with_both_values(plan):
    old = copy.deepcopy(plan)
    old["stacks"]["prod"]["resources"][BUCKET]["properties"]["forceDestroy"] = True
    assert diff(old, plan) == [f"prod: ~ {BUCKET}  forceDestroy: true -> false"]


def test_a_nested_property_shows_its_path(plan):
    old = copy.deepcopy(plan)
    pipeline = old["stacks"]["dev"]["resources"]["pulumi-python:dynamic/mlops:SageMakerPipeline::training"]
    pipeline["properties"]["parameters"]["AucThreshold"] = 0.5
    assert diff(old, plan) == ["dev: ~ pulumi-python:dynamic/mlops:SageMakerPipeline::training  "
                               "parameters.AucThreshold: 0.5 -> 0.85"]


def test_lists_of_names_show_what_was_added_and_removed(plan):
    old = copy.deepcopy(plan)
    role = old["stacks"]["prod"]["resources"]["aws:iam/role:Role::github-deploy"]["properties"]
    role["oidcSubjects"] = ["repo:example-org/mlops-platform:pull_request"]
    assert diff(old, plan) == ["prod: ~ aws:iam/role:Role::github-deploy  oidcSubjects: "
                               "+repo:example-org/mlops-platform:environment:prod "
                               "-repo:example-org/mlops-platform:pull_request"]


def test_added_and_removed_resources(plan):
    old = copy.deepcopy(plan)
    resources = old["stacks"]["dev"]["resources"]
    resources["aws:sqs/queue:Queue::retired"] = resources.pop("aws:sqs/queue:Queue::events-dlq")
    assert diff(old, plan) == ["dev: + aws:sqs/queue:Queue::events-dlq", "dev: - aws:sqs/queue:Queue::retired"]


def test_a_new_parent_warns_of_replacement(plan):
    old = copy.deepcopy(plan)
    old["stacks"]["prod"]["resources"][BUCKET]["parent"] = "mlops:storage:Bucket::data"
    [line] = diff(old, plan)
    assert line.startswith(f"prod: ~ {BUCKET}  parent: mlops:storage:Bucket::data -> "
                           "mlops:storage:HardenedBucket::data")
    assert "replaces the resource unless an alias" in line


def test_a_change_outside_the_reviewed_properties_is_still_reported(plan):
    old = copy.deepcopy(plan)
    old["stacks"]["registry"]["resources"]["aws:sns/topic:Topic::model-events"]["inputsDigest"] = "0" * 16
    assert diff(old, plan) == ["registry: ~ aws:sns/topic:Topic::model-events  inputs changed outside the reviewed "
                               "properties (see the resource's inputs, or `pulumi preview --diff`)"]


def test_wiring_and_exports(plan):
    old = copy.deepcopy(plan)
    old["stacks"]["dev"]["crossAccount"].pop()
    old["stacks"]["dev"]["exports"]["region"] = "eu-west-2"
    lines = diff(old, plan)
    assert lines[0].startswith("dev: + cross-account ") and lines[1] == "dev: ~ export region: eu-west-2 -> eu-west-1"


def test_a_stack_missing_on_either_side(plan):
    old = copy.deepcopy(plan)
    old["stacks"]["staging"] = old["stacks"].pop("prod")
    assert diff(old, plan) == ["prod: + stack (not in the saved plan)", "staging: - stack (not planned now)"]


@pytest.mark.parametrize(("saved", "fragment"), [
    ([], "is not a saved plan"),
    ({"format": "mlops-platform-plan/0", "stacks": {}}, "has format 'mlops-platform-plan/0'"),
])
def test_only_plans_of_this_format_are_compared(saved, fragment):
    with pytest.raises(PlanFileError, match=fragment) as caught:
        check_saved(saved, "old.json")
    assert "old.json" in str(caught.value)
