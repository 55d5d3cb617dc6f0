"""IAM policy documents as plain data, dumped deterministically.

Statements are built by small functions so that the same shape (TLS-only, cross-account
by principal ARN, service trust) is written once; `document()` sorts keys so the same
inputs always give the same bytes and a second `pulumi up` changes nothing.
"""
from __future__ import annotations

import json
from typing import Any

from mlops_facts import arn

Statement = dict[str, Any]
# Using a KMS key for data (not administering it).
KEY_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
           "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]


def document(*statements: Statement) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)},
                      sort_keys=True, separators=(",", ":"))


def allow(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> Statement:
    stmt = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)),
            "Resource": resources if isinstance(resources, str) else sorted(set(resources))}
    stmt.update(extra)
    return stmt


def deny(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> Statement:
    stmt = allow(sid, actions, resources, **extra)
    stmt["Effect"] = "Deny"
    return stmt


def merged(*statements: Statement) -> list[Statement]:
    """Statements with the same effect, resources, principal and condition merged into the first
    (its Sid kept), to stay under IAM's size limits without losing a permission."""
    out: list[Statement] = []
    seen: dict[str, Statement] = {}
    for stmt in statements:
        shape = json.dumps({k: v for k, v in stmt.items() if k not in ("Sid", "Action")}, sort_keys=True)
        if shape in seen:
            seen[shape]["Action"] = sorted(set(seen[shape]["Action"]) | set(stmt["Action"]))
            continue
        seen[shape] = dict(stmt)
        out.append(seen[shape])
    return out


def account_root(account_id: str, region: str) -> str:
    """The account principal (`arn:<partition>:iam::<account>:root`); the region gives the partition."""
    return arn("iam", region, account_id, "root")


def for_principal_arns(arns: list[str]) -> dict[str, Any]:
    """Principal/Condition pair naming roles by ARN through their accounts.

    A role ARN as Principal is rejected while the role does not exist (the registry is
    deployed first); the account principal narrowed by `aws:PrincipalArn` is not.
    """
    accounts = sorted({(a.split(":")[1], a.split(":")[4]) for a in arns})
    return {
        "Principal": {"AWS": [f"arn:{part}:iam::{account}:root" for part, account in accounts]},
        "Condition": {"ArnEquals": {"aws:PrincipalArn": sorted(arns)}},
    }


def service_trust(service: str, account_id: str) -> str:
    """Trust policy for an AWS service acting on behalf of this account only."""
    return document({
        "Sid": "TrustService", "Effect": "Allow", "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    })


def tls_only(bucket_arn: str) -> Statement:
    return deny("DenyInsecureTransport", ["s3:*"], [bucket_arn, f"{bucket_arn}/*"],
                Principal="*", Condition={"Bool": {"aws:SecureTransport": "false"}})


def own_key_only(bucket_arn: str, key_arn: str) -> list[Statement]:
    """Writes to the bucket use its customer-managed key: a request that names another key, or
    another kind of encryption, is refused (one without either gets the bucket's default, the
    same key). Matters for cross-account writers, who could otherwise encrypt with a key the
    bucket's owner cannot use. The condition key holds the key's ARN (S3 condition keys reference).
    """
    objects = f"{bucket_arn}/*"
    key_header, sse_header = "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-server-side-encryption"
    return [
        deny("DenyOtherEncryptionKeys", ["s3:PutObject"], objects, Principal="*",
             Condition={"Null": {key_header: "false"},
                        "StringNotEquals": {key_header: key_arn}}),
        deny("DenyEncryptionOtherThanKms", ["s3:PutObject"], objects, Principal="*",
             Condition={"Null": {sse_header: "false"}, "StringNotEquals": {sse_header: "aws:kms"}}),
    ]
