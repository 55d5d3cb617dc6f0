"""A workload account (dev or prod): one component, two configs."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ml import superseded_code
from mlops_platform import naming
from mlops_platform.components.bucket import HardenedBucket, HardenedBucketArgs
from mlops_platform.components.kms import CustomerManagedKey, CustomerManagedKeyArgs
from mlops_platform.components.messaging import NotificationChannel, NotificationChannelArgs
from mlops_platform.components.workload_roles import WorkloadRoles, WorkloadRolesArgs
from mlops_platform.iam_documents import github_roles
from mlops_platform.iam_documents import workload as documents
from mlops_platform.iam_documents.scope import Scope
from mlops_platform.settings import WorkloadSettings

# What the registry stack exports and every workload stack reads.
REGISTRY_OUTPUTS = ("accountId", "artifactsBucketArn", "artifactsBucketName", "artifactsKeyArn",
                    "modelPackageGroupArn", "modelPackageGroupName", "region")


@dataclass(frozen=True)
class RegistryView:
    """The registry stack's outputs, as read through the StackReference."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    group_arn: pulumi.Output[str]
    group_name: pulumi.Output[str]

    @classmethod
    def read(cls, stack_name: str, opts: pulumi.ResourceOptions) -> RegistryView:
        ref = pulumi.StackReference(stack_name, opts=opts)
        out = {k: ref.require_output(k) for k in REGISTRY_OUTPUTS}
        return cls(out["artifactsBucketName"], out["artifactsBucketArn"], out["artifactsKeyArn"],
                   out["modelPackageGroupArn"], out["modelPackageGroupName"])


class WorkloadAccount(pulumi.ComponentResource):
    """Keys, the data bucket, the least-privilege roles, alerts and the dead-letter queue of
    a dev or prod account, wired to the central registry it reads through a StackReference.

    `deploy_role_arn` is the stack's GitHub deploy role: the keys' policies name it as their
    administrator, and the data bucket lets only it (and the administrator running the stack)
    write the code that jobs run.
    """

    def __init__(self, name: str, settings: WorkloadSettings, deploy_role_arn: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:account:WorkloadAccount", name, None, opts)
        s, child = settings, pulumi.ResourceOptions(parent=self)
        pre, account, scope = naming.prefix(s.role), s.account_id, Scope.of(settings)
        deployer = github_roles.key_statements(scope, deploy_role_arn)
        self.registry = RegistryView.read(s.workload.registry_stack, child)
        self.data_key = CustomerManagedKey("data-key", CustomerManagedKeyArgs(
            account_id=account, region=s.region, alias=f"{pre}-data", retain=s.retain_data,
            description=f"Encrypts {s.role} datasets, pipeline outputs and job volumes.",
            statements=deployer), opts=child)
        bucket_name = naming.data_bucket(s.role, account, s.region)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).arn
        writers = caller.apply(lambda arn: documents.code_writers(scope, arn))
        self.data = HardenedBucket("data", HardenedBucketArgs(
            bucket_name=bucket_name, kms_key_arn=self.data_key.arn, retain=s.retain_data, region=s.region,
            lifecycle_rules=(superseded_code.lifecycle_rule(),),
            statements=lambda _arn: writers.apply(lambda w: documents.data_bucket_statements(scope, w))),
            opts=child)
        self.notifications = NotificationChannel("notifications", NotificationChannelArgs(
            prefix=pre, account_id=account, region=s.region, email=s.notification_email,
            topic="alerts", key_statements=deployer), opts=child)
        self.roles = WorkloadRoles("roles", WorkloadRolesArgs(
            scope=scope, data_key_arn=self.data_key.arn, registry_key_arn=self.registry.key_arn), opts=child)
        self.register_outputs({})
