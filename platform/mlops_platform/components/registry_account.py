"""The central model registry account."""
from __future__ import annotations

import pulumi

from ml.retraining_rules import model_package_state_patterns
from mlops_platform import naming
from mlops_platform.components.bucket import HardenedBucket, HardenedBucketArgs
from mlops_platform.components.events import GuardedRule, GuardedRuleArgs, RuleTarget
from mlops_platform.components.kms import CustomerManagedKey, CustomerManagedKeyArgs
from mlops_platform.components.messaging import NotificationChannel, NotificationChannelArgs
from mlops_platform.components.registry import ModelRegistry, ModelRegistryArgs
from mlops_platform.iam_documents import github_roles
from mlops_platform.iam_documents import registry as documents
from mlops_platform.iam_documents.scope import Scope
from mlops_platform.settings import RegistrySettings


class RegistryAccount(pulumi.ComponentResource):
    """Everything the registry account holds: the artifacts key and bucket, one model package
    group and its policy per model, and notifications of model package state changes.

    The first model's group keeps the logical name it had (`model-registry`), the others'
    carry the model's name (`naming.ModelNames.logical`). One rule notifies about every group
    while their names fit in one event pattern; further rules only when they do not.

    `deploy_role_arn` is the stack's GitHub deploy role: the keys' policies name it as their
    administrator (an output, so each key waits for the role it names).
    """

    def __init__(self, name: str, settings: RegistrySettings, deploy_role_arn: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:account:RegistryAccount", name, None, opts)
        s, child = settings, pulumi.ResourceOptions(parent=self)
        pre, account, scope = naming.prefix(s.role), s.account_id, Scope.of(settings)
        deployer = github_roles.key_statements(scope, deploy_role_arn)
        self.artifacts_key = CustomerManagedKey("artifacts-key", CustomerManagedKeyArgs(
            account_id=account, region=s.region, alias=f"{pre}-artifacts", retain=s.retain_data,
            description="Encrypts model artifacts in the central registry.",
            statements=deployer + documents.artifacts_key_statements(scope)), opts=child)
        bucket_name = naming.artifacts_bucket(account, s.region)
        self.artifacts = HardenedBucket("artifacts", HardenedBucketArgs(
            bucket_name=bucket_name, kms_key_arn=self.artifacts_key.arn, retain=s.retain_data, region=s.region,
            statements=lambda arn: documents.artifact_grants(scope, arn)), opts=child)
        self.registries = {
            m.name: ModelRegistry(naming.ModelNames(s.role, m.name, m.first).logical("model-registry"),
                                  ModelRegistryArgs(scope=scope, group_name=m.group_name, model=m.name,
                                                    retain=s.retain_data), opts=child)
            for m in s.models}
        self.registry = self.registries[s.first_model.name]

        self.notifications = NotificationChannel("notifications", NotificationChannelArgs(
            prefix=pre, account_id=account, region=s.region, email=s.notification_email,
            topic="model-events", key_statements=deployer), opts=child)
        self.topic = self.notifications.topic
        patterns = model_package_state_patterns([m.group_name for m in s.models])
        for i, pattern in enumerate(patterns):
            name = "model-package-state" if i == 0 else f"model-package-state-{i + 1}"
            GuardedRule(name, GuardedRuleArgs(
                rule_name=f"{pre}-{name}",
                description="Tells people when a model version is registered, approved or rejected.",
                dead_letter_arn=self.notifications.dead_letters.arn, event_pattern=pattern,
                targets=[RuleTarget(key="notify", arn=self.topic.arn)]), opts=child)
        self.register_outputs({})
