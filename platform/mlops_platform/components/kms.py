"""Customer-managed KMS keys."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_platform import iam

# Explicit, so no statement needs `kms:*`: the account may administer and use the key through
# IAM, which keeps the key recoverable without granting wildcard actions.
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
    "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants",
    "kms:ListKeyPolicies", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
KEY_USE_ACTIONS = iam.KEY_USE


@dataclass(frozen=True)
class CustomerManagedKeyArgs:
    account_id: str
    region: str  # decides the partition of the account principal
    alias: str
    description: str
    retain: bool
    # Extra key-policy statements (the deploy role, other accounts' roles, AWS services that
    # publish); values may be outputs (the deploy role's ARN, so the key waits for the role).
    statements: list[dict[str, Any]] = field(default_factory=list)


class CustomerManagedKey(pulumi.ComponentResource):
    """A symmetric CMK with yearly rotation and an alias.

    Kept on `pulumi destroy` when `retain` is set (prod), since deleting a key makes every
    object encrypted with it unreadable; otherwise scheduled for deletion after 7 days.
    """

    def __init__(self, name: str, args: CustomerManagedKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:security:CustomerManagedKey", name, None, opts)
        # Resource "*" in a key policy means "this key": key policies cannot name their own ARN.
        own = iam.allow("AccountAdministersAndUsesKeyThroughIam",
                        KEY_ADMIN_ACTIONS + KEY_USE_ACTIONS + ["kms:CreateGrant"], "*",
                        Principal={"AWS": iam.account_root(args.account_id, args.region)})
        self.key = aws.kms.Key(
            name,
            description=args.description,
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.retain else 7,
            policy=pulumi.Output.from_input(args.statements).apply(lambda extra: iam.document(own, *extra)),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain),
        )
        self.alias = aws.kms.Alias(name, name=f"alias/{args.alias}", target_key_id=self.key.key_id,
                                   opts=pulumi.ResourceOptions(parent=self))
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})


def service_use(sid: str, service: str, account_id: str | None = None) -> dict[str, Any]:
    """Lets an AWS service (EventBridge, CloudWatch) use the key, for this account's resources
    when `account_id` is given (the service's request then carries aws:SourceAccount)."""
    condition = {"Condition": {"StringEquals": {"aws:SourceAccount": account_id}}} if account_id else {}
    return iam.allow(sid, ["kms:Decrypt", "kms:GenerateDataKey"], "*", Principal={"Service": service}, **condition)
