"""IAM policy documents as plain data, dumped deterministically.

Statements are built by small functions so that the same shape (TLS-only, cross-account
by principal ARN, service trust) is written once; `document()` sorts keys so the same
inputs always give the same bytes and a second `pulumi up` changes nothing.
"""
from __future__ import annotations

import json
from typing import Any

Statement = dict[str, Any]


def document(*statements: Statement) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)},
                      sort_keys=True, separators=(",", ":"))


def allow(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> Statement:
    stmt = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
            "Resource": resources if isinstance(resources, str) else sorted(resources)}
    stmt.update(extra)
    return stmt


def deny(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> Statement:
    stmt = allow(sid, actions, resources, **extra)
    stmt["Effect"] = "Deny"
    return stmt


def account_root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def for_principal_arns(arns: list[str]) -> dict[str, Any]:
    """Principal/Condition pair naming roles by ARN through their accounts.

    A role ARN as Principal is rejected while the role does not exist (the registry is
    deployed first); the account principal narrowed by `aws:PrincipalArn` is not.
    """
    accounts = sorted({a.split(":")[4] for a in arns})
    return {
        "Principal": {"AWS": [account_root(a) for a in accounts]},
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
