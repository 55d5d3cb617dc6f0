"""SageMaker pipeline definitions, as ml.pipelines builds them for the prod stack, against the job rule."""
from __future__ import annotations

import copy
import json

import pytest

from mlops_policies import pipelines
from mlops_policies.model import Vpc
from tests.policy.adapter import context_for
from tests.policy.fixtures import ctx, res

TYPE = "pulumi-python:dynamic/mlops:SageMakerPipeline"
STACK_VPC: Vpc = context_for("prod").vpc


@pytest.fixture(scope="module")
def definitions(stack_views) -> dict[str, dict]:
    """The prod stack's definitions (inside its VPC, isolated), as the program builds them."""
    resources, _ctx = stack_views["prod"]
    found = {r.name: json.loads(r.props["definition"]) for r in resources if pipelines.is_pipeline(r)}
    # Every model's two pipelines: the first model's under their old names, the others' after the model.
    assert {"training", "inference", "wdbc-training", "wdbc-inference"} <= set(found), sorted(found)
    return found


def pipeline(definition: dict, type_: str = TYPE):
    return res(type_, name="p", name_="p", definition=json.dumps(definition), role_arn="arn:aws:iam::1:role/x")


def step(definition: dict, kind: str) -> dict:
    return next(s for s in pipelines.steps(definition) if s["Type"] == kind)


@pytest.mark.parametrize("kind", ["training", "inference", "wdbc-training", "wdbc-inference"])
def test_definitions_built_by_ml_pipelines_pass_with_the_stack_vpc(definitions, kind):
    assert pipelines.check_pipeline_jobs(pipeline(definitions[kind]), ctx("prod", vpc=STACK_VPC)) == []


def test_the_rule_reads_every_job_step_including_condition_branches(definitions):
    kinds = [s["Type"] for d in definitions.values() for s in pipelines.steps(d)]
    assert {"Processing", "Training", "Transform", "Model", "RegisterModel"} <= set(kinds)


@pytest.mark.parametrize("kind,path,expected", [
    ("Processing", ("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"), "VolumeKmsKeyId"),
    ("Processing", ("ProcessingOutputConfig", "KmsKeyId"), "ProcessingOutputConfig.KmsKeyId"),
    ("Processing", ("StoppingCondition",), "StoppingCondition"),
    ("Training", ("ResourceConfig", "VolumeKmsKeyId"), "ResourceConfig.VolumeKmsKeyId"),
    ("Training", ("OutputDataConfig", "KmsKeyId"), "OutputDataConfig.KmsKeyId"),
    ("Training", ("StoppingCondition",), "StoppingCondition"),
    ("Transform", ("TransformResources", "VolumeKmsKeyId"), "TransformResources.VolumeKmsKeyId"),
    ("Transform", ("TransformOutput", "KmsKeyId"), "TransformOutput.KmsKeyId"),
    ("Transform", ("ModelClientConfig",), "ModelClientConfig"),
])
def test_a_job_without_keys_or_a_stopping_bound_is_a_violation(definitions, kind, path, expected):
    which = "inference" if kind == "Transform" else "training"
    broken = copy.deepcopy(definitions[which])
    node = step(broken, kind)["Arguments"]
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    messages = pipelines.check_pipeline_jobs(pipeline(broken), ctx())
    assert len(messages) == 1 and expected in messages[0] and "Fix:" in messages[0]


@pytest.mark.parametrize("kind,mutate,expected", [
    ("Processing", lambda a: a["NetworkConfig"].update(EnableNetworkIsolation=False), "network isolation"),
    ("Training", lambda a: a.update(EnableNetworkIsolation=False), "network isolation"),
    ("Model", lambda a: a.pop("EnableNetworkIsolation"), "network isolation"),
    ("Training", lambda a: a.pop("VpcConfig"), "subnets []"),
    ("Model", lambda a: a["VpcConfig"].update(Subnets=["subnet-0123456789abcdef0"]), "not the stack's"),
    ("Processing", lambda a: a["NetworkConfig"]["VpcConfig"].update(SecurityGroupIds=["sg-99999999"]),
     "not the stack's"),
])
def test_with_the_stack_vpc_every_job_must_run_in_it_isolated(definitions, kind, mutate, expected):
    which = "inference" if kind == "Model" else "training"
    broken = copy.deepcopy(definitions[which])
    mutate(step(broken, kind)["Arguments"])
    messages = pipelines.check_pipeline_jobs(pipeline(broken), ctx("prod", vpc=STACK_VPC))
    assert any(expected in m for m in messages), messages
    # Without VPC settings in the stack config the network is not the rule's business.
    assert pipelines.check_pipeline_jobs(pipeline(broken), ctx("dev")) == []


def test_isolation_is_only_required_when_the_stack_asks_for_it(definitions):
    broken = copy.deepcopy(definitions["training"])
    step(broken, "Training")["Arguments"]["EnableNetworkIsolation"] = False
    open_vpc = Vpc(STACK_VPC.subnets, STACK_VPC.security_groups, network_isolation=False)
    assert pipelines.check_pipeline_jobs(pipeline(broken), ctx("prod", vpc=open_vpc)) == []


def test_the_native_pipeline_resource_is_checked_too(definitions):
    broken = copy.deepcopy(definitions["training"])
    del step(broken, "Training")["Arguments"]["StoppingCondition"]
    native = res(pipelines.NATIVE, pipelineDefinition=json.dumps(broken))
    assert pipelines.check_pipeline_jobs(native, ctx())


def test_other_dynamic_resources_are_ignored_and_bad_json_is_reported():
    assert pipelines.check_pipeline_jobs(res(TYPE, name="other", bucket="b"), ctx()) == []
    [message] = pipelines.check_pipeline_jobs(res(TYPE, name="p", definition="not json"), ctx())
    assert "not JSON" in message
