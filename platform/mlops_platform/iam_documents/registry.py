"""The central registry's resource policies: what the workload accounts may do with its model
package group, its artifacts bucket and its artifacts key.

The registry cannot trust a workload account (a compromised one controls its own roles'
policies), so every limit that matters is here, on the registry's side:
- a workload's training role registers versions only `PendingManualApproval`, and only the
  registry account changes approval status;
- each workload writes only its own `models/<stack>/` prefix, with the registry's key;
- a workload reads only the prefixes of the stacks it serves (dev: its own; prod: dev's and
  its own), so dev never reads prod's data;
- the model-lookup roles only read; they register nothing and encrypt nothing;
- a served model's endpoint role (one per model, `mlops-<stack>-serving-<model>`) reads only the
  versions of its own model's group (that group's policy names it), and the artifacts of the
  stacks its stack serves, which it decrypts through S3. The bucket and key name every model's
  serving role of a stack by one `aws:PrincipalArn` pattern, so neither grows with the models;
  the role's own policy narrows it to its model's prefixes (`iam_documents.serving`). It reads
  an archive only while its current version carries the verification tag (`VERIFIED_TAG`), which
  only the registry's model approver role sets, after checking the archive's sha256 against the
  version's `model_data_sha256` (approve-model.yml): a training role that overwrites an approved
  archive leaves an untagged version nobody serves.
"""
from __future__ import annotations

from typing import Any

from ml.contract import VERIFIED_TAG
from mlops_platform import iam, naming
from mlops_platform.iam_documents.scope import Scope, served_by

PENDING = "PendingManualApproval"
READ_VERSIONS = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
                 "sagemaker:ListModelPackages"]
# Changing approval status (or anything else on a version) stays with the registry account.
APPROVAL_ACTIONS = ["sagemaker:UpdateModelPackage"]
# What sets or removes an object's tags (the verification tag among them).
TAGGING_ACTIONS = ["s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging", "s3:PutObjectTagging",
                   "s3:PutObjectVersionTagging"]


def training_roles(s: Scope) -> list[str]:
    """The roles that train and register: each workload's SageMaker execution role."""
    return sorted(s.role_arn(naming.SAGEMAKER_EXECUTION, stack, account) for stack, account in s.workload_accounts)


def lookup_roles(s: Scope) -> list[str]:
    return sorted(s.role_arn(naming.MODEL_LOOKUP_LAMBDA, stack, account) for stack, account in s.workload_accounts)


def consumer_roles(s: Scope) -> list[str]:
    """Every workload role the registry shares something with."""
    return sorted(training_roles(s) + lookup_roles(s))


def version_readers(s: Scope, model: str) -> list[str]:
    """Who may describe one model's versions: the consumers, that model's serving roles (its
    endpoints run as them) and the workload deploy roles (which create the endpoints' models from
    the pinned version). Never another model's serving role."""
    serving = [s.serving_role(stack, account, model) for stack, account in s.workload_accounts]
    deployers = [s.role_arn(naming.GITHUB_DEPLOY, stack, account) for stack, account in s.workload_accounts]
    return sorted(consumer_roles(s) + serving + deployers)


def serving_patterns(s: Scope, stacks: list[str] | None = None) -> list[str]:
    """Every model's serving role of each workload stack (of `stacks`, default all), by pattern."""
    return sorted(s.serving_roles_of(stack, account) for stack, account in s.workload_accounts
                  if stacks is None or stack in stacks)


def for_principal_patterns(patterns: list[str]) -> dict[str, Any]:
    """Like `iam.for_principal_arns`, for role name patterns (`ArnLike`)."""
    grant = iam.for_principal_arns(patterns)
    return {**grant, "Condition": {"ArnLike": grant["Condition"]["ArnEquals"]}}


def group_policy(s: Scope, group_name: str, model: str) -> str:
    """One model's group: training roles register pending versions; training and lookup roles,
    the model's own serving roles and the deploy roles read versions. Every group carries its own
    copy, naming only itself and its model, so its size does not depend on how many models there are."""
    group, packages = s.group_arn(group_name), s.group_packages_arn(group_name)
    return iam.document(
        iam.allow("WorkloadTrainingRegistersPendingVersions", ["sagemaker:CreateModelPackage"],
                  [group, packages], **_pending(iam.for_principal_arns(training_roles(s)))),
        iam.allow("WorkloadRolesReadVersions", READ_VERSIONS, [group, packages],
                  **iam.for_principal_arns(version_readers(s, model))),
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
            iam.allow(f"EndpointsOf{title}Models", ["s3:GetObject"], f"{bucket_arn}/{prefix}/*",
                      **_verified(for_principal_patterns(serving_patterns(s, serving_stacks(s, stack))))),
        ]
    return grants + verification_guards(s, bucket_arn)


def _verified(grant: dict[str, Any]) -> dict[str, Any]:
    """Only objects whose (current) version carries the approver's verification tag."""
    return {**grant, "Condition": {**grant["Condition"], "Null": {f"s3:ExistingObjectTag/{VERIFIED_TAG}": "false"}}}


def verification_guards(s: Scope, bucket_arn: str) -> list[dict[str, Any]]:
    """Only the registry's model approver role sets the verification tag on `models/*`: nobody
    else tags or untags an object there, writes one carrying the tag, or copies one there (a copy
    keeps its source's tags by default, so a verified archive could be copied over another key).
    An overwrite by the training role makes a new, untagged current version: the endpoints can
    no longer read it, so a swapped archive fails closed."""
    others = {"ArnNotEquals": {"aws:PrincipalArn": s.role_arn(naming.MODEL_APPROVER)}}
    models = f"{bucket_arn}/{s.models_prefix('*')}/*"
    everyone = {"AWS": "*"}
    return [
        iam.deny("OnlyTheApproverTagsModels", TAGGING_ACTIONS, models, Principal=everyone, Condition=others),
        iam.deny("OnlyTheApproverWritesTheVerifiedTag", ["s3:PutObject"], models, Principal=everyone,
                 Condition={**others, "ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": [VERIFIED_TAG]}}),
        iam.deny("NoCopiesIntoModels", ["s3:PutObject"], models, Principal=everyone,
                 Condition={**others, "Null": {"s3:x-amz-copy-source": "false"}}),
    ]


def serving_stacks(s: Scope, source: str) -> list[str]:
    """The workload stacks whose endpoints may serve what `source` trained (as `readers_of`)."""
    stacks = [stack for stack, _ in s.workload_accounts]
    return [stack for stack in stacks if source in served_by(stack, stacks)]


def _listing(grant: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {**grant, "Condition": {**grant["Condition"], "StringLike": {"s3:prefix": [f"{prefix}/*"]}}}


def artifacts_key_statements(s: Scope) -> list[dict[str, Any]]:
    """Training roles use the key through S3 and SageMaker; lookup and serving roles only decrypt
    through S3."""
    s3 = f"s3.{s.region}.amazonaws.com"
    trainers = iam.for_principal_arns(training_roles(s))
    via = {**trainers["Condition"], "StringEquals": {"kms:ViaService": [s3, f"sagemaker.{s.region}.amazonaws.com"]}}
    lookups = iam.for_principal_arns(lookup_roles(s))
    endpoints = for_principal_patterns(serving_patterns(s))
    return [
        iam.allow("WorkloadTrainingUsesKeyThroughS3AndSageMaker", iam.KEY_USE, "*",
                  Principal=trainers["Principal"], Condition=via),
        iam.allow("WorkloadTrainingGrantsKeyToSageMakerJobs", ["kms:CreateGrant"], "*",
                  Principal=trainers["Principal"], Condition={**via, "Bool": {"kms:GrantIsForAWSResource": "true"}}),
        iam.allow("WorkloadLookupsDecryptThroughS3", ["kms:Decrypt"], "*", Principal=lookups["Principal"],
                  Condition={**lookups["Condition"], "StringEquals": {"kms:ViaService": s3}}),
        iam.allow("WorkloadEndpointsDecryptThroughS3", ["kms:Decrypt"], "*", Principal=endpoints["Principal"],
                  Condition={**endpoints["Condition"], "StringEquals": {"kms:ViaService": s3}}),
    ]

