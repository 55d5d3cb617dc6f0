"""The central group's policy and EventBridge deliveries."""
from __future__ import annotations

import pytest

from mlops_policies import registry
from tests.policy.fixtures import ACCOUNTS, allow, ctx, deny, doc, res

GROUP = "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/models"
PACKAGES = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/models/*"
ROLES = [f"arn:aws:iam::{ACCOUNTS[r]}:role/mlops-{r}-sagemaker-execution" for r in ("dev", "prod")]
REGISTER = ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"]


def grant(roles=ROLES, actions=REGISTER):
    accounts = sorted({r.split(":")[4] for r in roles})
    return allow(actions, [GROUP, PACKAGES], Principal={"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                 Condition={"ArnEquals": {"aws:PrincipalArn": roles}})


KEEP_APPROVAL = deny(["sagemaker:UpdateModelPackage"], PACKAGES, Principal={"AWS": "*"},
                     Condition={"StringNotEquals": {"aws:PrincipalAccount": ACCOUNTS["registry"]}})


def group_policy(*statements):
    return res(registry.GROUP_POLICY, name="group", modelPackageGroupName="models", resourcePolicy=doc(*statements))


def test_group_policy_granting_dev_and_prod_and_keeping_approval_passes():
    assert registry.check_group_policy(group_policy(grant(), KEEP_APPROVAL), ctx("registry")) == []


def test_granting_an_unconfigured_account_is_a_violation():
    stranger = grant(ROLES + ["arn:aws:iam::999999999999:role/x"])
    [message] = registry.check_group_policy(group_policy(stranger, KEEP_APPROVAL), ctx("registry"))
    assert "['999999999999']" in message


def test_granting_everyone_is_a_violation():
    everyone = allow(REGISTER, [GROUP, PACKAGES], Principal={"AWS": "*"})
    messages = registry.check_group_policy(group_policy(everyone, KEEP_APPROVAL), ctx("registry"))
    assert any("grants everyone" in m for m in messages)


def test_a_missing_workload_account_is_a_violation():
    [message] = registry.check_group_policy(group_policy(grant(ROLES[:1]), KEEP_APPROVAL), ctx("registry"))
    assert "['prod']" in message


@pytest.mark.parametrize("action", ["sagemaker:UpdateModelPackage", "sagemaker:Update*"])
def test_letting_workloads_change_approval_is_a_violation(action):
    messages = registry.check_group_policy(group_policy(grant(actions=REGISTER + [action]), KEEP_APPROVAL),
                                           ctx("registry"))
    assert any("approval status" in m for m in messages)


@pytest.mark.parametrize("deny_statement", [
    None,
    {**KEEP_APPROVAL, "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNTS["dev"]}}},
    {**KEEP_APPROVAL, "Action": ["sagemaker:DeleteModelPackage"]},
])
def test_without_a_deny_keeping_approval_in_the_registry_it_is_a_violation(deny_statement):
    statements = [grant()] + ([deny_statement] if deny_statement else [])
    [message] = registry.check_group_policy(group_policy(*statements), ctx("registry"))
    assert "no Deny of sagemaker:UpdateModelPackage" in message


def target(**props):
    base = {"rule": "r", "arn": "arn:aws:sns:eu-west-1:222222222222:alerts",
            "deadLetterConfig": {"arn": "arn:aws:sqs:eu-west-1:222222222222:dlq"},
            "retryPolicy": {"maximumRetryAttempts": 8, "maximumEventAgeInSeconds": 3600}}
    base.update(props)
    return res(registry.EVENT_TARGET, name="t", **{k: v for k, v in base.items() if v is not None})


def test_target_with_dead_letter_queue_and_bounded_retries_passes():
    assert registry.check_event_target(target(), ctx()) == []


@pytest.mark.parametrize("props,expected", [
    ({"deadLetterConfig": None}, "no dead-letter queue"),
    ({"deadLetterConfig": {"arn": "arn:aws:sns:eu-west-1:222222222222:t"}}, "not an SQS queue"),
    ({"retryPolicy": None}, "185 attempts"),
    ({"retryPolicy": {"maximumRetryAttempts": 185, "maximumEventAgeInSeconds": 3600}}, "attempts=185"),
    ({"retryPolicy": {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 86400}}, "age=86400"),
])
def test_target_without_dead_letter_queue_or_bounded_retries_is_a_violation(props, expected):
    [message] = registry.check_event_target(target(**props), ctx())
    assert expected in message and "Fix:" in message
