"""The central model registry account."""
from __future__ import annotations

import pulumi

from ml.retraining import model_package_state_pattern
from mlops_platform import iam, naming
from mlops_platform.components.bucket import HardenedBucket, HardenedBucketArgs
from mlops_platform.components.events import GuardedRule, GuardedRuleArgs, RuleTarget
from mlops_platform.components.kms import KEY_USE_ACTIONS, CustomerManagedKey, CustomerManagedKeyArgs
from mlops_platform.components.messaging import NotificationChannel, NotificationChannelArgs
from mlops_platform.components.registry import ModelRegistry, ModelRegistryArgs
from mlops_platform.settings import Settings


def consumer_role_arns(settings: Settings) -> list[str]:
    """The dev and prod roles the registry shares its artifacts, key and group with."""
    return sorted(naming.role_arn(account, role, purpose)
                  for role, account in settings.accounts.workloads.items()
                  for purpose in naming.REGISTRY_CONSUMERS)


class RegistryAccount(pulumi.ComponentResource):
    """Everything the registry account holds: the artifacts key and bucket, the model
    package group and its policy, and notifications of model package state changes."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:account:RegistryAccount", name, None, opts)
        s, child = settings, pulumi.ResourceOptions(parent=self)
        pre, account = naming.prefix(s.role), s.account_id
        consumers = consumer_role_arns(s)
        via = {"kms:ViaService": [f"s3.{s.region}.amazonaws.com", f"sagemaker.{s.region}.amazonaws.com"]}
        principals = iam.for_principal_arns(consumers)
        condition = {**principals["Condition"], "StringEquals": via}
        self.artifacts_key = CustomerManagedKey("artifacts-key", CustomerManagedKeyArgs(
            account_id=account, alias=f"{pre}-artifacts", retain=s.retain_data,
            description="Encrypts model artifacts in the central registry.",
            statements=[
                iam.allow("WorkloadRolesUseKeyThroughS3AndSageMaker", KEY_USE_ACTIONS, "*",
                          Principal=principals["Principal"], Condition=condition),
                iam.allow("WorkloadRolesGrantKeyToSageMakerJobs", ["kms:CreateGrant"], "*",
                          Principal=principals["Principal"],
                          Condition={**condition, "Bool": {"kms:GrantIsForAWSResource": "true"}}),
            ]), opts=child)
        bucket_name = f"{pre}-artifacts-{account}-{s.region}"
        self.artifacts = HardenedBucket("artifacts", HardenedBucketArgs(
            bucket_name=bucket_name, kms_key_arn=self.artifacts_key.arn, retain=s.retain_data,
            statements=lambda arn: _artifact_grants(arn, consumers)), opts=child)
        self.registry = ModelRegistry("model-registry", ModelRegistryArgs(
            group_name=s.model_package_group_name, region=s.region, registry_account_id=account,
            consumer_role_arns=tuple(consumers)), opts=child)

        self.notifications = NotificationChannel("notifications", NotificationChannelArgs(
            prefix=pre, account_id=account, region=s.region, email=s.notification_email,
            topic="model-events"), opts=child)
        self.topic = self.notifications.topic
        GuardedRule("model-package-state", GuardedRuleArgs(
            rule_name=f"{pre}-model-package-state",
            description="Tells people when a model version is registered, approved or rejected.",
            dead_letter_arn=self.notifications.dead_letters.arn, event_pattern=model_package_state_pattern(s.model_package_group_name),
            targets=[RuleTarget(key="notify", arn=self.topic.arn)]), opts=child)
        self.register_outputs({})


def _artifact_grants(bucket_arn: str, consumers: list[str]) -> list[dict]:
    principals = iam.for_principal_arns(consumers)
    grants = [
        iam.allow("WorkloadRolesReadModels", ["s3:GetObject"], f"{bucket_arn}/models/*", **principals),
        iam.allow("WorkloadRolesListModels", ["s3:ListBucket"], bucket_arn, **principals),
    ]
    # Each workload account writes only under its own prefix (models/dev/, models/prod/).
    for role in ("dev", "prod"):
        own = [a for a in consumers if f":role/{naming.prefix(role)}-" in a]
        grants.append(iam.allow(f"{role.title()}WritesOwnModels", ["s3:PutObject"],
                                f"{bucket_arn}/{naming.models_prefix(role)}/*", **iam.for_principal_arns(own)))
    return grants
