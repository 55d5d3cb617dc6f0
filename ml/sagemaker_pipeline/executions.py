"""Deleting a pipeline that may be running: stop its executions, wait for them, then delete.

SageMaker refuses `DeletePipeline` while an execution runs, and the first training run or a
daily inference run make that likely during `pulumi destroy` or a replacement. So every
delete first lists the executions, stops those still `Executing`, waits (bounded) until none
is `Executing` or `Stopping`, and only then deletes. An execution ending by itself is as good
as a stopped one. Progress goes to pulumi's log (`_report`).

Calls: sagemaker:ListPipelineExecutions (pipeline), and only when something runs,
sagemaker:StopPipelineExecution and sagemaker:DescribePipelineExecution (pipeline-execution).
"""
from __future__ import annotations

import time
from typing import Any

import pulumi

from ml.sagemaker_pipeline.aws import PipelineProviderError, error_code, is_not_found

RUNNING = ("Executing", "Stopping")
FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 15.0
PROGRESS_EVERY_SECONDS = 60.0


class PipelineGone(Exception):
    """The pipeline does not exist (any more): there is nothing to stop or delete."""


def _report(message: str) -> None:
    # The provider host has no engine connection, so pulumi.log prints "info: ..." to its
    # stderr, which the CLI streams into its diagnostics (for dynamic providers, unlike other
    # plugins); each message names the pipeline, since it is not attached to the resource.
    pulumi.log.info(message)


def stop_then_delete(client: Any, name: str, timeout_seconds: float) -> None:
    """Delete pipeline `name` once none of its executions runs; raise PipelineGone if absent.

    Waits at most `timeout_seconds` in all, then fails naming the executions still running.
    An execution started while we wait (a schedule, the retrain gate) makes DeletePipeline
    refuse again: it is stopped in turn, within the same deadline.
    """
    deadline = time.monotonic() + timeout_seconds
    running = running_executions(client, name)
    while True:
        if running:
            stop_and_wait(client, name, running, deadline, timeout_seconds)
        try:
            client.delete_pipeline(PipelineName=name)
            return
        except Exception as exc:
            if is_not_found(exc):
                raise PipelineGone(name) from exc
            running = running_executions(client, name)
            if not running:
                raise PipelineProviderError(f"deleting pipeline {name!r} failed: {exc}") from exc


def running_executions(client: Any, name: str) -> dict[str, str]:
    """ARN -> status of the pipeline's executions that are Executing or Stopping."""
    running: dict[str, str] = {}
    try:
        for page in client.get_paginator("list_pipeline_executions").paginate(
                PipelineName=name, PaginationConfig={"PageSize": 100}):
            for summary in page.get("PipelineExecutionSummaries", []):
                if summary.get("PipelineExecutionStatus") in RUNNING:
                    running[summary["PipelineExecutionArn"]] = summary["PipelineExecutionStatus"]
    except Exception as exc:
        if is_not_found(exc):
            raise PipelineGone(name) from exc
        raise PipelineProviderError(
            f"listing the executions of pipeline {name!r} before deleting it failed ({exc}); "
            "the deploying identity needs sagemaker:ListPipelineExecutions on it") from exc
    return running


def stop_and_wait(client: Any, name: str, running: dict[str, str], deadline: float,
                  timeout_seconds: float) -> None:
    """Stop the `Executing` ones among `running`, then poll until all have ended."""
    _report(f"pipeline {name!r} has {len(running)} running execution(s): {_listing(running)}; "
            f"stopping them before deleting it (waiting up to {timeout_seconds:.0f} s)")
    for arn, status in sorted(running.items()):
        if status == "Executing":
            _stop(client, name, arn)
    pending = dict(running)
    delay = FIRST_POLL_SECONDS
    started = last_report = time.monotonic()
    while pending:
        now = time.monotonic()
        if now >= deadline:
            raise _timed_out(name, pending, timeout_seconds)
        time.sleep(min(delay, deadline - now))
        delay = min(delay * 2, MAX_POLL_SECONDS)
        _poll(client, name, pending)
        if pending and time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
            last_report = time.monotonic()
            _report(f"pipeline {name!r}: still waiting for {_listing(pending)} "
                    f"({last_report - started:.0f} s of {timeout_seconds:.0f} s)")


def _poll(client: Any, name: str, pending: dict[str, str]) -> None:
    """Refresh the status of each pending execution; drop (and report) those that ended."""
    for arn in sorted(pending):
        status = _status(client, name, arn)
        if status in RUNNING:
            pending[arn] = status
        else:
            del pending[arn]
            _report(f"pipeline {name!r}: execution {_short(arn)} ended as {status}")


def _timed_out(name: str, pending: dict[str, str], timeout_seconds: float) -> PipelineProviderError:
    return PipelineProviderError(
        f"pipeline {name!r} still has running executions after waiting {timeout_seconds:.0f} s: "
        f"{_listing(pending, full=True)}. SageMaker refuses to delete a pipeline while an "
        "execution runs, and a Lambda or callback step cannot be stopped before it ends. Wait "
        "for them to end (SageMaker Studio > Pipelines), or raise stop_timeout_seconds, then "
        "run the command again")


def _stop(client: Any, name: str, arn: str) -> None:
    try:
        client.stop_pipeline_execution(PipelineExecutionArn=arn)
    except Exception as exc:
        # It ended (or began stopping) between the listing and now: the wait sorts it out.
        if is_not_found(exc) or error_code(exc) in ("ConflictException", "ValidationException"):
            return
        raise PipelineProviderError(
            f"stopping execution {arn} of pipeline {name!r} failed ({exc}); the deploying "
            "identity needs sagemaker:StopPipelineExecution on the pipeline's executions") from exc


def _status(client: Any, name: str, arn: str) -> str:
    try:
        return str(client.describe_pipeline_execution(PipelineExecutionArn=arn)[
            "PipelineExecutionStatus"])
    except Exception as exc:
        if is_not_found(exc):
            return "gone"
        raise PipelineProviderError(
            f"checking execution {arn} of pipeline {name!r} failed ({exc}); the deploying "
            "identity needs sagemaker:DescribePipelineExecution on the pipeline's executions"
        ) from exc


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _listing(executions: dict[str, str], full: bool = False) -> str:
    return ", ".join(f"{arn if full else _short(arn)} ({status})"
                     for arn, status in sorted(executions.items()))
