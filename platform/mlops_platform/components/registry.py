"""The central SageMaker Model Registry: one model package group per model."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlops_platform.iam_documents import registry as documents
from mlops_platform.iam_documents.scope import Scope


@dataclass(frozen=True)
class ModelRegistryArgs:
    scope: Scope  # the registry stack's: accounts, region
    group_name: str  # the model's group (`ModelSpec.group_name`)
    model: str  # the model's name, for the group's description
    retain: bool  # keep the group on `pulumi destroy`, like the bucket and key its versions point to


class ModelRegistry(pulumi.ComponentResource):
    """One model's package group every workload account registers into, and its policy.

    Workload training roles may register versions pending approval only; they and the
    model-lookup roles may read versions; only principals of the registry account (the approver
    role) change approval status (`iam_documents.registry.group_policy`).

    The policy is a trust anchor: who may register or approve changes only in an
    administrator's run (the CI boundary denies CI any change to it), and it is kept on
    `pulumi destroy` like the other trust anchors. The group is kept with the registry's data.
    """

    def __init__(self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:registry:ModelRegistry", name, None, opts)
        # SageMaker has no call that changes a group's description: a new one would replace the
        # group and orphan every version in it, so the description stays what it was created with.
        self.group = aws.sagemaker.ModelPackageGroup(
            name, model_package_group_name=args.group_name,
            model_package_group_description=f"Central registry of the {args.model} model.",
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain,
                                        ignore_changes=["modelPackageGroupDescription"]))
        self.policy = aws.sagemaker.ModelPackageGroupPolicy(
            name, model_package_group_name=self.group.model_package_group_name,
            resource_policy=documents.group_policy(args.scope, args.group_name, args.model),
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        self.group_name = self.group.model_package_group_name
        self.group_arn = self.group.arn
        self.register_outputs({"group_arn": self.group_arn})

