"""`SageMakerPipeline`: a SageMaker pipeline as a Pulumi dynamic resource.

The resource owns what the native `aws.sagemaker.Pipeline` does not: definitions compared by
meaning (key order and whitespace never cause an update), a content hash output, drift read
back on `pulumi refresh`, adoption of a pipeline made outside Pulumi, and the "first deploy"
switch that starts one execution right after creation (never on update).

The provider is pickled by reference (`ml.sagemaker_pipeline.SageMakerPipelineProvider`), so
the dynamic-provider process imports this module: it only imports pulumi and the light
`ml.sagemaker_pipeline_provider` at module level and has no import-time side effects.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NoReturn

import pulumi
from pulumi.dynamic import (
    CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, ResourceProvider,
    UpdateResult,
)

from ml import sagemaker_pipeline_provider as ops

__all__ = ["SageMakerPipeline", "SageMakerPipelineArgs", "SageMakerPipelineProvider"]


@dataclasses.dataclass
class SageMakerPipelineArgs:
    """Inputs of a `SageMakerPipeline`.

    `region` and `assume_role_arn` are stored in state so that refresh and delete reach the
    same account and region later. The pipeline lives in the account of `role_arn`.
    """

    name: pulumi.Input[str]
    """Pipeline name: 1-256 letters, digits and hyphens. Changing it replaces the pipeline."""
    definition: pulumi.Input[str]
    """Definition JSON as built by `ml.pipelines` (at most 100 KiB)."""
    role_arn: pulumi.Input[str]
    """Execution role SageMaker passes to the steps; its account is the pipeline's account."""
    region: pulumi.Input[str]
    """AWS region of the pipeline. Changing it replaces the pipeline."""
    description: pulumi.Input[str] = ""
    tags: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)
    parallelism: pulumi.Input[int] = 10
    """Most steps one execution may run at once."""
    assume_role_arn: pulumi.Input[str] | None = None
    """Role (in the pipeline's account) the provider assumes for every call, if any."""
    adopt_existing: bool = False
    """Manage a same-named pipeline that already exists instead of failing on create."""
    start_on_create: bool = False
    """Start one execution right after the pipeline is created (not on adopt or update)."""
    start_parameters: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)
    """Pipeline parameters for that first execution; each must be declared in the definition."""


class SageMakerPipelineProvider(ResourceProvider):
    """CRUD for one SageMaker pipeline; stateless, so it pickles to a by-reference stub."""

    # The provider carries no configuration or credentials, so its pickle holds nothing
    # secret; marking it secret would only hide a harmless class reference.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = ops.normalize(news)
        return CheckResult(inputs, [CheckFailure(k, why) for k, why in ops.check_inputs(inputs)])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed, replaces = changed_keys(olds, news)
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        p = ops.normalize(props)
        client, session, assumed = ops.sagemaker_client(p)
        account = ops.require_account(session, assumed, p)
        where = f"account {account}, region {p['region']}"
        live = ops.describe(client, p["name"])
        execution = None
        if live is not None:
            if not p["adopt_existing"]:
                raise ops.PipelineProviderError(
                    f"a SageMaker pipeline named {p['name']!r} already exists in {where}. Set "
                    "adopt_existing=True to manage it from Pulumi (it is updated to this "
                    "definition), choose another name, or delete that pipeline")
            _apply(client, live["PipelineArn"], _live_props(client, live), p)
            arn = live["PipelineArn"]
        else:
            arn = _create(client, p, where)
            if p["start_on_create"]:
                execution = _start_or_roll_back(client, p, where)
        outs = _outputs(p, arn, first_execution_arn=execution, adopted=live is not None)
        return CreateResult(arn, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        p = ops.normalize(props)
        client, session, assumed = ops.sagemaker_client(p)
        live = ops.describe(client, p["name"])
        if live is None:
            # Not finding it under the wrong credentials must not erase it from state.
            ops.require_account(session, assumed, p)
            return ReadResult(None, {})
        current = _live_props(client, live)
        if _same_definition(current["definition"], p["definition"]):
            current["definition"] = p["definition"]  # same meaning: keep the stored text
        outs = _outputs({**p, **current}, live["PipelineArn"],
                        first_execution_arn=props.get("first_execution_arn"),
                        adopted=bool(props.get("adopted")))
        return ReadResult(live["PipelineArn"], outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        old, new = ops.normalize(olds), ops.normalize(news)
        arn = olds.get("arn") or id_
        changed, _ = changed_keys(olds, news)
        if any(k in ops.LIVE_KEYS for k in changed):
            client, _session, _assumed = ops.sagemaker_client(new)
            _apply(client, arn, old, new)
        return UpdateResult(_outputs(new, arn,
                                     first_execution_arn=olds.get("first_execution_arn"),
                                     adopted=bool(olds.get("adopted"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        p = ops.normalize(props)
        client, session, assumed = ops.sagemaker_client(p)
        try:
            client.delete_pipeline(PipelineName=p["name"])
        except Exception as exc:
            if not ops.is_not_found(exc):
                raise ops.PipelineProviderError(
                    f"deleting pipeline {p['name']!r} failed: {exc}") from exc
            ops.require_account(session, assumed, p)  # gone, and we looked in the right place


def _account(props: Mapping[str, Any]) -> Any:
    role = props.get("role_arn")
    if ops.is_unknown(role):
        return ops.UNKNOWN
    try:
        return ops.account_of(role)
    except ValueError:
        return role


def _comparable(props: Mapping[str, Any], key: str) -> Any:
    value = props.get(key)
    if key == "definition" and isinstance(value, str) and not ops.is_unknown(value):
        try:
            return ops.canonical_definition(value)
        except ValueError:
            return value
    return value


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(keys that differ, keys among them that force a replacement), both sorted.

    `olds` are the stored outputs, `news` the checked inputs. The account comes from the role
    ARN, so moving the role to another account replaces the pipeline (an unknown role ARN is
    assumed to stay in its account); an unknown name or region counts as a replacement so
    that previews never understate.
    """
    old, new = ops.normalize(olds), ops.normalize(news)
    changed = {k for k in ops.INPUT_KEYS
               if ops.is_unknown(new[k]) or _comparable(old, k) != _comparable(new, k)}
    old_account = olds.get("account_id") or _account(olds)
    new_account = _account(news)
    if new_account != ops.UNKNOWN and new_account != old_account:
        changed.add("account_id")
    return sorted(changed), sorted(k for k in changed if k in ops.REPLACE_KEYS)


def _same_definition(a: str | None, b: str | None) -> bool:
    try:
        return ops.canonical_definition(a or "") == ops.canonical_definition(b or "")
    except ValueError:
        return a == b


def _live_props(client: Any, live: Mapping[str, Any]) -> dict[str, Any]:
    """The managed fields as SageMaker reports them."""
    return {
        "definition": live.get("PipelineDefinition"),
        "role_arn": live.get("RoleArn"),
        "description": live.get("PipelineDescription") or "",
        "parallelism": (live.get("ParallelismConfiguration") or {}).get(
            "MaxParallelExecutionSteps"),
        "tags": _live_tags(client, live["PipelineArn"]),
    }


def _outputs(p: Mapping[str, Any], arn: str, *, first_execution_arn: str | None,
             adopted: bool) -> dict[str, Any]:
    return {**{k: p[k] for k in ops.INPUT_KEYS}, "arn": arn, "account_id": arn.split(":")[4],
            "definition_sha256": ops.definition_sha256(p["definition"]),
            "first_execution_arn": first_execution_arn, "adopted": adopted}


def _apply(client: Any, arn: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Bring a live pipeline from `old` to `new` with as few calls as the change needs."""
    if any(ops.normalize(old)[k] != new[k] for k in ("role_arn", "description", "parallelism")) \
            or not _same_definition(old["definition"], new["definition"]):
        try:
            client.update_pipeline(**_pipeline_fields(new))
        except Exception as exc:
            if ops.is_not_found(exc):
                raise ops.PipelineProviderError(
                    f"pipeline {new['name']!r} no longer exists; run `pulumi refresh` so the "
                    "next `pulumi up` creates it again") from exc
            raise
    _sync_tags(client, arn, old.get("tags") or {}, new["tags"])


def _create(client: Any, p: Mapping[str, Any], where: str) -> str:
    """create_pipeline, idempotent across a lost reply and rolled back on failure."""
    tags = [{"Key": k, "Value": p["tags"][k]} for k in sorted(p["tags"])]
    try:
        return client.create_pipeline(**_pipeline_fields(p), Tags=tags)["PipelineArn"]
    except Exception as exc:
        if ops.is_already_exists(exc):
            # describe just said it was absent: this is our own earlier attempt whose reply
            # was lost, if it carries our definition and role; otherwise someone raced us.
            live = ops.describe(client, p["name"])
            if live and live.get("RoleArn") == p["role_arn"] and _same_definition(
                    live.get("PipelineDefinition"), p["definition"]):
                return live["PipelineArn"]
            raise ops.PipelineProviderError(
                f"pipeline {p['name']!r} appeared in {where} while it was being created; set "
                "adopt_existing=True to manage it, or delete it and run `pulumi up` again") from exc
        _roll_back(client, p, where, exc)


def _start_or_roll_back(client: Any, p: Mapping[str, Any], where: str) -> str:
    params = [{"Name": k, "Value": p["start_parameters"][k]} for k in sorted(p["start_parameters"])]
    try:
        return client.start_pipeline_execution(
            PipelineName=p["name"], PipelineExecutionDisplayName="first-deploy",
            PipelineExecutionDescription="Started by Pulumi when the pipeline was created",
            PipelineParameters=params)["PipelineExecutionArn"]
    except Exception as exc:
        _roll_back(client, p, where, exc, step="starting its first execution")


def _roll_back(client: Any, p: Mapping[str, Any], where: str, cause: BaseException,
               step: str = "creating it") -> NoReturn:
    """Remove a pipeline a failed create may have made, then raise the failure."""
    name = p["name"]
    try:
        if ops.describe(client, name) is not None:
            client.delete_pipeline(PipelineName=name)
    except Exception as exc:
        raise ops.PipelineProviderError(
            f"pipeline {name!r} in {where} failed while {step} ({cause}) and may be left "
            f"behind: removing it failed too ({exc}). Delete it by hand, or run `pulumi up` "
            "again with adopt_existing=True") from cause
    raise ops.PipelineProviderError(
        f"pipeline {name!r} in {where} failed while {step}: {cause}. Nothing was left "
        "behind; fix the cause and run `pulumi up` again") from cause


def _live_tags(client: Any, arn: str) -> dict[str, str]:
    """The pipeline's own tags; AWS-managed `aws:` tags are not ours to diff."""
    tags: dict[str, str] = {}
    for page in client.get_paginator("list_tags").paginate(ResourceArn=arn):
        tags.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
    return {k: tags[k] for k in sorted(tags) if not k.lower().startswith("aws:")}


def _sync_tags(client: Any, arn: str, old: Mapping[str, str], new: Mapping[str, str]) -> None:
    """Add/overwrite changed tags and remove dropped ones (no calls when nothing differs)."""
    stale = sorted(set(old) - set(new))
    fresh = [{"Key": k, "Value": new[k]} for k in sorted(new) if old.get(k) != new[k]]
    if stale:
        client.delete_tags(ResourceArn=arn, TagKeys=stale)
    if fresh:
        client.add_tags(ResourceArn=arn, Tags=fresh)


def _pipeline_fields(p: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments create_pipeline and update_pipeline share."""
    return {"PipelineName": p["name"], "PipelineDefinition": p["definition"],
            "RoleArn": p["role_arn"], "PipelineDescription": p["description"],
            "ParallelismConfiguration": {"MaxParallelExecutionSteps": p["parallelism"]}}


def _plain(value: Any) -> Any:
    """`value` with every Output replaced by the unknown marker, for early checks."""
    if isinstance(value, pulumi.Output):
        return ops.UNKNOWN
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


class SageMakerPipeline(pulumi.dynamic.Resource, module="mlops", name="SageMakerPipeline"):
    """A SageMaker pipeline managed through `SageMakerPipelineProvider`."""

    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    account_id: pulumi.Output[str]
    definition_sha256: pulumi.Output[str]
    """SHA-256 of the canonical definition: changes exactly when the pipeline's meaning does."""
    first_execution_arn: pulumi.Output[str | None]
    adopted: pulumi.Output[bool]

    def __init__(self, resource_name: str, args: SageMakerPipelineArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {k: getattr(args, k) for k in ops.INPUT_KEYS}
        # Fail at registration, with every problem at once, for values already known:
        # preview would say the same later, and unit tests under mocks never run check().
        problems = ops.check_inputs(ops.normalize(_plain(props)))
        if problems:
            raise ValueError(f"SageMakerPipeline {resource_name!r}: "
                             + "; ".join(reason for _, reason in problems))
        props.update(dict.fromkeys(ops.OUTPUT_KEYS))
        super().__init__(SageMakerPipelineProvider(), resource_name, props, opts)
