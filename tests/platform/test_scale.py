"""Twenty models: every stack still evaluates, every IAM document stays under AWS's limits and is
exactly as long as with one model (prefix and pattern scoping, never one ARN per model), and the
resources grow linearly with the models, with real-time serving off (as shipped) and on.

The configurations are generated (tests/support/many_models.py): the shipped models, then clones
of the mammography entry, each with its own model package group; with serving on
(tests/support/serving.py) dev and prod pin a version of every model, so each has an endpoint.
A served model's role has its own policy, naming only that model: one more document per model,
each as large as any other clone's, never a larger shared one.
"""
from __future__ import annotations

import json

import pytest

from mlops_facts.policy_inputs import KEY, POLICY_INPUTS, TRUST
from tests.support.many_models import many_models_config
from tests.support.serving import served_config
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
        out[count] = _stacks(count)
    return out


@pytest.fixture(scope="module")
def served() -> dict[int, dict[str, StackRun]]:
    """Every stack with every model served by an endpoint in dev and prod."""
    return {count: _stacks(count, serving=True) for count in COUNTS}


def _stacks(count: int, serving: bool = False) -> dict[str, StackRun]:
    def config(stack: str) -> tuple[dict, list[str]]:
        values, secret_keys = many_models_config(stack, count)
        return (served_config(values, stack) if serving else values), secret_keys

    values, secret_keys = config("registry")
    out = {"registry": run_stack("registry", config=values, secret_keys=secret_keys)}
    for stack in STACKS[1:]:
        values, secret_keys = config(stack)
        out[stack] = run_stack(stack, config=values, secret_keys=secret_keys,
                               registry_outputs=out["registry"].outputs)
    return out


def documents(run: StackRun) -> dict[tuple[str, str], str]:
    """Every policy document of the stack as registered: (type, logical name) -> its text."""
    return {(r.type, r.name): r.inputs[POLICY_INPUTS[r.type][0]] for r in run.resources
            if isinstance(r.inputs.get(POLICY_INPUTS.get(r.type, ("",))[0]), str)}


def size(text: str) -> int:
    return len(json.dumps(json.loads(text), separators=(",", ":")))


def models_of(run: StackRun) -> list[str]:
    return list(run.outputs["modelPackageGroups" if run.stack == "registry" else "models"])


@pytest.fixture(params=["serving off", "serving on"])
def scenario(request, runs, served) -> dict[int, dict[str, StackRun]]:
    return runs if request.param == "serving off" else served


@pytest.mark.parametrize("count", COUNTS)
def test_every_stack_evaluates_with_every_model(scenario, served, count):
    for stack in STACKS:
        run = scenario[count][stack]
        assert run.outputs["role"] == stack and len(models_of(run)) == count
        if stack != "registry":  # every model served where serving is on, none where it is off
            assert sorted(run.outputs["servedVersions"]) == (sorted(models_of(run)) if scenario is served else [])


@pytest.mark.parametrize("count", COUNTS)
def test_with_serving_on_every_model_has_its_endpoint_and_role(served, count):
    for stack in STACKS[1:]:
        run = served[count][stack]
        assert sorted(run.outputs["servedVersions"]) == sorted(models_of(run))
        assert len(run.of_type("aws:sagemaker/endpoint:Endpoint")) == count
        names = sorted(r.inputs["name"] for r in run.of_type("aws:iam/role:Role") if "-serving-" in r.inputs["name"])
        assert names == sorted(f"mlops-{stack}-serving-{m}" for m in models_of(run))


@pytest.mark.parametrize("count", COUNTS)
@pytest.mark.parametrize("stack", STACKS)
def test_every_iam_document_is_under_awss_limits(scenario, stack, count):
    run = scenario[count][stack]
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
def test_no_iam_document_grows_with_the_number_of_models(scenario, stack):
    one = documents(scenario[1][stack])
    for count in (2, 20):
        many = documents(scenario[count][stack])
        assert {k: size(v) for k, v in many.items() if k in one} == {k: size(v) for k, v in one.items()}, count
        # Only documents of each further model: its group's policy in the registry, its serving role
        # (trust and policy) where it is served; as large as another model's, whatever the count.
        added = {k: v for k, v in many.items() if k not in one}
        run = scenario[count][stack]
        others = [m for m in models_of(run) if m != run.outputs["firstModel"]]
        assert all(any(name.startswith(f"{m}-") for m in others) for _typ, name in added), sorted(added)
        if stack == "registry":
            _group_policies_are_the_first_models(scenario, count, one, added)
    shapes = _each_clone_adds_the_same_documents(scenario[20][stack])
    per_model = {"registry": {(GROUP_POLICY, "model-registry")}, "dev": set(), "prod": set()}[stack]
    if scenario[20][stack].outputs.get("servedVersions"):
        per_model |= {("aws:iam/role:Role", "serving-role"), (ROLE_POLICY, "serving-policy")}
    assert set(shapes) == per_model


def _group_policies_are_the_first_models(scenario, count, one, added) -> None:
    groups = scenario[count]["registry"].outputs["modelPackageGroups"]
    first_model = scenario[1]["registry"].outputs["firstModel"]
    first = groups[first_model]["name"]
    template = one[(GROUP_POLICY, "model-registry")]
    assert set(added) == {(GROUP_POLICY, f"{m}-model-registry") for m in groups if groups[m]["name"] != first}
    for model, group in groups.items():
        if group["name"] != first:  # its group and its own endpoint roles in place of the first model's
            expected = template.replace(first, group["name"]).replace(f"-serving-{first_model}\"", f"-serving-{model}\"")
            assert added[(GROUP_POLICY, f"{model}-model-registry")] == expected


def _each_clone_adds_the_same_documents(run: StackRun) -> dict[tuple[str, str], set[str]]:
    """The generated models (m01, m02, ...) differ only by name: so do their documents."""
    clones = [m for m in models_of(run) if m.startswith("m") and m[1:].isdigit()]
    shapes = {}
    for (typ, name), text in documents(run).items():
        owner = next((m for m in clones if name.startswith(f"{m}-")), None)
        if owner is not None:
            shapes.setdefault((typ, name.removeprefix(f"{owner}-")), set()).add(text.replace(owner, "<model>"))
    assert all(len(texts) == 1 for texts in shapes.values()), {k: len(v) for k, v in shapes.items()}
    return shapes


@pytest.mark.parametrize("stack", STACKS)
def test_resources_grow_linearly_with_the_models(scenario, stack):
    count = {n: len(scenario[n][stack].resources) for n in COUNTS}
    per_model = count[2] - count[1]
    assert per_model > 0
    assert count[20] - count[1] == 19 * per_model, count
