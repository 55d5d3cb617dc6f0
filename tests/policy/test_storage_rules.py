"""S3, KMS, SNS and SQS rules: each with a compliant and a violating resource."""
from __future__ import annotations

import pytest

from mlops_policies import storage
from tests.policy.fixtures import BUCKET_ARN, CMK, allow, ctx, doc, res, tls_only

SSE = storage.SSE[0]


def sse(algorithm="aws:kms", key=CMK):
    return res(SSE, bucket="b-id", rules=[{"applyServerSideEncryptionByDefault":
                                           {"sseAlgorithm": algorithm, "kmsMasterKeyId": key},
                                           "bucketKeyEnabled": True}])


def test_bucket_encryption_with_a_customer_managed_key_passes():
    assert storage.check_bucket_encryption(sse(), ctx()) == []


@pytest.mark.parametrize("algorithm,key,expected", [
    ("AES256", None, "not SSE-KMS"),
    ("aws:kms", None, "no key"),
    ("aws:kms", "alias/aws/s3", "AWS-managed key"),
    ("aws:kms", "arn:aws:kms:eu-west-1:222222222222:alias/aws/s3", "AWS-managed key"),
])
def test_bucket_encryption_without_a_customer_managed_key_is_a_violation(algorithm, key, expected):
    [message] = storage.check_bucket_encryption(sse(algorithm, key), ctx())
    assert expected in message and "Fix:" in message


def test_bucket_encryption_with_no_rule_falls_back_to_sse_s3():
    [message] = storage.check_bucket_encryption(res(SSE, bucket="b-id", rules=[]), ctx())
    assert "SSE-S3" in message


def test_public_access_block_needs_all_four_flags():
    flags = dict.fromkeys(storage.PUBLIC_ACCESS_FLAGS, True)
    assert storage.check_public_access_block(res(storage.PUBLIC_ACCESS_BLOCK[0], **flags), ctx()) == []
    [message] = storage.check_public_access_block(
        res(storage.PUBLIC_ACCESS_BLOCK[0], **{**flags, "restrictPublicBuckets": False}), ctx())
    assert "restrictPublicBuckets" in message


def test_versioning_must_be_enabled():
    ok = res(storage.VERSIONING[0], versioningConfiguration={"status": "Enabled"})
    suspended = res(storage.VERSIONING[0], versioningConfiguration={"status": "Suspended"})
    assert storage.check_versioning(ok, ctx()) == []
    assert "'Suspended'" in storage.check_versioning(suspended, ctx())[0]


def test_inline_versioning_disabled_on_a_bucket_is_a_violation():
    assert storage.check_versioning(res(storage.BUCKET, versioning={"enabled": False}), ctx())
    assert storage.check_versioning(res(storage.BUCKET, bucket="b"), ctx()) == []


def test_bucket_policy_with_a_tls_only_deny_passes():
    policy = res(storage.BUCKET_POLICY[0], bucket="b-id", policy=doc(tls_only()))
    assert storage.check_tls_only(policy, ctx()) == []


@pytest.mark.parametrize("statement", [
    allow("s3:GetObject", f"{BUCKET_ARN}/*", Principal={"AWS": "arn:aws:iam::222222222222:root"}),
    {**tls_only(), "Resource": [BUCKET_ARN]},  # objects not covered
    {**tls_only(), "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    {**tls_only(), "Action": "s3:GetObject"},  # writes still allowed over plain HTTP
    {**tls_only(), "Principal": {"AWS": "arn:aws:iam::222222222222:root"}},
])
def test_bucket_policy_without_a_complete_tls_only_deny_is_a_violation(statement):
    [message] = storage.check_tls_only(res(storage.BUCKET_POLICY[0], policy=doc(statement)), ctx())
    assert "TLS" in message and "aws:SecureTransport" in message


def test_kms_keys_must_rotate():
    assert storage.check_key_rotation(res(storage.KMS_KEY, enableKeyRotation=True), ctx()) == []
    [message] = storage.check_key_rotation(res(storage.KMS_KEY, name="k"), ctx())
    assert "KMS key k has rotation off" in message and "enable_key_rotation=True" in message


@pytest.mark.parametrize("key,ok", [(CMK, True), ("alias/mlops-dev-notifications", True),
                                    ("alias/aws/sns", False), (None, False), ("", False)])
def test_sns_topics_need_a_customer_managed_key(key, ok):
    props = {"kmsMasterKeyId": key} if key is not None else {}
    assert (storage.check_topic_encryption(res(storage.TOPIC, **props), ctx()) == []) is ok


@pytest.mark.parametrize("props,ok", [
    ({"kmsMasterKeyId": CMK}, True),
    ({"kmsMasterKeyId": "alias/aws/sqs"}, False),
    ({"sqsManagedSseEnabled": True}, False),
    ({}, False),
])
def test_sqs_queues_need_a_customer_managed_key(props, ok):
    assert (storage.check_queue_encryption(res(storage.QUEUE, **props), ctx()) == []) is ok
