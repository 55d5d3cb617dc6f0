"""The central registry's resource policies: what the workload accounts may do with its model
package group, its artifacts bucket and its artifacts key.

The registry cannot trust a workload account (a compromised one controls its own roles'
policies), so every limit that matters is here, on the registry's side:
- a workload's training role registers versions only `PendingManualApproval`, and only the
  registry account changes approval status;
- each workload writes only its own `models/<stack>/` prefix, with the registry's key;
- a workload reads only the prefixes of the stacks it serves (dev: its own; prod: dev's and
  its own), so dev never reads prod's data;
- the model-lookup roles only read; they register nothing and encrypt nothing.
"""
from __future__ import annotations

from typing import Any

from mlops_platform import iam, naming
from mlops_platform.iam_documents.scope import Scope, served_by

PENDING = "PendingManualApproval"
READ_VERSIONS = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
                 "sagemaker:ListModelPackages"]
# Changing approval status (or anything else on a version) stays with the registry account.
APPROVAL_ACTIONS = ["sagemaker:UpdateModelPackage"]


def training_roles(s: Scope) -> list[str]:
    """The roles that train and register: each workload's SageMaker execution role."""
    return sorted(s.role_arn(naming.SAGEMAKER_EXECUTION, stack, account) for stack, account in s.workload_accounts)


def lookup_roles(s: Scope) -> list[str]:
    return sorted(s.role_arn(naming.MODEL_LOOKUP_LAMBDA, stack, account) for stack, account in s.workload_accounts)


def consumer_roles(s: Scope) -> list[str]:
    """Every workload role the registry shares something with."""
    return sorted(training_roles(s) + lookup_roles(s))


def group_policy(s: Scope, group_name: str) -> str:
    """One model's group: training roles register pending versions; training and lookup roles read
    versions. Every group carries its own copy, naming only itself, so its size does not depend
    on how many models there are."""
    group, packages = s.group_arn(group_name), s.group_packages_arn(group_name)
    return iam.document(
        iam.allow("WorkloadTrainingRegistersPendingVersions", ["sagemaker:CreateModelPackage"],
                  [group, packages], **_pending(iam.for_principal_arns(training_roles(s)))),
        iam.allow("WorkloadRolesReadVersions", READ_VERSIONS, [group, packages],
                  **iam.for_principal_arns(consumer_roles(s))),
        # Defence in depth over the allow above: no grant added later can let another account
        # register a version in any other status (Approved would be served without a review).
        iam.deny("OtherAccountsRegisterOnlyPendingVersions", ["sagemaker:CreateModelPackage"],
                 [group, packages], Principal={"AWS": "*"},
                 Condition={"StringNotEquals": {"aws:PrincipalAccount": s.account,
                                                "sagemaker:ModelApprovalStatus": PENDING}}),
        iam.deny("OnlyRegistryAccountChangesApproval", APPROVAL_ACTIONS, packages, Principal={"AWS": "*"},
                 Condition={"StringNotEquals": {"aws:PrincipalAccount": s.account}}),
    )


def _pending(grant: dict[str, Any]) -> dict[str, Any]:
    return {**grant, "Condition": {**grant["Condition"],
                                   "StringEquals": {"sagemaker:ModelApprovalStatus": PENDING}}}


def readers_of(s: Scope, source: str) -> list[str]:
    """Who reads `models/<source>/`: the stack that wrote it, and the lookups of every stack
    that serves its models (dev's models are approved for prod)."""
    out = [s.role_arn(naming.SAGEMAKER_EXECUTION, source, dict(s.workload_accounts)[source])]
    stacks = [stack for stack, _ in s.workload_accounts]
    for stack, account in s.workload_accounts:
        if source in served_by(stack, stacks):
            out.append(s.role_arn(naming.MODEL_LOOKUP_LAMBDA, stack, account))
    return sorted(out)


def artifact_grants(s: Scope, bucket_arn: str) -> list[dict[str, Any]]:
    """Per workload stack: its training role writes and lists its own prefix; the readers of
    that prefix read it. Nothing else of the bucket is shared."""
    grants = []
    for stack, account in s.workload_accounts:
        prefix, title = s.models_prefix(stack), stack.title()
        trainer = s.role_arn(naming.SAGEMAKER_EXECUTION, stack, account)
        grants += [
            iam.allow(f"{title}TrainingWritesOwnModels", ["s3:PutObject"], f"{bucket_arn}/{prefix}/*",
                      **iam.for_principal_arns([trainer])),
            iam.allow(f"ReadersOf{title}Models", ["s3:GetObject"], f"{bucket_arn}/{prefix}/*",
                      **iam.for_principal_arns(readers_of(s, stack))),
            iam.allow(f"ReadersOf{title}ModelsList", ["s3:ListBucket"], bucket_arn,
                      **_listing(iam.for_principal_arns(readers_of(s, stack)), prefix)),
        ]
    return grants


def _listing(grant: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {**grant, "Condition": {**grant["Condition"], "StringLike": {"s3:prefix": [f"{prefix}/*"]}}}


def artifacts_key_statements(s: Scope) -> list[dict[str, Any]]:
    """Training roles use the key through S3 and SageMaker; lookup roles only decrypt through S3."""
    s3 = f"s3.{s.region}.amazonaws.com"
    trainers = iam.for_principal_arns(training_roles(s))
    via = {**trainers["Condition"], "StringEquals": {"kms:ViaService": [s3, f"sagemaker.{s.region}.amazonaws.com"]}}
    lookups = iam.for_principal_arns(lookup_roles(s))
    return [
        iam.allow("WorkloadTrainingUsesKeyThroughS3AndSageMaker", iam.KEY_USE, "*",
                  Principal=trainers["Principal"], Condition=via),
        iam.allow("WorkloadTrainingGrantsKeyToSageMakerJobs", ["kms:CreateGrant"], "*",
                  Principal=trainers["Principal"], Condition={**via, "Bool": {"kms:GrantIsForAWSResource": "true"}}),
        iam.allow("WorkloadLookupsDecryptThroughS3", ["kms:Decrypt"], "*", Principal=lookups["Principal"],
                  Condition={**lookups["Condition"], "StringEquals": {"kms:ViaService": s3}}),
    ]

