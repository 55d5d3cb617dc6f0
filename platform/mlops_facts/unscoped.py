"""Actions AWS authorises only against `Resource: "*"`, each with the reason.

The one list the program (the permissions boundary of workload stacks), the policy pack (its
`Resource: "*"` rule) and the tests use. An entry is an AWS fact, not a permission: whether a
role gets the action is each policy's decision. Checked against the Service Authorization
Reference as parliament 1.6.4 ships it (the "Resource types" column is empty for each but one,
noted below); tests/facts/test_unscoped.py compares the list with that data.
"""
from __future__ import annotations

from collections.abc import Iterable

_EC2_DESCRIBE = "EC2 Describe* calls support no resource-level permissions"
_SNS_SUBSCRIPTION = "SNS subscription calls support no resource-level permissions"

UNSCOPED_ACTIONS: dict[str, str] = {
    "application-autoscaling:DescribeScalableTargets": "supports no resource-level permissions (a list call)",
    "application-autoscaling:DescribeScalingPolicies": "supports no resource-level permissions (a list call)",
    "cloudwatch:PutMetricData": "supports no resource-level permissions (scope it with cloudwatch:namespace)",
    "ec2:DescribeDhcpOptions": _EC2_DESCRIBE,
    "ec2:DescribeNetworkInterfaces": _EC2_DESCRIBE,
    "ec2:DescribeSecurityGroups": _EC2_DESCRIBE,
    "ec2:DescribeSubnets": _EC2_DESCRIBE,
    "ec2:DescribeVpcs": _EC2_DESCRIBE,
    "ecr:GetAuthorizationToken": "supports no resource-level permissions (the registry login token)",
    "kms:CreateKey": "the key has no ARN before it exists (scope it with aws:RequestTag conditions)",
    "kms:ListAliases": "supports no resource-level permissions (a list call)",
    "logs:DescribeLogGroups": "supports no resource-level permissions (a list call)",
    # The one exception to "empty Resource types column": the reference (as parliament 1.6.4
    # ships it) lists an *optional* model-package type. The call names a group, not a package,
    # and which ARN AWS then authorises is not documented; "*" always works, and the registry
    # group's resource policy scopes what another account can list. Not verified live.
    "sagemaker:ListModelPackages": "a list call that names no package; the group's resource policy scopes it",
    "sns:GetSubscriptionAttributes": _SNS_SUBSCRIPTION,
    "sns:SetSubscriptionAttributes": _SNS_SUBSCRIPTION,
    "sns:Unsubscribe": _SNS_SUBSCRIPTION,
}
# Not listed: sts:GetCallerIdentity. AWS authorises it for every caller (no policy can allow or
# deny it), so granting it is noise; the pack's former list allowed it, no policy here writes it.

_LOWER = {action.lower(): action for action in UNSCOPED_ACTIONS}


def is_unscoped(action: str) -> bool:
    """Whether AWS authorises `action` only on "*" (IAM action names are case-insensitive)."""
    return action.lower() in _LOWER


def scoped(actions: Iterable[str]) -> list[str]:
    """The actions of `actions` that support resource-level permissions, sorted."""
    return sorted(a for a in actions if not is_unscoped(a))
