"""Support for the SageMaker-pipeline dynamic provider: input rules, AWS sessions, errors.

`ml.sagemaker_pipeline.SageMakerPipelineProvider` builds on these functions. This module is imported by the dynamic-provider process, so it stays light: boto3 is
imported inside the functions that call AWS, and nothing runs at import time. No client,
session or credential is kept anywhere: every operation builds its own from the inputs
stored in state (region, optional role to assume), so delete and refresh work from state.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown

# The engine's wire marker for a value not known yet (preview); see pulumi.runtime.rpc.UNKNOWN.
# The provider host hands it to check/diff as a `pulumi.output.Unknown` instance instead.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

INPUT_KEYS = (
    "name", "definition", "role_arn", "description", "tags", "parallelism", "region",
    "assume_role_arn", "adopt_existing", "start_on_create", "start_parameters",
)
OUTPUT_KEYS = ("arn", "account_id", "definition_sha256", "first_execution_arn", "adopted")
# Fields SageMaker stores; the rest only steer this provider and never cause an API call.
LIVE_KEYS = ("definition", "role_arn", "description", "tags", "parallelism")
REPLACE_KEYS = ("name", "region", "account_id")

# The SageMaker SDK switches to an S3-hosted definition at this size; we only do inline.
MAX_DEFINITION_BYTES = 100 * 1024
MAX_PARALLELISM = 1000  # our sanity bound: the API only sets a minimum of 1
MAX_DESCRIPTION = 3072
MAX_TAGS = 50
MAX_START_PARAMETERS = 200
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
ROLE_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
TAG_RE = re.compile(r"^[\w\s.:/=+\-@]*$")


class PipelineProviderError(RuntimeError):
    """An AWS operation on a pipeline failed; the message says what to do about it."""


def is_unknown(value: Any) -> bool:
    """Whether a value, or anything inside it, is not known yet (a preview)."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    return isinstance(value, (list, tuple)) and any(is_unknown(v) for v in value)


def canonical_definition(definition: str) -> str:
    """The definition re-dumped with sorted keys and no whitespace: equal meaning, equal text."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def definition_sha256(definition: str) -> str:
    """SHA-256 of the canonical definition, so formatting never changes the hash.

    A live definition that is not JSON (edited by hand) is hashed as it is.
    """
    try:
        text = canonical_definition(definition)
    except ValueError:
        text = definition
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def account_of(role_arn: str) -> str:
    """The 12-digit account id inside an IAM role ARN."""
    match = ROLE_ARN_RE.match(role_arn or "")
    if not match:
        raise ValueError(f"not an IAM role ARN: {role_arn!r}")
    return match.group(2)


def normalize(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults filled and wire types undone (protobuf turns ints into floats)."""
    out = {k: props.get(k) for k in INPUT_KEYS}
    par = out["parallelism"]
    if isinstance(par, float) and par.is_integer():
        out["parallelism"] = int(par)
    out["description"] = "" if out["description"] is None else out["description"]
    out["tags"] = dict(out["tags"] or {}) if not is_unknown(out["tags"]) else out["tags"]
    params = out["start_parameters"]
    out["start_parameters"] = dict(params or {}) if not is_unknown(params) else params
    out["assume_role_arn"] = out["assume_role_arn"] or None
    for flag in ("adopt_existing", "start_on_create"):
        out[flag] = bool(out[flag]) if not is_unknown(out[flag]) else out[flag]
    return out


def _check_definition(definition: Any) -> list[str]:
    if not isinstance(definition, str) or not definition.strip():
        return ["must be the pipeline definition JSON string built by ml.pipelines"]
    size = len(definition.encode("utf-8"))
    if size > MAX_DEFINITION_BYTES:
        return [f"is {size} bytes; the inline limit is {MAX_DEFINITION_BYTES} bytes (100 KiB). "
                "Shrink it (shorter step names, parameters instead of repeated literals) or "
                "split the pipeline; this resource does not upload definitions to S3"]
    try:
        doc = json.loads(definition)
    except ValueError as exc:
        return [f"is not valid JSON ({exc}); pass Pipeline.definition() output unchanged"]
    if not isinstance(doc, dict) or not isinstance(doc.get("Steps"), list):
        return ["must be a JSON object with a 'Steps' list (a SageMaker pipeline definition)"]
    return []


def _check_tags(tags: Any) -> list[str]:
    if not isinstance(tags, Mapping):
        return ["must be a mapping of tag keys to string values"]
    problems = []
    if len(tags) > MAX_TAGS:
        problems.append(f"has {len(tags)} tags; SageMaker allows at most {MAX_TAGS}")
    for key, value in sorted(tags.items()):
        if not (isinstance(key, str) and 1 <= len(key) <= 128 and TAG_RE.match(key)):
            problems.append(f"key {key!r} must be 1-128 letters, digits, spaces or _.:/=+-@")
        elif key.lower().startswith("aws:"):
            problems.append(f"key {key!r} uses the reserved 'aws:' prefix; rename it")
        if not (isinstance(value, str) and len(value) <= 256 and TAG_RE.match(value)):
            problems.append(f"value of {key!r} must be a string of at most 256 allowed characters")
    return problems


def _check_start_parameters(params: Any, definition: Any) -> list[str]:
    if not isinstance(params, Mapping):
        return ["must be a mapping of pipeline parameter names to string values"]
    if len(params) > MAX_START_PARAMETERS:
        return [f"has {len(params)} entries; at most {MAX_START_PARAMETERS} are allowed"]
    problems = [f"value of {k!r} must be a string" for k, v in sorted(params.items())
                if not isinstance(v, str)]
    try:
        declared = {p.get("Name") for p in json.loads(definition).get("Parameters", [])}
    except (TypeError, ValueError, AttributeError):
        return problems  # the definition's own check reports this
    for name in sorted(set(params) - declared):
        problems.append(f"{name!r} is not a parameter of the definition "
                        f"(declared: {sorted(n for n in declared if n)})")
    return problems


def check_inputs(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with normalized inputs as (property, reason); unknown values are skipped."""
    p = props
    failures: list[tuple[str, str]] = []

    def fail(key: str, reason: str) -> None:
        failures.append((key, f"{key} {reason}"))

    def known(key: str) -> bool:
        return not is_unknown(p.get(key))

    if known("name"):
        name = p.get("name")
        if not isinstance(name, str) or not (1 <= len(name) <= 256) or not NAME_RE.match(name):
            fail("name", f"{name!r} must be 1-256 letters, digits and single or repeated "
                 "hyphens, starting and ending with a letter or digit (e.g. 'mlops-dev-training')")
    if known("definition"):
        for reason in _check_definition(p.get("definition")):
            fail("definition", reason)
    roles = {}
    for key in ("role_arn", "assume_role_arn"):
        value = p.get(key)
        if not known(key) or (key == "assume_role_arn" and value is None):
            continue
        if not isinstance(value, str) or len(value) > 2048 or not ROLE_ARN_RE.match(value):
            fail(key, f"{value!r} must be an IAM role ARN like "
                 "arn:aws:iam::123456789012:role/sagemaker-execution")
        else:
            roles[key] = account_of(value)
    if len(roles) == 2 and roles["role_arn"] != roles["assume_role_arn"]:
        fail("assume_role_arn", f"is in account {roles['assume_role_arn']} but role_arn is in "
             f"account {roles['role_arn']}; the pipeline lives where the assumed role acts and "
             "SageMaker can only pass a role of that same account")
    if known("description"):
        desc = p.get("description")
        if not isinstance(desc, str) or len(desc) > MAX_DESCRIPTION:
            fail("description", f"must be a string of at most {MAX_DESCRIPTION} characters")
    if known("parallelism"):
        par = p.get("parallelism")
        if isinstance(par, bool) or not isinstance(par, int) or not 1 <= par <= MAX_PARALLELISM:
            fail("parallelism", f"{par!r} must be a whole number from 1 to {MAX_PARALLELISM} "
                 "(the most pipeline steps that may run at once)")
    if known("region"):
        region = p.get("region")
        if not isinstance(region, str) or not REGION_RE.match(region):
            fail("region", f"{region!r} must be an AWS region code such as 'eu-west-1'")
    if known("tags"):
        for reason in _check_tags(p.get("tags")):
            fail("tags", reason)
    if known("start_parameters") and known("definition"):
        for reason in _check_start_parameters(p.get("start_parameters"), p.get("definition")):
            fail("start_parameters", reason)
    for flag in ("adopt_existing", "start_on_create"):
        if known(flag) and not isinstance(p.get(flag), bool):
            fail(flag, "must be true or false")
    return failures


# --- AWS access ------------------------------------------------------------------------------

DEFAULT_MAX_ATTEMPTS = 6
SESSION_NAME = "pulumi-sagemaker-pipeline"


def client_config() -> Any:
    """Retries on throttling and 5xx with botocore's capped exponential backoff and jitter.

    Attempts honour the standard `AWS_MAX_ATTEMPTS` setting (default 6 in total).
    """
    import os

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
    """Fail unless the credentials act in the account of `role_arn`: the pipeline's account."""
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
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


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


def describe(client: Any, name: str) -> dict[str, Any] | None:
    """The live pipeline, or None when it does not exist."""
    try:
        return client.describe_pipeline(PipelineName=name)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
