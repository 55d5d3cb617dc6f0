"""The SageMaker calls on one live pipeline: read it, create it, bring it up to date, roll back.

Each function takes a client built for the pipeline's account and region (`aws.py`) and
normalized properties (`inputs.normalize`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from ml.sagemaker_pipeline import executions
from ml.sagemaker_pipeline.aws import PipelineProviderError, is_already_exists, is_not_found
from ml.sagemaker_pipeline.inputs import normalize, same_definition


def describe(client: Any, name: str) -> dict[str, Any] | None:
    """The live pipeline (sagemaker:DescribePipeline), or None when it does not exist."""
    try:
        return dict(client.describe_pipeline(PipelineName=name))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def live_props(client: Any, live: Mapping[str, Any]) -> dict[str, Any]:
    """The managed fields as SageMaker reports them (plus sagemaker:ListTags)."""
    return {
        "definition": live.get("PipelineDefinition"),
        "role_arn": live.get("RoleArn"),
        "description": live.get("PipelineDescription") or "",
        "parallelism": (live.get("ParallelismConfiguration") or {}).get(
            "MaxParallelExecutionSteps"),
        "tags": _live_tags(client, live["PipelineArn"]),
    }


def apply(client: Any, arn: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Bring a live pipeline from `old` to `new` with as few calls as the change needs.

    sagemaker:UpdatePipeline when a stored field differs, AddTags/DeleteTags for tag changes.
    """
    if any(normalize(old)[k] != new[k] for k in ("role_arn", "description", "parallelism")) \
            or not same_definition(old["definition"], new["definition"]):
        try:
            client.update_pipeline(**_pipeline_fields(new))
        except Exception as exc:
            if is_not_found(exc):
                raise PipelineProviderError(
                    f"pipeline {new['name']!r} no longer exists; run `pulumi refresh` so the "
                    "next `pulumi up` creates it again") from exc
            raise
    _sync_tags(client, arn, old.get("tags") or {}, new["tags"])


def create(client: Any, p: Mapping[str, Any], where: str) -> str:
    """sagemaker:CreatePipeline, idempotent across a lost reply and rolled back on failure."""
    tags = [{"Key": k, "Value": p["tags"][k]} for k in sorted(p["tags"])]
    try:
        return str(client.create_pipeline(**_pipeline_fields(p), Tags=tags)["PipelineArn"])
    except Exception as exc:
        if is_already_exists(exc):
            # describe just said it was absent: this is our own earlier attempt whose reply
            # was lost, if it carries our definition and role; otherwise someone raced us.
            live = describe(client, p["name"])
            if live and live.get("RoleArn") == p["role_arn"] and same_definition(
                    live.get("PipelineDefinition"), p["definition"]):
                return str(live["PipelineArn"])
            raise PipelineProviderError(
                f"pipeline {p['name']!r} appeared in {where} while it was being created; set "
                "adopt_existing=True to manage it, or delete it and run `pulumi up` again") from exc
        roll_back(client, p, where, exc)


def start_first_execution(client: Any, p: Mapping[str, Any], where: str) -> str:
    """sagemaker:StartPipelineExecution with the start parameters; roll back if it fails."""
    params = [{"Name": k, "Value": p["start_parameters"][k]} for k in sorted(p["start_parameters"])]
    try:
        return str(client.start_pipeline_execution(
            PipelineName=p["name"], PipelineExecutionDisplayName="first-deploy",
            PipelineExecutionDescription="Started by Pulumi when the pipeline was created",
            PipelineParameters=params)["PipelineExecutionArn"])
    except Exception as exc:
        roll_back(client, p, where, exc, step="starting its first execution")


def roll_back(client: Any, p: Mapping[str, Any], where: str, cause: BaseException,
              step: str = "creating it") -> NoReturn:
    """Remove a pipeline a failed create may have made, then raise the failure.

    A start whose reply was lost may have left an execution running: it is stopped first,
    as on any delete (`executions.stop_then_delete`).
    """
    name = p["name"]
    try:
        if describe(client, name) is not None:
            executions.stop_then_delete(client, name, p["stop_timeout_seconds"])
    except executions.PipelineGone:
        pass
    except Exception as exc:
        raise PipelineProviderError(
            f"pipeline {name!r} in {where} failed while {step} ({cause}) and may be left "
            f"behind: removing it failed too ({exc}). Delete it by hand, or run `pulumi up` "
            "again with adopt_existing=True") from cause
    raise PipelineProviderError(
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
