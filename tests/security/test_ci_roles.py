"""Paths 2 and 3 (high): what CI's deploy role can mint, and what it can re-trust.

A role the deploy role creates carries the workload boundary, which allows no IAM, key-policy or
bucket-policy write at all; the deploy role itself writes only this stack's roles, keys and
bucket, administers keys only through their key policies (which name it), and never touches a
trust anchor: the GitHub roles, the boundaries, the OIDC provider, the central group's policy.
"""
from __future__ import annotations

import pytest

from tests.security.names import ACCOUNTS, GROUP, REGION, ask, boundary, data_bucket, data_key, pipeline, role
from tests.security.verdicts import assert_allowed, assert_closed, assert_refused
from tests.security.world import ALLOW_EVERYTHING, World

DEV = ACCOUNTS["dev"]
DEPLOY = role("dev", "github-deploy")
ORG_ADMIN = f"arn:aws:iam::{DEV}:role/OrganizationAccountAccessRole"
FOREIGN_KEY = f"arn:aws:kms:{REGION}:{DEV}:key/someone-elses-key"
FOREIGN_BUCKET = "arn:aws:s3:::payroll-exports"
# A key as AWS creates it by default: its account's IAM policies decide.
DEFAULT_KEY_POLICY = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
                                     "Action": "kms:*", "Resource": "*"}]}
STACK_TAGS = {"project": "mlops-platform", "stack": "dev"}


def with_foreign_resources(world: World, key_tags: dict[str, str] | None = None) -> World:
    """Someone else's key and bucket in the dev account (the key tagged as `key_tags`)."""
    return world.with_resource(FOREIGN_KEY, account=DEV, policy=DEFAULT_KEY_POLICY, tags=key_tags) \
        .with_resource(FOREIGN_BUCKET, account=DEV)


def minted(world: World, boundary_arn: str) -> World:
    """A role CI created under the name of a service role, with an inline policy of its choosing."""
    return with_foreign_resources(world).with_role(role("dev", "events-invoke"), policies=[ALLOW_EVERYTHING],
                                                   boundary=boundary_arn)


MINTED = role("dev", "events-invoke")


@pytest.mark.parametrize("action, resource", [
    ("iam:PutRolePolicy", ORG_ADMIN),
    ("iam:UpdateAssumeRolePolicy", ORG_ADMIN),
    ("iam:AttachRolePolicy", ORG_ADMIN),
    ("kms:PutKeyPolicy", FOREIGN_KEY),
    ("s3:PutBucketPolicy", FOREIGN_BUCKET),
    ("iam:PutRolePolicy", role("dev", "sagemaker-execution")),
    ("kms:PutKeyPolicy", data_key("dev")),
    ("s3:PutBucketPolicy", data_bucket("dev")),
])
def test_a_role_ci_mints_cannot_rewrite_roles_keys_or_buckets(world, before, action, resource):
    request = ask(MINTED, action, resource)
    if action == "iam:AttachRolePolicy":  # never allowed by any boundary: nothing to compare with
        assert_refused(minted(world, boundary("dev", "workload-boundary")), request)
        return
    if resource in (data_key("dev"), data_bucket("dev"), role("dev", "sagemaker-execution")):
        # before, the minted role could rewrite the stack's own roles, key and bucket too
        request = ask(MINTED, action, resource, {"iam:PermissionsBoundary": boundary("dev")})
    assert_closed(minted(world, boundary("dev", "workload-boundary")), minted(before, boundary("dev")), request)


def test_ci_cannot_mint_a_role_outside_the_services_the_platform_defines(world, before):
    for name in ("mlops-dev-backdoor", "OrganizationAccountAccessRole"):
        request = ask(DEPLOY, "iam:CreateRole", f"arn:aws:iam::{DEV}:role/{name}",
                      {"iam:PermissionsBoundary": boundary("dev", "workload-boundary")})
        assert_refused(world, request)
    old = ask(DEPLOY, "iam:CreateRole", f"arn:aws:iam::{DEV}:role/mlops-dev-backdoor",
              {"iam:PermissionsBoundary": boundary("dev")})
    assert_closed(world, before, old)


def test_ci_creates_service_roles_only_with_the_workload_boundary(world):
    execution = role("dev", "sagemaker-execution")
    for boundary_arn, allowed in ((boundary("dev", "workload-boundary"), True), (boundary("dev"), False)):
        request = ask(DEPLOY, "iam:CreateRole", execution, {"iam:PermissionsBoundary": boundary_arn})
        (assert_allowed if allowed else assert_refused)(world, request)
    assert_refused(world, ask(DEPLOY, "iam:CreateRole", execution))  # without a boundary


def test_ci_cannot_re_trust_a_service_role(world, before):
    request = ask(DEPLOY, "iam:UpdateAssumeRolePolicy", role("dev", "sagemaker-execution"))
    assert_closed(world, before, request)


def test_tagging_a_key_as_ours_takes_nothing_over(world, before):
    tagged_now = with_foreign_resources(world, key_tags=STACK_TAGS)
    tagged_before = with_foreign_resources(before, key_tags=STACK_TAGS)
    # tag-on-create needs kms:TagResource on any key, with the stack's request tags: still allowed
    assert_allowed(tagged_now, ask(DEPLOY, "kms:TagResource", FOREIGN_KEY,
                                   {"aws:RequestTag/project": "mlops-platform", "aws:RequestTag/stack": "dev"}))
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"):
        assert_closed(tagged_now, tagged_before, ask(DEPLOY, action, FOREIGN_KEY))
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    assert_closed(tagged_now, tagged_before, ask(DEPLOY, "kms:Decrypt", FOREIGN_KEY, via_s3))


@pytest.mark.parametrize("stack, purpose", [
    ("registry", "github-model-approver"), ("registry", "github-preview"), ("registry", "github-deploy"),
    ("dev", "github-preview"), ("prod", "github-preview"),
])
@pytest.mark.parametrize("action", ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy"])
def test_ci_cannot_change_a_github_role(world, before, stack, purpose, action):
    request = ask(role(stack, "github-deploy"), action, role(stack, purpose),
                  {"iam:PermissionsBoundary": boundary(stack)})
    if purpose == "github-deploy":  # guarded before already
        assert_refused(world, request)
        return
    if stack == "registry" or action == "iam:PutRolePolicy":
        assert_closed(world, before, request)
    else:
        assert_closed(world, before, ask(role(stack, "github-deploy"), action, role(stack, purpose)))


@pytest.mark.parametrize("action", ["sagemaker:PutModelPackageGroupPolicy", "sagemaker:DeleteModelPackageGroupPolicy",
                                    "sagemaker:DeleteModelPackageGroup"])
def test_the_registry_deploy_cannot_change_or_delete_the_group_policy(world, before, action):
    assert_closed(world, before, ask(role("registry", "github-deploy"), action, GROUP))


def test_ci_cannot_change_a_boundary_or_the_oidc_provider(world):
    for stack in ("registry", "dev", "prod"):
        deploy = role(stack, "github-deploy")
        for action, resource in (("iam:CreatePolicyVersion", boundary(stack)),
                                 ("iam:DeletePolicy", boundary(stack, "workload-boundary")),
                                 ("iam:DeleteRolePermissionsBoundary", role(stack, "github-deploy")),
                                 ("iam:UpdateOpenIDConnectProviderThumbprint",
                                  f"arn:aws:iam::{ACCOUNTS[stack]}:oidc-provider/token.actions.githubusercontent.com")):
            assert_refused(world, ask(deploy, action, resource))


def test_the_deploy_role_still_manages_its_own_stack(world):
    bounded = {"iam:PermissionsBoundary": boundary("dev", "workload-boundary")}
    own = [
        ("iam:PutRolePolicy", role("dev", "sagemaker-execution"), bounded),
        ("iam:DeleteRole", role("dev", "retrain-gate-lambda"), {}),
        ("iam:PassRole", role("dev", "sagemaker-execution"), {"iam:PassedToService": "sagemaker.amazonaws.com"}),
        ("kms:PutKeyPolicy", data_key("dev"), {}),
        ("kms:ScheduleKeyDeletion", data_key("dev"), {}),
        ("kms:CreateKey", "*", {"aws:RequestTag/project": "mlops-platform", "aws:RequestTag/stack": "dev"}),
        ("kms:GenerateDataKey", data_key("dev"), {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}),
        ("s3:PutBucketPolicy", data_bucket("dev"), {}),
        ("s3:PutObject", f"{data_bucket('dev')}/code/steps/0123abcd/preprocess.py", {}),
        ("sagemaker:UpdatePipeline", pipeline("dev", "training"), {}),
        ("sagemaker:ListPipelineExecutions", pipeline("dev", "inference"), {}),
        ("sagemaker:StopPipelineExecution", f"{pipeline('dev', 'training')}/execution/abc123", {}),
        ("sagemaker:DescribePipelineExecution", f"{pipeline('dev', 'training')}/execution/abc123", {}),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{DEV}:function:mlops-dev-retrain-gate", {}),
    ]
    for action, resource, context in own:
        assert_allowed(world, ask(DEPLOY, action, resource, context))
    assert_allowed(world, ask(role("registry", "github-deploy"), "sagemaker:CreateModelPackageGroup", GROUP))
