"""The central SageMaker Model Registry."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlops_platform import iam, naming

# What workload accounts may do in the central group: register versions and read them.
REGISTER_AND_READ = [
    "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages",
]
# Changing approval status (or anything else on a version) stays with the registry account.
APPROVAL_ACTIONS = ["sagemaker:UpdateModelPackage"]


@dataclass(frozen=True)
class ModelRegistryArgs:
    group_name: str
    region: str
    registry_account_id: str
    consumer_role_arns: tuple[str, ...]  # dev/prod roles, named before they exist


class ModelRegistry(pulumi.ComponentResource):
    """The model package group every workload account registers into, and its policy.

    Dev and prod roles may register and read versions; an explicit deny keeps approval
    status changes with principals of the registry account (the approver role).
    """

    def __init__(self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:registry:ModelRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.group = aws.sagemaker.ModelPackageGroup(
            name, model_package_group_name=args.group_name,
            model_package_group_description="Central registry of the mammographic-mass severity model.",
            opts=child)
        group_arn = naming.model_package_group_arn(args.region, args.registry_account_id, args.group_name)
        packages_arn = naming.model_packages_arn(args.region, args.registry_account_id, args.group_name)
        self.policy = aws.sagemaker.ModelPackageGroupPolicy(
            name, model_package_group_name=self.group.model_package_group_name,
            resource_policy=iam.document(
                iam.allow("WorkloadRolesRegisterAndRead", REGISTER_AND_READ, [group_arn, packages_arn],
                          **iam.for_principal_arns(list(args.consumer_role_arns))),
                iam.deny("OnlyRegistryAccountChangesApproval", APPROVAL_ACTIONS, packages_arn,
                         Principal={"AWS": "*"},
                         Condition={"StringNotEquals": {"aws:PrincipalAccount": args.registry_account_id}}),
            ),
            opts=child)
        self.group_name = self.group.model_package_group_name
        self.group_arn = self.group.arn
        self.register_outputs({"group_arn": self.group_arn})
