"""`SageMakerPipelineProvider`: create, read, update and delete one SageMaker pipeline.

Every method works from the properties it is handed (inputs, or the outputs stored in state)
and builds its own short-lived AWS client from them (`aws.py`): the provider object holds
nothing, so it pickles to a class reference.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ml.sagemaker_pipeline import aws, executions, live
from ml.sagemaker_pipeline.inputs import (
    INPUT_KEYS,
    LIVE_KEYS,
    changed_keys,
    definition_sha256,
    normalize,
    same_definition,
)
from ml.sagemaker_pipeline.validation import check_inputs


class SageMakerPipelineProvider(ResourceProvider):
    """CRUD for one SageMaker pipeline; stateless, so it pickles to a by-reference stub."""

    # State pickles this class by `__module__` + name, and states written so far hold
    # `ml.sagemaker_pipeline.SageMakerPipelineProvider`. Naming the package (which re-exports
    # the class) rather than this file keeps every new pickle byte-identical to those, and lets
    # the class move between the package's modules without touching any state.
    __module__ = "ml.sagemaker_pipeline"

    # The provider carries no configuration or credentials, so its pickle holds nothing
    # secret; marking it secret would only hide a harmless class reference.
    serialize_as_secret_always = False

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Normalize the program's inputs and report every problem at once. No AWS calls."""
        inputs = normalize(news)
        return CheckResult(inputs, [CheckFailure(k, why) for k, why in check_inputs(inputs)])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare stored outputs with checked inputs (definitions by meaning). No AWS calls."""
        changed, replaces = changed_keys(olds, news)
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Create the pipeline, or adopt a same-named one when `adopt_existing` is set.

        Reads the checked inputs. Calls sts:AssumeRole (with `assume_role_arn`) or
        sts:GetCallerIdentity, sagemaker:DescribePipeline, then CreatePipeline (and
        StartPipelineExecution with `start_on_create`), or, when adopting, ListTags,
        UpdatePipeline and AddTags/DeleteTags as the differences need. A failure after the
        pipeline exists rolls it back (stopping any execution, then DeletePipeline).
        """
        p = normalize(props)
        client, session, assumed = aws.sagemaker_client(p)
        account = aws.require_account(session, assumed, p)
        where = f"account {account}, region {p['region']}"
        found = live.describe(client, p["name"])
        execution = None
        if found is not None:
            if not p["adopt_existing"]:
                raise aws.PipelineProviderError(
                    f"a SageMaker pipeline named {p['name']!r} already exists in {where}. Set "
                    "adopt_existing=True to manage it from Pulumi (it is updated to this "
                    "definition), choose another name, or delete that pipeline")
            live.apply(client, found["PipelineArn"], live.live_props(client, found), p)
            arn = found["PipelineArn"]
        else:
            arn = live.create(client, p, where)
            if p["start_on_create"]:
                execution = live.start_first_execution(client, p, where)
        return CreateResult(arn, _outputs(p, arn, first_execution_arn=execution,
                                          adopted=found is not None))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Read the live pipeline back (`pulumi refresh`); no id means it is gone.

        Reads the stored outputs (name, region, role to assume). Calls
        sagemaker:DescribePipeline and ListTags; when the pipeline is missing, also
        sts:GetCallerIdentity, so that wrong credentials never erase it from state.
        """
        p = normalize(props)
        client, session, assumed = aws.sagemaker_client(p)
        found = live.describe(client, p["name"])
        if found is None:
            aws.require_account(session, assumed, p)
            return ReadResult(None, {})
        current = live.live_props(client, found)
        if same_definition(current["definition"], p["definition"]):
            current["definition"] = p["definition"]  # same meaning: keep the stored text
        outs = _outputs({**p, **current}, found["PipelineArn"],
                        first_execution_arn=props.get("first_execution_arn"),
                        adopted=bool(props.get("adopted")))
        return ReadResult(found["PipelineArn"], outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Apply an in-place change; a change of provider switches only makes no call.

        Reads the stored outputs and the checked inputs. Calls sagemaker:UpdatePipeline and
        AddTags/DeleteTags only for what differs; never starts an execution.
        """
        old, new = normalize(olds), normalize(news)
        arn = olds.get("arn") or id_
        changed, _ = changed_keys(olds, news)
        if any(k in LIVE_KEYS for k in changed):
            client, _session, _assumed = aws.sagemaker_client(new)
            live.apply(client, arn, old, new)
        return UpdateResult(_outputs(new, arn,
                                     first_execution_arn=olds.get("first_execution_arn"),
                                     adopted=bool(olds.get("adopted"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the pipeline (`pulumi destroy`, or the old one after a replacement).

        Reads the stored outputs (name, region, role to assume, `stop_timeout_seconds`). Calls
        sagemaker:ListPipelineExecutions; when executions run, StopPipelineExecution on each
        `Executing` one and DescribePipelineExecution until all have ended (bounded by
        `stop_timeout_seconds`); then DeletePipeline. A pipeline already gone is a success
        once sts:GetCallerIdentity confirms we looked in its account.
        """
        p = normalize(props)
        client, session, assumed = aws.sagemaker_client(p)
        try:
            executions.stop_then_delete(client, p["name"], p["stop_timeout_seconds"])
        except executions.PipelineGone:
            aws.require_account(session, assumed, p)  # gone, and we looked in the right place


def _outputs(p: Mapping[str, Any], arn: str, *, first_execution_arn: str | None,
             adopted: bool) -> dict[str, Any]:
    return {**{k: p[k] for k in INPUT_KEYS}, "arn": arn, "account_id": arn.split(":")[4],
            "definition_sha256": definition_sha256(p["definition"]),
            "first_execution_arn": first_execution_arn, "adopted": adopted}
