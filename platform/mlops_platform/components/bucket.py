"""S3 buckets hardened by default."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_facts import arn as facts_arn
from mlops_platform import iam


@dataclass(frozen=True)
class HardenedBucketArgs:
    bucket_name: str
    kms_key_arn: pulumi.Input[str]
    retain: bool
    region: str  # decides the ARN's partition
    noncurrent_version_days: int = 90
    # Lifecycle rules added after the default one (e.g. expiry of superseded step scripts).
    lifecycle_rules: tuple[dict[str, Any], ...] = ()
    # Builds extra bucket-policy statements from the bucket ARN (cross-account grants); may
    # return an output (statements that name something known only at deploy time).
    statements: Callable[[str], pulumi.Input[list[dict[str, Any]]]] | None = None


class HardenedBucket(pulumi.ComponentResource):
    """A bucket with SSE-KMS (CMK, bucket key), versioning, every public-access block,
    bucket-owner-enforced ownership, a TLS-only policy, writes only with its own key, and expiry
    of old versions.

    With `retain` (prod) the bucket survives `pulumi destroy` and refuses to be emptied, and
    so does every setting above (a kept bucket stripped of its encryption default, public
    access block and TLS policy would be worse than a deleted one); without it (dev)
    destroy empties and deletes it.
    """

    def __init__(self, name: str, args: HardenedBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:storage:HardenedBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=args.retain)
        self.bucket = aws.s3.Bucket(name, bucket=args.bucket_name, force_destroy=not args.retain, opts=child)
        bucket_id = self.bucket.id
        ownership = aws.s3.BucketOwnershipControls(
            name, bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        public = aws.s3.BucketPublicAccessBlock(
            name, bucket=bucket_id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.s3.BucketVersioning(
            name, bucket=bucket_id,
            versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            name, bucket=bucket_id,
            rules=[{"apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn},
                "bucket_key_enabled": True}],
            opts=child)
        aws.s3.BucketLifecycleConfiguration(
            name, bucket=bucket_id,
            rules=[{  # dict literals are valid rule args; the stubs want a single type
                "id": "expire-noncurrent-versions", "status": "Enabled", "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
            }, *args.lifecycle_rules],  # type: ignore[list-item]
            opts=child)
        arn = facts_arn("s3", args.region, "", args.bucket_name)
        extra = args.statements(arn) if args.statements else []
        policy = pulumi.Output.all(args.kms_key_arn, extra).apply(
            lambda v: iam.document(iam.tls_only(arn), *iam.own_key_only(arn, v[0]), *v[1]))
        self.policy = aws.s3.BucketPolicy(
            name, bucket=bucket_id, policy=policy,
            # A policy written before the public-access block can be refused as public.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[public, ownership])))
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
