"""Real-time serving, decided by the offline evaluator on the real documents of stacks that serve
every model in dev and prod (world.py, tests/support/serving.py).

Each model's endpoint runs as its own role: it describes and uses exactly its own model's versions
(the group's policy names only that model's serving roles, so even a rewritten role of another
model is refused), reads the artifacts of the stacks its stack serves and no other stack's, and
writes only under its own `capture/<model>/`. CI deploys and smoke-tests its own stack's endpoints
and nobody else's; the preview only reads them."""
from __future__ import annotations

import pytest

from ml.contract import VERIFIED_TAG
from tests.security.names import (
    ACCOUNTS,
    ARTIFACTS,
    ARTIFACTS_KEY,
    GROUP_NAME,
    REGION,
    ask,
    boundary,
    data_bucket,
    data_key,
    role,
)
from tests.security.verdicts import assert_allowed, assert_refused
from tests.security.world import ALLOW_EVERYTHING

STACKS = ["dev", "prod"]
REGISTRY = f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['registry']}"
GROUPS = {"mammography": GROUP_NAME, "wdbc": "wdbc-diagnosis-model-package"}
VIA_S3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
# An archive the approver verified (approve-model.yml; test_verified_archives.py for the rest).
VERIFIED = {f"s3:ExistingObjectTag/{VERIFIED_TAG}": "0" * 64}
SAGEMAKER = {"iam:PassedToService": "sagemaker.amazonaws.com"}
OTHER = {"mammography": "wdbc", "wdbc": "mammography"}
CASES = [(stack, model) for stack in STACKS for model in GROUPS]


def serving(stack: str, model: str) -> str:
    return role(stack, f"serving-{model}")


def version(model: str, number: int = 7) -> str:
    return f"{REGISTRY}:model-package/{GROUPS[model]}/{number}"


def artifact(source: str, model: str) -> str:
    """What a version of `model` trained in `source` refers to (its training pipeline's outputs)."""
    prefix = f"models/{source}/mlops-{source}-training" if model == "mammography" else \
        f"models/{source}/{model}/mlops-{source}-{model}-training"
    return f"{ARTIFACTS}/{prefix}/exec-1/TrainXGBoost/model/job/output/model.tar.gz"


def captured(stack: str, model: str) -> str:
    return f"{data_bucket(stack)}/capture/{model}/mlops-{stack}-{model}/AllTraffic/2026/12/01/06/capture.jsonl"


def sagemaker(stack: str, resource: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNTS[stack]}:{resource}"


def rewritten(world, arn: str):
    """The role as a compromised account's administrator (or a rewritten policy) would leave it."""
    return world.with_role(arn, policies=[ALLOW_EVERYTHING], boundary=None)


# ------------------------------------------------------------------ what an endpoint's role does

@pytest.mark.parametrize("stack, model", CASES)
def test_an_endpoint_runs_its_pinned_version_and_captures_its_traffic(served_world, stack, model):
    arn = serving(stack, model)
    for action, resource, context in [
        ("sagemaker:DescribeModelPackage", version(model), {}),
        ("sagemaker:DescribeModelPackageGroup", f"{REGISTRY}:model-package-group/{GROUPS[model]}", {}),
        ("s3:GetObject", artifact("dev", model), VERIFIED),  # every stack serves what dev trained
        ("kms:Decrypt", ARTIFACTS_KEY, VIA_S3),
        ("s3:PutObject", captured(stack, model), {"s3:x-amz-server-side-encryption": "aws:kms",
                                                  "s3:x-amz-server-side-encryption-aws-kms-key-id": data_key(stack)}),
        ("kms:GenerateDataKey", data_key(stack), {}),
        ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{REGION}:{ACCOUNTS[stack]}:alarm:mlops-{stack}-{model}-errors",
         {}),
        ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNTS[stack]}:log-group:/aws/sagemaker/Endpoints/"
                              f"mlops-{stack}-{model}:log-stream:AllTraffic/i-0abc", {}),
    ]:
        assert_allowed(served_world, ask(arn, action, resource, context))
    if stack == "prod":  # and what prod itself trained
        assert_allowed(served_world, ask(arn, "s3:GetObject", artifact("prod", model), VERIFIED))


@pytest.mark.parametrize("stack, model", CASES)
def test_another_models_endpoint_role_cannot_describe_or_use_this_models_versions(served_world, stack, model):
    thief = serving(stack, OTHER[model])
    for world in (served_world, rewritten(served_world, thief)):  # the group's own policy refuses it
        assert_refused(world, ask(thief, "sagemaker:DescribeModelPackage", version(model)))
        assert_refused(world, ask(thief, "sagemaker:DescribeModelPackageGroup",
                                  f"{REGISTRY}:model-package-group/{GROUPS[model]}"))
    # ...nor, as deployed, its artifacts or its capture
    assert_refused(served_world, ask(thief, "s3:GetObject", artifact("dev", model), VERIFIED))
    assert_refused(served_world, ask(thief, "s3:PutObject", captured(stack, model)))


@pytest.mark.parametrize("stack, model", CASES)
def test_an_endpoint_role_writes_nothing_outside_its_capture_prefix(served_world, stack, model):
    arn = serving(stack, model)
    for key in (f"capture/{model}-x/a.jsonl", f"capture/{OTHER[model]}/a.jsonl", "code/steps/abc/preprocess.py",
                "datasets/training/increment.data", "verified-models/abc/model.tar.gz", f"pipelines/{model}/x"):
        assert_refused(served_world, ask(arn, "s3:PutObject", f"{data_bucket(stack)}/{key}"))
    assert_refused(served_world, ask(arn, "s3:PutObject", f"{ARTIFACTS}/models/{stack}/x/model.tar.gz"))
    assert_refused(served_world, ask(arn, "sagemaker:UpdateModelPackage", version(model),
                                     {"sagemaker:ModelApprovalStatus": "Approved"}))


@pytest.mark.parametrize("model", GROUPS)
def test_dev_endpoints_read_no_artifact_of_prod_even_rewritten(served_world, model):
    arn = serving("dev", model)
    assert_refused(served_world, ask(arn, "s3:GetObject", artifact("prod", model), VERIFIED))
    assert_refused(rewritten(served_world, arn), ask(arn, "s3:GetObject", artifact("prod", model), VERIFIED))
    assert_refused(rewritten(served_world, arn), ask(arn, "s3:GetObject", f"{ARTIFACTS}/models/prod/x/train.csv"))


def test_the_registry_lets_endpoint_roles_in_by_pattern_and_only_to_read_through_s3(served_world):
    # Any model's endpoint role of dev (the bucket and key do not list models), nothing but reads.
    new_model = role("dev", "serving-next-model")
    world = served_world.with_role(new_model, policies=[ALLOW_EVERYTHING], boundary=None)
    assert_allowed(world, ask(new_model, "s3:GetObject", f"{ARTIFACTS}/models/dev/next-model/x/model.tar.gz",
                              VERIFIED))
    assert_allowed(world, ask(new_model, "kms:Decrypt", ARTIFACTS_KEY, VIA_S3))
    assert_refused(world, ask(new_model, "kms:Decrypt", ARTIFACTS_KEY))  # not through S3
    assert_refused(world, ask(new_model, "kms:GenerateDataKey", ARTIFACTS_KEY, VIA_S3))
    assert_refused(world, ask(new_model, "s3:PutObject", f"{ARTIFACTS}/models/dev/next-model/x/model.tar.gz"))
    # ...and a model's versions only to that model's own endpoint roles, never by pattern.
    assert_refused(world, ask(new_model, "sagemaker:DescribeModelPackage", version("mammography")))


# ------------------------------------------------------------------ what CI does to serve

@pytest.mark.parametrize("stack", STACKS)
def test_ci_deploys_and_smoke_tests_its_stacks_endpoints(served_world, stack):
    deploy, account = role(stack, "github-deploy"), ACCOUNTS[stack]
    scaling = {"application-autoscaling:service-namespace": "sagemaker",
               "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount"}
    target = f"arn:aws:application-autoscaling:{REGION}:{account}:scalable-target/0123456789abcdef0123"
    for action, resource, context in [
        ("sagemaker:DescribeModelPackage", version("wdbc"), {}),
        ("sagemaker:CreateModel", sagemaker(stack, f"model/mlops-{stack}-wdbc-v7-0a1b2c3d"), {}),
        ("iam:PassRole", serving(stack, "wdbc"), SAGEMAKER),
        ("sagemaker:CreateEndpointConfig", sagemaker(stack, f"endpoint-config/mlops-{stack}-wdbc-v7-0a1b2c3d"), {}),
        ("kms:CreateGrant", data_key(stack), {"kms:ViaService": f"sagemaker.{REGION}.amazonaws.com"}),
        ("sagemaker:CreateEndpoint", sagemaker(stack, f"endpoint/mlops-{stack}-wdbc"), {}),
        ("sagemaker:UpdateEndpoint", sagemaker(stack, f"endpoint/mlops-{stack}-wdbc"), {}),
        ("sagemaker:DeleteEndpointConfig", sagemaker(stack, f"endpoint-config/mlops-{stack}-wdbc-v6-99999999"), {}),
        ("sagemaker:InvokeEndpoint", sagemaker(stack, f"endpoint/mlops-{stack}-wdbc"), {}),
        ("cloudwatch:PutMetricAlarm", f"arn:aws:cloudwatch:{REGION}:{account}:alarm:mlops-{stack}-wdbc-latency", {}),
        ("application-autoscaling:RegisterScalableTarget", target, scaling),
        ("application-autoscaling:PutScalingPolicy", target, scaling),
        ("application-autoscaling:DescribeScalableTargets", "*", {}),
        ("iam:CreateServiceLinkedRole", f"arn:aws:iam::{account}:role/aws-service-role/sagemaker.application-"
                                        "autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_"
                                        "SageMakerEndpoint",
         {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}),
        ("iam:CreateRole", serving(stack, "wdbc"), {"iam:PermissionsBoundary": boundary(stack, "workload-boundary")}),
        ("iam:PutRolePolicy", serving(stack, "wdbc"), {"iam:PermissionsBoundary": boundary(stack, "workload-boundary")}),
    ]:
        assert_allowed(served_world, ask(deploy, action, resource, context))


@pytest.mark.parametrize("stack", STACKS)
def test_ci_cannot_stretch_what_it_may_do_to_serve(served_world, stack):
    deploy, account = role(stack, "github-deploy"), ACCOUNTS[stack]
    target = f"arn:aws:application-autoscaling:{REGION}:{account}:scalable-target/0123456789abcdef0123"
    for action, resource, context in [
        # a serving role passed to anything but SageMaker, or created without the workload boundary
        ("iam:PassRole", serving(stack, "wdbc"), {"iam:PassedToService": "lambda.amazonaws.com"}),
        ("iam:CreateRole", serving(stack, "wdbc"), {"iam:PermissionsBoundary": boundary(stack)}),
        ("iam:CreateRole", serving(stack, "wdbc"), {}),
        # another service's scaling, another service's linked role
        ("application-autoscaling:RegisterScalableTarget", target, {"application-autoscaling:service-namespace": "ecs"}),
        ("iam:CreateServiceLinkedRole", f"arn:aws:iam::{account}:role/aws-service-role/ecs.application-"
                                        "autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
         {"iam:AWSServiceName": "ecs.application-autoscaling.amazonaws.com"}),
        # endpoints or models outside the stack's names
        ("sagemaker:InvokeEndpoint", sagemaker(stack, "endpoint/someone-elses-endpoint"), {}),
        ("sagemaker:DeleteEndpoint", sagemaker(stack, "endpoint/payments-fraud"), {}),
        ("sagemaker:CreateModel", sagemaker(stack, "model/unnamed-model"), {}),
        # approving what it deploys
        ("sagemaker:UpdateModelPackage", version("wdbc"), {"sagemaker:ModelApprovalStatus": "Approved"}),
    ]:
        assert_refused(served_world, ask(deploy, action, resource, context))


def test_devs_deploy_role_cannot_invoke_or_change_prods_endpoints(served_world):
    deploy = role("dev", "github-deploy")
    for action in ("sagemaker:InvokeEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint"):
        for model in GROUPS:
            assert_refused(served_world, ask(deploy, action, sagemaker("prod", f"endpoint/mlops-prod-{model}")))
    assert_refused(served_world, ask(deploy, "iam:PassRole", serving("prod", "wdbc"), SAGEMAKER))
    assert_allowed(served_world, ask(role("prod", "github-deploy"), "sagemaker:InvokeEndpoint",
                                     sagemaker("prod", "endpoint/mlops-prod-wdbc")))


@pytest.mark.parametrize("stack", STACKS)
def test_the_preview_reads_endpoints_and_invokes_none(served_world, stack):
    preview = role(stack, "github-preview")
    endpoint = sagemaker(stack, f"endpoint/mlops-{stack}-mammography")
    assert_allowed(served_world, ask(preview, "sagemaker:DescribeEndpoint", endpoint))
    assert_allowed(served_world, ask(preview, "sagemaker:DescribeEndpointConfig",
                                     sagemaker(stack, f"endpoint-config/mlops-{stack}-mammography-v7-0a1b2c3d")))
    for action in ("sagemaker:InvokeEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint"):
        assert_refused(served_world, ask(preview, action, endpoint))


@pytest.mark.parametrize("stack", STACKS)
def test_no_endpoint_role_nor_ci_touches_a_trust_anchor_with_serving_on(served_world, stack):
    deploy = role(stack, "github-deploy")
    for purpose in ("github-deploy", "github-preview"):
        for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PassRole"):
            assert_refused(served_world, ask(deploy, action, role(stack, purpose),
                                             {"iam:PermissionsBoundary": boundary(stack, "workload-boundary")}))
    for model in GROUPS:
        for action in ("iam:PutRolePolicy", "iam:CreateRole", "kms:PutKeyPolicy", "s3:PutBucketPolicy"):
            resource = {"kms": data_key(stack), "s3": data_bucket(stack)}.get(action.split(":")[0], role(stack, "x"))
            assert_refused(served_world, ask(serving(stack, model), action, resource))
