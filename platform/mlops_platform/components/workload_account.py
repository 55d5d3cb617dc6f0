"""A workload account (dev or prod): one component, two configs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ml import superseded_code
from ml.models import ModelSpec
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
REGISTRY_OUTPUTS = ("accountId", "artifactsBucketArn", "artifactsBucketName", "artifactsKeyArn", "region")
GROUPS_OUTPUT = "modelPackageGroups"  # {model: {arn, name}}


class RegistryNotReady(ValueError):
    """The registry stack has not onboarded a model this stack runs (deploy the registry first)."""


@dataclass(frozen=True)
class RegistryView:
    """The registry stack's outputs, as read through the StackReference."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    groups: pulumi.Output[Any]  # the `modelPackageGroups` output, None when the registry has none yet
    stack_name: str

    @classmethod
    def read(cls, stack_name: str, opts: pulumi.ResourceOptions) -> RegistryView:
        ref = pulumi.StackReference(stack_name, opts=opts)
        out = {k: ref.require_output(k) for k in REGISTRY_OUTPUTS}
        return cls(out["artifactsBucketName"], out["artifactsBucketArn"], out["artifactsKeyArn"],
                   ref.get_output(GROUPS_OUTPUT), stack_name)

    def group_arn(self, model: ModelSpec, expected_arn: str) -> pulumi.Output[str]:
        """The ARN of `model`'s group, as the registry exports it (`expected_arn`: as the config names it)."""
        preview = pulumi.runtime.is_dry_run()
        return self.groups.apply(lambda groups: group_of(groups, model, self.stack_name, expected_arn, preview))


def group_of(groups: Any, model: ModelSpec, stack_name: str, expected_arn: str, preview: bool = False) -> str:
    """`model`'s group ARN in the registry's `modelPackageGroups`; refuses a missing or renamed one,
    so that a pipeline never registers into a group the registry did not make for this model.

    In a preview the registry may not be deployed yet (the pull request that adds a model previews
    every stack before any is deployed): the ARN the config names stands in, with a warning, and
    the `up` that follows refuses to run before the registry has the group.
    """
    entry = groups.get(model.name) if isinstance(groups, dict) else None
    problem = None
    if not isinstance(entry, dict) or not entry.get("arn"):
        problem = (f"The registry stack {stack_name} exports no model package group for model {model.name!r} "
                   f"({GROUPS_OUTPUT}: {sorted(groups) if isinstance(groups, dict) else 'missing'}): deploy the "
                   "registry stack first (`pulumi up` there onboards each model's group; its group policy needs "
                   "an administrator's run), then this stack.")
    elif entry.get("name") != model.group_name:
        problem = (f"Model {model.name!r} registers into {model.group_name!r} here, but the registry stack "
                   f"{stack_name} made {entry.get('name')!r} for it: deploy the registry stack with the same "
                   "Pulumi.yaml first.")
    if problem is None:
        return str(entry["arn"])  # type: ignore[index]  # checked above
    if not preview:
        raise RegistryNotReady(problem)
    pulumi.log.warn(f"{problem} This preview assumes {expected_arn}.")
    return expected_arn


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
