"""A workload account (dev or prod): one component, two configs."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

from mlops_platform import naming
from mlops_platform.components.bucket import HardenedBucket, HardenedBucketArgs
from mlops_platform.components.kms import CustomerManagedKey, CustomerManagedKeyArgs
from mlops_platform.components.messaging import NotificationChannel, NotificationChannelArgs
from mlops_platform.components.workload_roles import WorkloadRoles, WorkloadRolesArgs
from mlops_platform.settings import Settings

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
    def read(cls, stack_name: str, opts: pulumi.ResourceOptions) -> "RegistryView":
        ref = pulumi.StackReference(stack_name, opts=opts)
        out = {k: ref.require_output(k) for k in REGISTRY_OUTPUTS}
        return cls(out["artifactsBucketName"], out["artifactsBucketArn"], out["artifactsKeyArn"],
                   out["modelPackageGroupArn"], out["modelPackageGroupName"])


class WorkloadAccount(pulumi.ComponentResource):
    """Keys, the data bucket, the least-privilege roles, alerts and the dead-letter queue of
    a dev or prod account, wired to the central registry it reads through a StackReference."""

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:account:WorkloadAccount", name, None, opts)
        s, child = settings, pulumi.ResourceOptions(parent=self)
        pre, account = naming.prefix(s.role), s.account_id
        self.registry = RegistryView.read(s.workload.registry_stack, child)
        self.data_key = CustomerManagedKey("data-key", CustomerManagedKeyArgs(
            account_id=account, alias=f"{pre}-data", retain=s.retain_data,
            description=f"Encrypts {s.role} datasets, pipeline outputs and job volumes."), opts=child)
        bucket_name = f"{pre}-data-{account}-{s.region}"
        self.data = HardenedBucket("data", HardenedBucketArgs(
            bucket_name=bucket_name, kms_key_arn=self.data_key.arn, retain=s.retain_data), opts=child)
        self.notifications = NotificationChannel("notifications", NotificationChannelArgs(
            prefix=pre, account_id=account, region=s.region, email=s.notification_email,
            topic="alerts"), opts=child)
        self.roles = WorkloadRoles("roles", WorkloadRolesArgs(
            stack_role=s.role, account_id=account, region=s.region,
            data_bucket_arn=f"arn:aws:s3:::{bucket_name}", data_key_arn=self.data_key.arn,
            registry_bucket_arn=self.registry.bucket_arn, registry_key_arn=self.registry.key_arn,
            registry_group_arn=self.registry.group_arn, vpc=s.workload.vpc), opts=child)
        self.register_outputs({})
