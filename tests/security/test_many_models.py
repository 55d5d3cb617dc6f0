"""A second model changes no one's reach: every model's group is guarded by its own policy, the
roles (one per job for all models) reach every model of their own stack and nothing more, and
trust anchors stay with an administrator for every group.

Run on the shipped configuration's second model (wdbc) beside the first: what holds for it holds
for any further model, since no document names a model (tests/platform/test_scale.py)."""
from __future__ import annotations

import pytest

from tests.security.names import ACCOUNTS, ARTIFACTS, GROUP, NEW_VERSION, REGION, ask, data_bucket, role
from tests.security.verdicts import assert_allowed, assert_refused
from tests.security.world import ALLOW_EVERYTHING

MODEL = "wdbc"
GROUP_NAME_B = "wdbc-diagnosis-model-package"
REGISTRY = f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['registry']}"
GROUP_B = f"{REGISTRY}:model-package-group/{GROUP_NAME_B}"
VERSION_B = f"{REGISTRY}:model-package/{GROUP_NAME_B}/3"
# A group of the registry account the platform did not make (no resource policy of ours).
FOREIGN_GROUP = f"{REGISTRY}:model-package-group/someone-elses-models"
STATUS = "sagemaker:ModelApprovalStatus"
PENDING = {STATUS: "PendingManualApproval"}


def pipeline(stack: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNTS[stack]}:pipeline/{name}"


def artifact(stack: str, model: str | None, path: str = "exec-1/TrainXGBoost/model/model.tar.gz") -> str:
    prefix = f"models/{stack}" + (f"/{model}/mlops-{stack}-{model}-training" if model else f"/mlops-{stack}-training")
    return f"{ARTIFACTS}/{prefix}/{path}"


def compromised(world, arn):
    return world.with_role(arn, policies=[ALLOW_EVERYTHING], boundary=None)


def test_the_world_knows_the_second_models_group_and_its_own_policy(world):
    where, policy = world.resource_policies[GROUP_B]
    assert GROUP_NAME_B in str(policy) and "mammo-severity-model-package" not in str(policy), where


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("resource", [GROUP, NEW_VERSION, GROUP_B, VERSION_B])
def test_training_registers_pending_versions_into_every_models_group(world, stack, resource):
    assert_allowed(world, ask(role(stack, "sagemaker-execution"), "sagemaker:CreateModelPackage", resource, PENDING))


@pytest.mark.parametrize("status", ["Approved", None])
@pytest.mark.parametrize("resource", [GROUP_B, VERSION_B])
def test_a_compromised_workload_registers_into_the_second_group_only_pending(world, resource, status):
    trainer = role("dev", "sagemaker-execution")
    request = ask(trainer, "sagemaker:CreateModelPackage", resource, {STATUS: status} if status else {})
    assert_refused(compromised(world, trainer), request)


def test_a_group_the_platform_did_not_make_is_out_of_reach_despite_the_pattern(world):
    # The role's own policy names model-package-group/* of the registry account; only a group's
    # policy lets another account in, and only the platform's groups carry one.
    trainer = role("dev", "sagemaker-execution")
    assert_refused(world, ask(trainer, "sagemaker:CreateModelPackage", FOREIGN_GROUP, PENDING))
    assert_refused(compromised(world, trainer), ask(trainer, "sagemaker:CreateModelPackage", FOREIGN_GROUP, PENDING))
    assert_refused(world, ask(role("prod", "model-lookup-lambda"), "sagemaker:DescribeModelPackageGroup",
                              FOREIGN_GROUP))


@pytest.mark.parametrize("arn", [role("dev", "sagemaker-execution"), role("prod", "model-lookup-lambda")])
def test_no_workload_role_approves_a_version_of_the_second_model(world, arn):
    request = ask(arn, "sagemaker:UpdateModelPackage", VERSION_B, {STATUS: "Approved"})
    assert_refused(compromised(world, arn), request)


def test_the_approver_approves_and_the_reviewer_shows_every_models_versions(world):
    approver, reviewer = role("registry", "github-model-approver"), role("registry", "github-model-reviewer")
    for version in (NEW_VERSION, VERSION_B):
        assert_allowed(world, ask(approver, "sagemaker:UpdateModelPackage", version, {STATUS: "Approved"}))
        assert_allowed(world, ask(reviewer, "sagemaker:DescribeModelPackage", version))
        assert_refused(world, ask(reviewer, "sagemaker:UpdateModelPackage", version, {STATUS: "Approved"}))
    metrics = artifact("dev", MODEL, "exec-1/Evaluate/evaluation/evaluation.json")
    assert_allowed(world, ask(reviewer, "s3:GetObject", metrics))


@pytest.mark.parametrize("group", [GROUP, GROUP_B])
def test_ci_changes_no_models_group_policy(world, group):
    for purpose in ("github-deploy", "github-preview"):
        arn = role("registry", purpose)
        for action in ("sagemaker:PutModelPackageGroupPolicy", "sagemaker:DeleteModelPackageGroupPolicy",
                       "sagemaker:DeleteModelPackageGroup"):
            assert_refused(world, ask(arn, action, group))
    # ...while the registry's deploy still creates and tags every model's group.
    assert_allowed(world, ask(role("registry", "github-deploy"), "sagemaker:CreateModelPackageGroup", group))


@pytest.mark.parametrize("purpose", ["sagemaker-execution", "model-lookup-lambda"])
def test_dev_reads_no_model_of_prod_whichever_model(world, purpose):
    arn = role("dev", purpose)
    for model in (None, MODEL):
        assert_refused(compromised(world, arn), ask(arn, "s3:GetObject", artifact("prod", model)))
    assert_refused(compromised(world, arn), ask(arn, "s3:ListBucket", ARTIFACTS, {"s3:prefix": f"models/prod/{MODEL}/"}))


def test_each_stack_reads_and_writes_the_second_models_artifacts_where_it_did_the_first(world):
    prod_lookup, dev_lookup = role("prod", "model-lookup-lambda"), role("dev", "model-lookup-lambda")
    assert_allowed(world, ask(prod_lookup, "s3:GetObject", artifact("dev", MODEL)))
    assert_allowed(world, ask(prod_lookup, "s3:GetObject", artifact("prod", MODEL)))
    assert_allowed(world, ask(dev_lookup, "s3:GetObject", artifact("dev", MODEL)))
    for stack in ("dev", "prod"):
        trainer = role(stack, "sagemaker-execution")
        assert_allowed(world, ask(trainer, "s3:PutObject", artifact(stack, MODEL)))
        assert_allowed(world, ask(trainer, "s3:ListBucket", ARTIFACTS, {"s3:prefix": f"models/{stack}/{MODEL}/x/"}))
        other = "prod" if stack == "dev" else "dev"
        assert_refused(compromised(world, trainer), ask(trainer, "s3:PutObject", artifact(other, MODEL)))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_eventbridge_starts_every_models_inference_and_no_training(world, stack):
    events = role(stack, "events-invoke")
    for name in (f"mlops-{stack}-inference", f"mlops-{stack}-{MODEL}-inference"):
        assert_allowed(world, ask(events, "sagemaker:StartPipelineExecution", pipeline(stack, name)))
    for name in (f"mlops-{stack}-training", f"mlops-{stack}-{MODEL}-training", f"mlops-{stack}-{MODEL}-inference-x"):
        assert_refused(world, ask(events, "sagemaker:StartPipelineExecution", pipeline(stack, name)))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_retrain_gates_start_every_models_training_and_no_inference(world, stack):
    gate = role(stack, "retrain-gate-lambda")
    for name in (f"mlops-{stack}-training", f"mlops-{stack}-{MODEL}-training"):
        assert_allowed(world, ask(gate, "sagemaker:StartPipelineExecution", pipeline(stack, name)))
    for name in (f"mlops-{stack}-inference", f"mlops-{stack}-{MODEL}-inference"):
        assert_refused(world, ask(gate, "sagemaker:StartPipelineExecution", pipeline(stack, name)))
    other = "prod" if stack == "dev" else "dev"
    assert_refused(world, ask(gate, "sagemaker:StartPipelineExecution", pipeline(other, f"mlops-{other}-training")))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_jobs_invoke_every_models_lookup_and_no_other_function(world, stack):
    trainer = role(stack, "sagemaker-execution")
    function = f"arn:aws:lambda:{REGION}:{ACCOUNTS[stack]}:function:mlops-{stack}"
    for name in ("latest-approved-model", f"{MODEL}-latest-approved-model"):
        assert_allowed(world, ask(trainer, "lambda:InvokeFunction", f"{function}-{name}"))
    for name in ("retrain-gate", f"{MODEL}-retrain-gate"):
        assert_refused(world, ask(trainer, "lambda:InvokeFunction", f"{function}-{name}"))


def test_ci_deploys_the_second_models_resources_in_dev(world):
    deploy, account = role("dev", "github-deploy"), ACCOUNTS["dev"]
    for action, resource in [
        ("sagemaker:CreatePipeline", pipeline("dev", f"mlops-dev-{MODEL}-training")),
        ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{account}:function:mlops-dev-{MODEL}-retrain-gate"),
        ("events:PutRule", f"arn:aws:events:{REGION}:{account}:rule/mlops-dev-{MODEL}-drift-detected"),
        ("logs:CreateLogGroup", f"arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/mlops-dev-{MODEL}-retrain-gate"),
        # dev seeds every model's first data sets (firstTrainingRun), each by its fixed name.
        ("s3:PutObject", f"{data_bucket('dev')}/datasets/{MODEL}/training/initial_train.data"),
        ("s3:PutObject", f"{data_bucket('dev')}/datasets/{MODEL}/batches/latest/batch_clean.data"),
    ]:
        assert_allowed(world, ask(deploy, action, resource))


def test_ci_touches_no_landed_data_set_of_any_model(world):
    deploy = role("dev", "github-deploy")
    for model_prefix in ("", f"{MODEL}/"):
        landed = f"{data_bucket('prod')}/datasets/{model_prefix}training/increment-2025-06.data"
        assert_refused(world, ask(role("prod", "github-deploy"), "s3:PutObject", landed))
    assert_refused(world, ask(deploy, "s3:GetObject", f"{data_bucket('dev')}/datasets/{MODEL}/training/landed.data"))
