"""Every rule of the pack with its name, description, remediation and the types it applies to.

`policy/__main__.py` wraps each entry into a pulumi-policy policy; the tests call the same
entries through `evaluate_resource` / `evaluate_stack`, so one code path decides in both.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_policies import iam, pipelines, privilege, registry, serving, stack, storage
from mlops_policies.documents import POLICY_INPUTS, BadDocument
from mlops_policies.model import ContextError, Resource, StackContext

ALL_POLICY_DOCUMENTS = tuple(POLICY_INPUTS)


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    remediation: str
    types: tuple[str, ...]
    check: Callable[[Resource, Any], list[str]]
    needs_context: bool = False

    def applies_to(self, resource_type: str) -> bool:
        if resource_type in self.types:
            return True
        return pipelines.DYNAMIC in self.types and pipelines.is_dynamic(resource_type)


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    remediation: str
    check: Callable[[list[Resource], Any], list[tuple[str, str | None]]]
    needs_context: bool = True


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule("s3-bucket-encryption-cmk", "S3 default encryption is SSE-KMS with a customer-managed key.",
                 "Set sse_algorithm 'aws:kms' and kms_master_key_id to the stack's CMK.",
                 storage.SSE + (storage.BUCKET, storage.BUCKET_V2), storage.check_bucket_encryption),
    ResourceRule("s3-public-access-blocked", "Every S3 public-access block is on.",
                 "Set all four BucketPublicAccessBlock flags to True.",
                 storage.PUBLIC_ACCESS_BLOCK, storage.check_public_access_block),
    ResourceRule("s3-versioning-enabled", "S3 versioning is enabled.",
                 "Add BucketVersioning with status 'Enabled'.",
                 storage.VERSIONING + (storage.BUCKET, storage.BUCKET_V2), storage.check_versioning),
    ResourceRule("s3-tls-only", "S3 bucket policies deny requests made without TLS.",
                 "Add a Deny on s3:* for aws:SecureTransport=false over the bucket and its objects.",
                 storage.BUCKET_POLICY, storage.check_tls_only),
    ResourceRule("kms-key-rotation", "Customer-managed KMS keys rotate.", "Set enable_key_rotation=True.",
                 (storage.KMS_KEY,), storage.check_key_rotation),
    ResourceRule("sns-encrypted-cmk", "SNS topics are encrypted with a customer-managed key.",
                 "Set kms_master_key_id to a CMK that EventBridge and CloudWatch may use.",
                 (storage.TOPIC,), storage.check_topic_encryption),
    ResourceRule("sqs-encrypted-cmk", "SQS queues are encrypted with a customer-managed key.",
                 "Set kms_master_key_id to the stack's CMK.", (storage.QUEUE,), storage.check_queue_encryption),
    ResourceRule("iam-no-broad-managed-policies",
                 "No *FullAccess, AdministratorAccess or PowerUserAccess policy is attached.",
                 "Replace managed policies with a least-privilege inline policy.",
                 iam.ATTACHMENTS + (iam.ROLE,), iam.check_managed_policies),
    ResourceRule("iam-no-wildcard-actions", "Allow statements name their actions (no wildcards, no NotAction); "
                 "managed policies: iam-managed-policy-wildcards.",
                 "List each action explicitly.", ALL_POLICY_DOCUMENTS, iam.check_wildcard_actions),
    ResourceRule("iam-resource-star-allow-list",
                 'Allow statements use Resource "*" only for actions without resource-level permissions.',
                 "Scope resources to ARNs; see RESOURCE_STAR_ALLOWED for the exceptions and their reasons.",
                 ALL_POLICY_DOCUMENTS, iam.check_resource_star),
    ResourceRule("iam-oidc-trust-pinned", "Web-identity trusts pin the audience and an exact subject.",
                 "StringEquals on <provider>:aud and an exact <provider>:sub of this repository.",
                 (iam.ROLE,), iam.check_oidc_trust),
    ResourceRule("iam-no-users", "No IAM users, login profiles or access keys.",
                 "Use roles; CI assumes them through GitHub OIDC.", iam.USER_TYPES, iam.check_no_users),
    ResourceRule("registry-group-policy",
                 "The model package group grants only the dev/prod accounts; only the registry approves.",
                 "Grant the configured dev/prod roles; deny UpdateModelPackage outside the registry account.",
                 (registry.GROUP_POLICY,), registry.check_group_policy, needs_context=True),
    ResourceRule("registry-registers-pending-only",
                 "Other accounts register versions into the group only PendingManualApproval.",
                 "Condition the group policy's CreateModelPackage grant on "
                 "sagemaker:ModelApprovalStatus = PendingManualApproval.",
                 (registry.GROUP_POLICY,), registry.check_pending_registration, needs_context=True),
    ResourceRule("eventbridge-target-dlq-and-retry",
                 "EventBridge targets have a dead-letter queue and a bounded retry policy.",
                 "Set dead_letter_config and retry_policy on every target.",
                 (registry.EVENT_TARGET,), registry.check_event_target),
    ResourceRule("sagemaker-pipeline-jobs-hardened",
                 "Pipeline jobs set KMS volume/output keys, a stopping condition, and the stack's VPC settings.",
                 "Build definitions with ml.pipelines from the stack's settings.",
                 (pipelines.DYNAMIC, pipelines.NATIVE), pipelines.check_pipeline_jobs, needs_context=True),
    ResourceRule("sagemaker-endpoint-hardened",
                 "Endpoints encrypt volumes and captured traffic with a CMK, run in the stack's VPC settings, "
                 "and roll out blue/green with rollback alarms.",
                 "Build endpoints with the ModelEndpoint component from the stack's settings.",
                 serving.TYPES, serving.check_endpoint, needs_context=True),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule("s3-bucket-companions",
              "Every bucket has encryption, a public-access block, versioning and a TLS-only policy.",
              "Create buckets through the HardenedBucket component.", stack.check_bucket_companions,
              needs_context=False),
    StackRule("iam-managed-policy-resource-star",
              'Managed policies use Resource "*" only for listed actions, unless they are a permissions boundary.',
              "Scope resources to ARNs, or attach the policy as a permissions boundary only.",
              iam.check_managed_policy_resource_star, needs_context=False),
    StackRule("iam-managed-policy-wildcards",
              "Managed policies name their actions; a permissions boundary may cap configuration reads by prefix.",
              "List each action; in a boundary only <service>:Get/List/Describe...* prefixes that reach no data.",
              iam.check_managed_policy_wildcards, needs_context=False),
    StackRule("iam-boundary-resource-scoped",
              "Permissions boundaries cap resources: role, key-policy and bucket-policy writes only on the stack's own.",
              "Scope boundary statements to the stack's role prefix, its tagged keys and its bucket.",
              privilege.check_boundary_scoping, needs_context=False),
    StackRule("iam-trust-anchors-admin-only",
              "No policy lets a role change the GitHub-trusted roles or the model group's policy.",
              "Scope role writes to the roles CI creates and deny trust-anchor changes in the boundary.",
              privilege.check_trust_anchors),
    StackRule("retain-data-on-delete", "Stacks that keep data (prod, registry) keep buckets and their keys.",
              "retain_on_delete=True, force_destroy=False, deletion_window_in_days=30.", stack.check_retention),
    StackRule("cross-account-wiring",
              "The registry shares its key and group with dev/prod; workloads use the registry's group and key.",
              "Wire workloads from the registry StackReference outputs.", stack.check_cross_account),
)


def context_from(config: Mapping[str, Any], stack_name: str = "") -> StackContext | ContextError:
    """The stack context, or the error that explains why it could not be built."""
    try:
        return StackContext.from_config(config, stack_name)
    except ContextError as err:
        return err


def evaluate_resource(rule: ResourceRule, res: Resource, ctx: StackContext | ContextError) -> list[str]:
    """Violation messages of one rule for one resource (nothing when the type does not apply)."""
    if not rule.applies_to(res.type):
        return []
    if rule.needs_context and isinstance(ctx, ContextError):
        return [f"{rule.name} cannot check {res.name}: {ctx}"]
    try:
        return rule.check(res, None if isinstance(ctx, ContextError) else ctx)
    except BadDocument as err:
        return [str(err)]


def evaluate_stack(rule: StackRule, resources: list[Resource],
                   ctx: StackContext | ContextError) -> list[tuple[str, str | None]]:
    if rule.needs_context and isinstance(ctx, ContextError):
        return [(f"{rule.name} cannot check the stack: {ctx}", None)]
    try:
        return rule.check(resources, None if isinstance(ctx, ContextError) else ctx)
    except BadDocument as err:
        return [(str(err), None)]


def evaluate_all(resources: list[Resource], ctx: StackContext | ContextError) -> dict[str, list[str]]:
    """Every rule over every resource and the stack: {rule name: messages}, all rules listed."""
    found: dict[str, list[str]] = {}
    for rule in RESOURCE_RULES:
        found[rule.name] = [m for res in resources for m in evaluate_resource(rule, res, ctx)]
    for srule in STACK_RULES:
        found[srule.name] = [m for m, _urn in evaluate_stack(srule, resources, ctx)]
    return found
