"""Twenty models: every stack still evaluates, every IAM document stays under AWS's limits and is
exactly as long as with one model (prefix and pattern scoping, never one ARN per model), and the
resources grow linearly with the models.

The configurations are generated (tests/support/many_models.py): the shipped models, then clones
of the mammography entry, each with its own model package group.
"""
from __future__ import annotations

import json

import pytest

from mlops_facts.policy_inputs import KEY, POLICY_INPUTS, TRUST
from tests.support.many_models import many_models_config
from tests.support.stacks import StackRun, run_stack

STACKS = ("registry", "dev", "prod")
COUNTS = (1, 2, 20)
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
# AWS's limits, in characters of the compact JSON (IAM does not count whitespace): IAM quotas
# ("IAM and AWS STS quotas"), the S3, SQS, SNS and KMS policy limits, and SageMaker's
# PutModelPackageGroupPolicy (ResourcePolicy, at most 20,480).
INLINE_PER_ROLE = 10_240
MANAGED = 6_144
TRUST_POLICY = 2_048
RESOURCE_LIMITS = {"aws:s3/bucketPolicy:BucketPolicy": 20_480, "aws:sqs/queuePolicy:QueuePolicy": 20_480,
                   "aws:sns/topicPolicy:TopicPolicy": 30_720, GROUP_POLICY: 20_480, "aws:kms/key:Key": 32_768}
EVENT_PATTERN = 2_048  # EventBridge's default quota
LAMBDA_ENVIRONMENT = 4_096  # all of a function's variables together


@pytest.fixture(scope="module")
def runs(stacks) -> dict[int, dict[str, StackRun]]:
    out: dict[int, dict[str, StackRun]] = {2: stacks}  # the shipped configuration has two models
    for count in (1, 20):
        config, secret_keys = many_models_config("registry", count)
        registry = run_stack("registry", config=config, secret_keys=secret_keys)
        out[count] = {"registry": registry}
        for stack in STACKS[1:]:
            config, secret_keys = many_models_config(stack, count)
            out[count][stack] = run_stack(stack, config=config, secret_keys=secret_keys,
                                          registry_outputs=registry.outputs)
    return out


def documents(run: StackRun) -> dict[tuple[str, str], str]:
    """Every policy document of the stack as registered: (type, logical name) -> its text."""
    return {(r.type, r.name): r.inputs[POLICY_INPUTS[r.type][0]] for r in run.resources
            if isinstance(r.inputs.get(POLICY_INPUTS.get(r.type, ("",))[0]), str)}


def size(text: str) -> int:
    return len(json.dumps(json.loads(text), separators=(",", ":")))


def models_of(run: StackRun) -> list[str]:
    return list(run.outputs["modelPackageGroups" if run.stack == "registry" else "models"])


@pytest.mark.parametrize("count", COUNTS)
def test_every_stack_evaluates_with_every_model(runs, count):
    for stack in STACKS:
        run = runs[count][stack]
        assert run.outputs["role"] == stack and len(models_of(run)) == count


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("stack", STACKS)
def test_every_iam_document_is_under_awss_limits(runs, stack, count):
    run = runs[count][stack]
    docs = documents(run)
    inline: dict[str, int] = {}
    for r in run.of_type(ROLE_POLICY):
        inline[r.inputs["role"]] = inline.get(r.inputs["role"], 0) + size(r.inputs["policy"])
    assert inline and max(inline.values()) <= INLINE_PER_ROLE, inline
    for (typ, name), text in docs.items():
        kind = POLICY_INPUTS[typ][1]
        limit = MANAGED if typ == MANAGED_POLICY else TRUST_POLICY if kind == TRUST else \
            RESOURCE_LIMITS.get(typ, INLINE_PER_ROLE)
        assert size(text) <= limit, f"{typ} {name}: {size(text)} > {limit}"
        assert kind != KEY or typ in RESOURCE_LIMITS
    for rule in run.of_type("aws:cloudwatch/eventRule:EventRule"):
        assert len(rule.inputs.get("eventPattern") or "") <= EVENT_PATTERN, rule.name
    for fn in run.of_type("aws:lambda/function:Function"):
        variables = (fn.inputs.get("environment") or {}).get("variables") or {}
        assert sum(len(k) + len(str(v)) for k, v in variables.items()) <= LAMBDA_ENVIRONMENT, fn.name


@pytest.mark.parametrize("stack", STACKS)
def test_no_iam_document_grows_with_the_number_of_models(runs, stack):
    one = documents(runs[1][stack])
    for count in (2, 20):
        many = documents(runs[count][stack])
        assert {k: size(v) for k, v in many.items() if k in one} == {k: size(v) for k, v in one.items()}, count
        # Only one policy more per model: each further model's group policy, the first's with its
        # group's name (a document per group, as large as any other group's).
        added = {k: v for k, v in many.items() if k not in one}
        if stack != "registry":
            assert added == {}
            continue
        groups = runs[count]["registry"].outputs["modelPackageGroups"]
        first = runs[1]["registry"].outputs["modelPackageGroupName"]
        template = one[(GROUP_POLICY, "model-registry")]
        assert set(added) == {(GROUP_POLICY, f"{m}-model-registry") for m in groups if groups[m]["name"] != first}
        for model, group in groups.items():
            if group["name"] != first:
                assert added[(GROUP_POLICY, f"{model}-model-registry")] == template.replace(first, group["name"])


@pytest.mark.parametrize("stack", STACKS)
def test_resources_grow_linearly_with_the_models(runs, stack):
    count = {n: len(runs[n][stack].resources) for n in COUNTS}
    per_model = count[2] - count[1]
    assert per_model > 0
    assert count[20] - count[1] == 19 * per_model, count
