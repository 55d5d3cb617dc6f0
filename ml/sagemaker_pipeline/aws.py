"""AWS sessions, clients and error classification for the provider.

The dynamic-provider process imports this module, so it stays light: boto3 is imported
inside the functions that call AWS, and nothing runs at import time. No client, session or
credential is kept anywhere: every operation builds its own from the inputs stored in state
(region, optional role to assume), so delete and refresh work from state alone.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from ml.sagemaker_pipeline.inputs import account_of

DEFAULT_MAX_ATTEMPTS = 6
SESSION_NAME = "pulumi-sagemaker-pipeline"


class PipelineProviderError(RuntimeError):
    """An AWS operation on a pipeline failed; the message says what to do about it."""


def client_config() -> Any:
    """Retries on throttling and 5xx with botocore's capped exponential backoff and jitter.

    Attempts honour the standard `AWS_MAX_ATTEMPTS` setting (default 6 in total).
    """
    from botocore.config import Config

    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    return Config(retries={"mode": "standard", "total_max_attempts": max(1, attempts)},
                  connect_timeout=10, read_timeout=60,
                  user_agent_extra="mlops-platform-sagemaker-pipeline")


@functools.lru_cache(maxsize=1)
def _model_loader() -> Any:
    """botocore's API-model loader, shared by this process's short-lived sessions.

    It caches parsed service models (the SageMaker one is large) and holds no credentials;
    sharing it makes a new client ~10x cheaper (bench/provider_calls.py).
    """
    from botocore.loaders import create_loader

    return create_loader()


def _session(region: str, **credentials: str) -> Any:
    import boto3
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _model_loader())
    return boto3.session.Session(botocore_session=core, region_name=region, **credentials)


def aws_session(props: Mapping[str, Any]) -> tuple[Any, str | None]:
    """A boto3 session in the stored region, as the stored role when one is set.

    Returns the session and, when a role was assumed, the account it acts in. The session
    lives only for one provider call: credentials never reach the provider object or state.
    """
    region = props["region"]
    session = _session(region)
    role = props.get("assume_role_arn")
    if not role:
        return session, None
    sts = session.client("sts", config=client_config())
    try:
        granted = sts.assume_role(RoleArn=role, RoleSessionName=SESSION_NAME,
                                  DurationSeconds=900)
    except Exception as exc:
        raise PipelineProviderError(
            f"could not assume {role} ({exc}); check that the deploying identity may "
            "sts:AssumeRole it and that the role trusts that identity") from exc
    creds = granted["Credentials"]
    assumed = _session(region, aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    return assumed, granted["AssumedRoleUser"]["Arn"].split(":")[4]


def sagemaker_client(props: Mapping[str, Any]) -> tuple[Any, Any, str | None]:
    """(sagemaker client, session, assumed account or None) for the stored region/role."""
    session, account = aws_session(props)
    return session.client("sagemaker", config=client_config()), session, account


def require_account(session: Any, assumed: str | None, props: Mapping[str, Any]) -> str:
    """Fail unless the credentials act in the account of `role_arn`: the pipeline's account.

    Calls sts:GetCallerIdentity unless a role was assumed (its account is already known).
    """
    expected = account_of(props["role_arn"])
    acting = assumed or session.client("sts", config=client_config()).get_caller_identity()[
        "Account"]
    if acting != expected:
        raise PipelineProviderError(
            f"the AWS credentials act in account {acting} but pipeline {props['name']!r} "
            f"belongs to account {expected} (from role_arn); set assume_role_arn to a role in "
            f"{expected} or deploy with credentials for that account")
    return acting


def error_code(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Message", exc))


def is_not_found(exc: BaseException) -> bool:
    """AWS says ResourceNotFound; moto says ValidationException 'Could not find pipeline'."""
    code, msg = error_code(exc), _message(exc).lower()
    return code in ("ResourceNotFound", "ResourceNotFoundException") or (
        code == "ValidationException" and ("could not find" in msg or "does not exist" in msg))


def is_already_exists(exc: BaseException) -> bool:
    code, msg = error_code(exc), _message(exc).lower()
    return code in ("ResourceInUse", "ConflictException") or (
        code == "ValidationException" and "already exists" in msg)
