"""Boundaries that cap resources, trust anchors out of CI's reach, and pending-only registration:
each rule with a passing and a violating fixture, and each fails on the documents as they were
before issue 10 (tests/security/before_issue_10.json)."""
from __future__ import annotations

import json

import pytest

from mlops_policies import privilege, registry
from mlops_policies.model import Resource
from tests.policy.fixtures import ACCOUNTS, allow, ctx, deny, doc, res
from tests.security.world import BEFORE

DEV = ACCOUNTS["dev"]
BOUNDARY_ARN = f"arn:aws:iam::{DEV}:policy/mlops-dev-workload-boundary"
GITHUB = f"arn:aws:iam::{DEV}:oidc-provider/token.actions.githubusercontent.com"
GROUP = "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/models"
PACKAGES = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/models/*"


def resource(type_, logical, **props):
    """A resource whose inputs may include `name` (fixtures.res takes the logical name so)."""
    return Resource(type=type_, name=logical, props=props, urn=f"urn:{type_}::{logical}")


def role(name, boundary=BOUNDARY_ARN, trust=None):
    trust = trust or doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                          "Action": "sts:AssumeRole"})
    return resource(privilege.ROLE, name, name=name, assumeRolePolicy=trust, permissionsBoundary=boundary)


def boundary(*statements):
    return res(privilege.MANAGED_POLICY, name="workload-boundary", urn="urn:boundary", arn=BOUNDARY_ARN,
               policy=doc(*statements))


def github_role(name):
    trust = doc({"Effect": "Allow", "Principal": {"Federated": GITHUB}, "Action": "sts:AssumeRoleWithWebIdentity"})
    return role(name, trust=trust)


def role_policy(role_name, *statements):
    return res(privilege.ROLE_POLICY, name=f"{role_name}-policy", role=role_name, policy=doc(*statements))


# ------------------------------------------------------------------ boundary scoping

SCOPED = allow(["iam:PutRolePolicy", "s3:PutBucketPolicy"],
               [f"arn:aws:iam::{DEV}:role/mlops-dev-*", "arn:aws:s3:::mlops-dev-data-x",
                "arn:aws:s3:::mlops-dev-data-x/*"])
TAGGED_KEYS = allow(["kms:PutKeyPolicy"], f"arn:aws:kms:eu-west-1:{DEV}:key/*",
                    Condition={"StringEquals": {"aws:ResourceTag/stack": "dev"}})


def test_a_boundary_scoped_to_the_stack_passes():
    stack = [role("mlops-dev-x"), boundary(SCOPED, TAGGED_KEYS, allow(["ecr:GetAuthorizationToken"], "*"))]
    assert privilege.check_boundary_scoping(stack, ctx()) == []


@pytest.mark.parametrize("statement", [
    allow(["iam:PutRolePolicy"], "*"),
    allow(["iam:UpdateAssumeRolePolicy"], f"arn:aws:iam::{DEV}:role/*"),
    allow(["kms:PutKeyPolicy"], f"arn:aws:kms:eu-west-1:{DEV}:key/*"),
    allow(["kms:PutKeyPolicy"], f"arn:aws:kms:eu-west-1:{DEV}:key/*",
          Condition={"StringEquals": {"aws:RequestTag/stack": "dev"}}),  # request tags: anyone can send them
    allow(["s3:PutBucketPolicy"], "arn:aws:s3:::*"),
    allow(["iam:*"], "*"),
])
def test_a_boundary_allowing_policy_writes_beyond_the_stack_is_a_violation(statement):
    [(message, urn)] = privilege.check_boundary_scoping([role("mlops-dev-x"), boundary(statement)], ctx())
    assert urn == "urn:boundary" and "Fix:" in message


def test_a_managed_policy_that_is_no_boundary_is_left_to_the_resource_star_rule():
    unattached = boundary(allow(["iam:PutRolePolicy"], "*"))
    assert privilege.check_boundary_scoping([role("mlops-dev-x", boundary=None), unattached], ctx()) == []


# ------------------------------------------------------------------ trust anchors

def test_role_writes_on_service_roles_only_pass():
    stack = [github_role("mlops-dev-github-deploy"), role("mlops-dev-sagemaker-execution"),
             role_policy("mlops-dev-github-deploy", allow(["iam:PutRolePolicy"],
                                                          f"arn:aws:iam::{DEV}:role/mlops-dev-sagemaker-execution"))]
    assert privilege.check_trust_anchors(stack, ctx()) == []


@pytest.mark.parametrize("resource", [f"arn:aws:iam::{DEV}:role/mlops-dev-*", f"arn:aws:iam::{DEV}:role/*", "*"])
def test_a_policy_that_can_rewrite_a_github_role_is_a_violation(resource):
    stack = [github_role("mlops-dev-github-preview"), role("mlops-dev-sagemaker-execution"),
             role_policy("mlops-dev-github-deploy", allow(["iam:UpdateAssumeRolePolicy"], resource))]
    [(message, _urn)] = privilege.check_trust_anchors(stack, ctx())
    assert "mlops-dev-github-preview" in message and "iam:UpdateAssumeRolePolicy" in message


def test_a_boundary_may_allow_role_writes_it_denies_on_the_github_roles():
    anchors = f"arn:aws:iam::{DEV}:role/mlops-dev-github-*"
    guarded = boundary(allow(["iam:PutRolePolicy"], f"arn:aws:iam::{DEV}:role/mlops-dev-*"),
                       deny(["iam:PutRolePolicy"], anchors))
    assert privilege.check_trust_anchors([github_role("mlops-dev-github-deploy"), guarded], ctx()) == []
    unguarded = boundary(allow(["iam:PutRolePolicy"], f"arn:aws:iam::{DEV}:role/mlops-dev-*"))
    assert privilege.check_trust_anchors([github_role("mlops-dev-github-deploy"), unguarded], ctx())


def test_a_policy_that_can_rewrite_the_group_policy_is_a_violation():
    group = res(privilege.GROUP_POLICY, name="group", modelPackageGroupName="models", resourcePolicy=doc())
    deploy = role_policy("mlops-registry-github-deploy", allow(["sagemaker:PutModelPackageGroupPolicy"], GROUP))
    assert privilege.check_trust_anchors([group, deploy], ctx("registry"))
    reads = role_policy("mlops-registry-github-deploy", allow(["sagemaker:DescribeModelPackageGroup"], GROUP))
    assert privilege.check_trust_anchors([group, reads], ctx("registry")) == []


# ------------------------------------------------------------------ pending-only registration

def grant(condition):
    return allow(["sagemaker:CreateModelPackage"], [GROUP, PACKAGES], Principal={"AWS": f"arn:aws:iam::{DEV}:root"},
                 Condition={"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{DEV}:role/r"}, **condition})


def group_policy(*statements):
    return res(registry.GROUP_POLICY, name="group", modelPackageGroupName="models", resourcePolicy=doc(*statements))


def test_registration_conditioned_on_pending_approval_passes():
    pending = grant({"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}})
    assert registry.check_pending_registration(group_policy(pending), ctx("registry")) == []


@pytest.mark.parametrize("condition", [
    {}, {"StringEquals": {"sagemaker:ModelApprovalStatus": ["PendingManualApproval", "Approved"]}},
    {"StringLike": {"sagemaker:ModelApprovalStatus": "*"}},
])
def test_registration_in_any_other_status_is_a_violation(condition):
    [message] = registry.check_pending_registration(group_policy(grant(condition)), ctx("registry"))
    assert "['222222222222']" in message and "PendingManualApproval" in message


def test_a_grant_to_everyone_counts_as_another_account():
    everyone = allow(["sagemaker:*"], GROUP, Principal={"AWS": "*"})
    assert registry.check_pending_registration(group_policy(everyone), ctx("registry"))


# ------------------------------------------------------------------ the documents before issue 10

def _before(stack):
    data = json.loads(BEFORE.read_text())["stacks"][stack]
    out = []
    for r in data["resources"]:
        props = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in r["inputs"].items()}
        if r["type"] == privilege.MANAGED_POLICY:
            props["arn"] = f"arn:aws:iam::{data['account']}:policy/{props['name']}"
        out.append(resource(r["type"], r["name"], **props))
    return out


def test_the_documents_before_issue_10_fail_each_rule():
    from tests.policy.adapter import context_for

    assert privilege.check_boundary_scoping(_before("dev"), context_for("dev"))
    assert privilege.check_trust_anchors(_before("dev"), context_for("dev"))
    assert privilege.check_trust_anchors(_before("registry"), context_for("registry"))
    [group] = [r for r in _before("registry") if r.type == registry.GROUP_POLICY]
    assert registry.check_pending_registration(group, context_for("registry"))
