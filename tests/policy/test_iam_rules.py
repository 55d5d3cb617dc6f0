"""IAM rules: managed policies, wildcard actions, Resource "*", OIDC trusts, users."""
from __future__ import annotations

import pytest

from mlops_policies import iam
from tests.policy.fixtures import allow, ctx, deny, doc, res

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OIDC = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::222222222222:oidc-provider/{OIDC}"


@pytest.mark.parametrize("arn", ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
                                 "arn:aws:iam::aws:policy/AdministratorAccess",
                                 "arn:aws:iam::aws:policy/PowerUserAccess",
                                 "arn:aws:iam::aws:policy/service-role/AWSLambdaFullAccess"])
def test_broad_managed_policy_attachments_are_violations(arn):
    attachment = res(iam.ATTACHMENTS[0], role="r", policyArn=arn)
    [message] = iam.check_managed_policies(attachment, ctx())
    assert arn in message and "Fix:" in message
    assert iam.check_managed_policies(res(iam.ROLE, managedPolicyArns=[arn]), ctx())


def test_narrow_managed_policies_pass():
    narrow = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert iam.check_managed_policies(res(iam.ATTACHMENTS[0], policyArn=narrow), ctx()) == []
    assert iam.check_managed_policies(res(iam.ROLE, managedPolicyArns=[narrow]), ctx()) == []


def test_explicit_actions_pass_and_deny_may_use_wildcards():
    policy = res(ROLE_POLICY, policy=doc(allow(["s3:GetObject"], "arn:aws:s3:::b/*"),
                                         deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})))
    assert iam.check_wildcard_actions(policy, ctx()) == []


@pytest.mark.parametrize("statement", [allow("s3:*", "arn:aws:s3:::b/*"), allow("*", "arn:aws:s3:::b"),
                                       allow("sagemaker:Describe*", "arn:aws:sagemaker:eu-west-1:1:x/*"),
                                       {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}])
def test_wildcard_actions_and_not_action_are_violations(statement):
    assert iam.check_wildcard_actions(res(ROLE_POLICY, policy=doc(statement)), ctx())


def test_wildcards_are_found_in_inline_role_policies_and_resource_policies():
    role = res(iam.ROLE, inlinePolicies=[{"name": "x", "policy": doc(allow("s3:*", "arn:aws:s3:::b"))}])
    topic = res("aws:sns/topicPolicy:TopicPolicy", policy=doc(allow("sns:*", "arn:aws:sns:eu-west-1:1:t",
                                                                     Principal={"AWS": "*"})))
    assert "inlinePolicies[0]" in iam.check_wildcard_actions(role, ctx())[0]
    assert iam.check_wildcard_actions(topic, ctx())


def test_resource_star_is_allowed_only_for_listed_actions():
    listed = res(ROLE_POLICY, policy=doc(allow(["ecr:GetAuthorizationToken"], "*")))
    assert iam.check_resource_star(listed, ctx()) == []
    mixed = res(ROLE_POLICY, policy=doc(allow(["ecr:GetAuthorizationToken", "s3:GetObject"], "*")))
    [message] = iam.check_resource_star(mixed, ctx())
    assert "['s3:GetObject']" in message and "RESOURCE_STAR_ALLOWED" in message


def test_every_resource_star_exception_has_a_reason():
    assert all(reason.strip() for reason in iam.RESOURCE_STAR_ALLOWED.values())
    assert all(action == action.lower() and ":" in action for action in iam.RESOURCE_STAR_ALLOWED)


def test_resource_star_in_a_key_policy_means_the_key_and_passes():
    key = res("aws:kms/key:Key", policy=doc(allow(["kms:Decrypt"], "*",
                                                  Principal={"AWS": "arn:aws:iam::222222222222:root"})))
    assert iam.check_resource_star(key, ctx()) == []


def test_resource_star_in_a_resource_policy_and_not_resource_are_violations():
    group = res("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy",
                resourcePolicy=doc(allow(["sagemaker:DescribeModelPackage"], "*", Principal={"AWS": "*"})))
    not_resource = res(ROLE_POLICY, policy=doc({"Effect": "Allow", "Action": "s3:GetObject",
                                                "NotResource": "arn:aws:s3:::secret/*"}))
    assert iam.check_resource_star(group, ctx())
    assert "NotResource" in iam.check_resource_star(not_resource, ctx())[0]


def trust(condition: dict) -> str:
    return doc({"Effect": "Allow", "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition})


PINNED = {"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": "repo:org/repo:environment:dev"}}


def test_oidc_trust_pinning_audience_and_exact_subject_passes():
    assert iam.check_oidc_trust(res(iam.ROLE, assumeRolePolicy=trust(PINNED)), ctx()) == []


@pytest.mark.parametrize("condition,expected", [
    ({"StringEquals": {f"{OIDC}:sub": "repo:org/repo:environment:dev"}}, ":aud"),
    ({"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"}}, ":sub"),
    ({"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"},
      "StringLike": {f"{OIDC}:sub": "repo:org/repo:*"}}, ":sub"),
    ({"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": "repo:org/*"}}, ":sub"),
    ({"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": "repo:other/repo:ref:main"}},
     "outside repo:org/repo"),
])
def test_oidc_trust_without_pinned_audience_or_exact_subject_is_a_violation(condition, expected):
    [message] = iam.check_oidc_trust(res(iam.ROLE, assumeRolePolicy=trust(condition)), ctx())
    assert expected in message and "Fix:" in message


def test_service_trusts_are_not_oidc_trusts():
    service = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"})
    assert iam.check_oidc_trust(res(iam.ROLE, assumeRolePolicy=service), ctx()) == []


def test_iam_users_and_access_keys_are_violations():
    for type_ in iam.USER_TYPES:
        assert "Fix: use a role" in iam.check_no_users(res(type_, name="ci"), ctx())[0]


def test_a_managed_policy_with_resource_star_is_a_violation_unless_it_is_a_permissions_boundary():
    import dataclasses
    boundary = res(iam.MANAGED_POLICY, name="boundary", urn="urn:boundary",
                   policy=doc(allow(["s3:GetObject", "sagemaker:CreateModel"], "*")))
    role = dataclasses.replace(res(iam.ROLE, name="r", permissionsBoundary="unknown-at-preview"),
                               dependencies={"permissionsBoundary": frozenset({"urn:boundary"})})
    assert iam.check_resource_star(boundary, ctx()) == []  # left to the stack rule
    assert iam.check_managed_policy_resource_star([boundary, role], ctx()) == []
    [(message, urn)] = iam.check_managed_policy_resource_star([boundary], ctx())
    assert urn == "urn:boundary" and "sagemaker:CreateModel" in message
