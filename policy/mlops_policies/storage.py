"""Rules for data at rest and in transit: S3, KMS, SNS and SQS.

Each rule returns violation messages; every message says what is wrong and how to fix it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_policies import documents as d
from mlops_policies.model import Resource, StackContext

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
SSE = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
       "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
KMS_KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
QUEUE = "aws:sqs/queue:Queue"

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def is_customer_managed_key(key: Any) -> bool:
    """A key ARN, key id or alias of our own; AWS-managed keys (`alias/aws/...`) are not."""
    if not isinstance(key, str) or not key.strip():
        return False
    alias = key.split(":", 5)[-1] if key.startswith("arn:") else key
    return not alias.startswith("alias/aws/")


def check_bucket_encryption(res: Resource, ctx: StackContext | None) -> list[str]:
    """Default encryption is SSE-KMS with a customer-managed key."""
    fix = ("Fix: add a BucketServerSideEncryptionConfiguration rule with sse_algorithm 'aws:kms' and "
           "kms_master_key_id set to the stack's customer-managed key ARN (bucket_key_enabled=True).")
    if res.type in (BUCKET, BUCKET_V2):
        inline = res.get("serverSideEncryptionConfiguration")
        return _encryption_rules(res, [r for r in d.as_list(inline and inline.get("rule"))], fix) if inline else []
    return _encryption_rules(res, d.as_list(res.get("rules")), fix)


def _encryption_rules(res: Resource, rules: list[Any], fix: str) -> list[str]:
    if not rules:
        return [f"S3 bucket encryption {res.name} has no rule, so objects fall back to SSE-S3. {fix}"]
    out = []
    for rule in rules:
        default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
        default = default or {}
        algorithm, key = default.get("sseAlgorithm"), default.get("kmsMasterKeyId")
        if algorithm not in KMS_ALGORITHMS:
            out.append(f"S3 bucket encryption {res.name} uses {algorithm!r}, not SSE-KMS. {fix}")
        elif not is_customer_managed_key(key):
            out.append(f"S3 bucket encryption {res.name} uses {'the AWS-managed key' if key else 'no key'} "
                       f"({key!r}) instead of a customer-managed key. {fix}")
    return out


def check_public_access_block(res: Resource, ctx: StackContext | None) -> list[str]:
    """All four public-access blocks are on."""
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if res.get(flag) is not True]
    if not off:
        return []
    return [f"S3 public access block {res.name} leaves {off} off. Fix: set block_public_acls, "
            "block_public_policy, ignore_public_acls and restrict_public_buckets to True."]


def check_versioning(res: Resource, ctx: StackContext | None) -> list[str]:
    """Versioning is enabled (overwritten or deleted objects stay recoverable)."""
    if res.type in (BUCKET, BUCKET_V2):
        enabled = res.get("versioning", "enabled")
        return [] if enabled in (None, True) else [
            f"S3 bucket {res.name} disables versioning inline. Fix: drop the inline `versioning` "
            "and add a BucketVersioning resource with status 'Enabled'."]
    status = res.get("versioningConfiguration", "status")
    if status == "Enabled":
        return []
    return [f"S3 bucket versioning {res.name} has status {status!r}. "
            "Fix: set versioning_configuration={'status': 'Enabled'}."]


def check_tls_only(res: Resource, ctx: StackContext | None) -> list[str]:
    """The bucket policy denies every request made without TLS, on the bucket and its objects."""
    fix = ("Fix: add a statement Effect=Deny, Principal='*', Action='s3:*', Resource=[bucket ARN, "
           "bucket ARN + '/*'], Condition={'Bool': {'aws:SecureTransport': 'false'}}.")
    doc = d.parse(res.props.get("policy"), f"{res.name}.policy")
    for stmt in d.statements(doc):
        if stmt.get("Effect") != "Deny" or d.aws_principals(stmt) != ["*"]:
            continue
        if d.condition_values(stmt, "Bool", "aws:SecureTransport") != ["false"]:
            continue
        if not any(d.covers(a, "s3:GetObject") and d.covers(a, "s3:PutObject") for a in d.actions(stmt)):
            continue
        resources = [str(r) for r in d.as_list(stmt.get("Resource"))]
        if any(r.endswith("/*") for r in resources) and any("/" not in r.split(":::")[-1] for r in resources):
            return []
    return [f"S3 bucket policy {res.name} does not deny requests without TLS on the bucket and its objects. {fix}"]


def check_key_rotation(res: Resource, ctx: StackContext | None) -> list[str]:
    """Customer-managed keys rotate their key material."""
    if res.get("enableKeyRotation") is True:
        return []
    spec = res.get("customerMasterKeySpec") or res.get("keySpec") or "SYMMETRIC_DEFAULT"
    hint = "" if spec == "SYMMETRIC_DEFAULT" else f" (key spec {spec} cannot rotate: use a symmetric key)"
    return [f"KMS key {res.name} has rotation off{hint}. Fix: set enable_key_rotation=True."]


def check_topic_encryption(res: Resource, ctx: StackContext | None) -> list[str]:
    """SNS topics are encrypted with a customer-managed key (EventBridge cannot use alias/aws/sns)."""
    key = res.get("kmsMasterKeyId")
    if is_customer_managed_key(key):
        return []
    return [f"SNS topic {res.name} is encrypted with {key!r}, not a customer-managed key. Fix: set "
            "kms_master_key_id to a CMK whose policy lets events.amazonaws.com and cloudwatch.amazonaws.com "
            "use it (the AWS-managed SNS key silently drops EventBridge deliveries)."]


def check_queue_encryption(res: Resource, ctx: StackContext | None) -> list[str]:
    """SQS queues are encrypted with a customer-managed key (SSE-SQS does not count)."""
    key = res.get("kmsMasterKeyId")
    if is_customer_managed_key(key) and res.get("sqsManagedSseEnabled") is not True:
        return []
    return [f"SQS queue {res.name} is encrypted with {key!r} (sqs_managed_sse_enabled="
            f"{res.get('sqsManagedSseEnabled')!r}), not a customer-managed key. Fix: set kms_master_key_id "
            "to the stack's CMK and leave sqs_managed_sse_enabled unset."]
