"""Hand-built resources and contexts, shaped as the policy engine passes them (camelCase)."""
from __future__ import annotations

import json
from typing import Any

from mlops_policies.model import Resource, StackContext, Vpc

REGION = "eu-west-1"
ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
CMK = f"arn:aws:kms:{REGION}:{ACCOUNTS['dev']}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET_ARN = "arn:aws:s3:::mlops-dev-data"


def ctx(role: str = "dev", *, vpc: Vpc | None = None, retain: bool | None = None) -> StackContext:
    return StackContext(stack=role, role=role, region=REGION, accounts=ACCOUNTS,
                        group_names=("models", "other-models"), retain_data=(role != "dev") if retain is None else retain,
                        registry_stack="org/mlops-platform/registry", github_repository="org/repo", vpc=vpc)


def res(type_: str, name: str = "r", urn: str | None = None, **props: Any) -> Resource:
    return Resource(type=type_, name=name, props=props, urn=urn or f"urn:pulumi:dev::p::{type_}::{name}")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: list[str] | str, resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def deny(actions: list[str] | str, resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources, **extra}


def tls_only(arn: str = BUCKET_ARN) -> dict[str, Any]:
    return deny("s3:*", [arn, f"{arn}/*"], Principal="*", Condition={"Bool": {"aws:SecureTransport": "false"}})
