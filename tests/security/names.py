"""The principals and resources the attack tests name (the example accounts of Pulumi.yaml)."""
from __future__ import annotations

from tests.security.simulator import Principal, Request

REGION = "eu-west-1"
ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
GROUP_NAME = "mammo-severity-model-package"
GROUP = f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['registry']}:model-package-group/{GROUP_NAME}"
NEW_VERSION = f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['registry']}:model-package/{GROUP_NAME}/42"
ARTIFACTS = f"arn:aws:s3:::mlops-registry-artifacts-{ACCOUNTS['registry']}-{REGION}"
ARTIFACTS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNTS['registry']}:key/artifacts-key-key-id"
GITHUB = "token.actions.githubusercontent.com"
REPO = "repo:example-org/mlops-platform"


def role(stack: str, purpose: str) -> str:
    return f"arn:aws:iam::{ACCOUNTS[stack]}:role/mlops-{stack}-{purpose}"


def boundary(stack: str, purpose: str = "permissions-boundary") -> str:
    return f"arn:aws:iam::{ACCOUNTS[stack]}:policy/mlops-{stack}-{purpose}"


def data_bucket(stack: str) -> str:
    return f"arn:aws:s3:::mlops-{stack}-data-{ACCOUNTS[stack]}-{REGION}"


def data_key(stack: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNTS[stack]}:key/data-key-key-id"


def pipeline(stack: str, kind: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-{kind}"


def oidc(stack: str) -> str:
    return f"arn:aws:iam::{ACCOUNTS[stack]}:oidc-provider/{GITHUB}"


def ask(principal: str, action: str, resource: str, context: dict[str, str] | None = None) -> Request:
    """A request by a role (ARN) or a service (`events.amazonaws.com`)."""
    who = Principal.role(principal) if ":role/" in principal else Principal.service(principal)
    return Request(who, action, resource, context or {})


def web_identity(stack: str, purpose: str, subject: str) -> Request:
    return Request(Principal.federated(oidc(stack)), "sts:AssumeRoleWithWebIdentity", role(stack, purpose),
                   {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": subject})
