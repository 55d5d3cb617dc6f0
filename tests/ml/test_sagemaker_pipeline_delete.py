"""Deleting a pipeline whose executions still run: stop them, wait (bounded), then delete.

moto has no running executions and no StopPipelineExecution, so the proxy in front of it
adds them (support_running_executions.py), including SageMaker's refusal to delete a
pipeline while one runs. The provider under test speaks real botocore over HTTP to it.
"""
from __future__ import annotations

import time

import boto3
import pulumi
import pytest
from botocore.exceptions import ClientError

from ml.sagemaker_pipeline import PipelineProviderError, SageMakerPipelineProvider
from tests.ml.support_aws_proxy import AwsProxy, Fault
from tests.ml.support_pipeline_inputs import REGION, inputs, pipeline_names
from tests.ml.support_running_executions import RunningExecutions

provider = SageMakerPipelineProvider()
NAME = "mlops-dev-training"


@pytest.fixture
def runs() -> RunningExecutions:
    return RunningExecutions(stop_seconds=0.3)


@pytest.fixture
def proxy(aws, runs, monkeypatch):
    """Every AWS call of the provider goes through the proxy with running executions."""
    with AwsProxy(aws, runs).running() as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL", running.endpoint)
        yield running


@pytest.fixture
def sm(proxy):
    """A plain client through the proxy: stands in for schedules and people."""
    return boto3.client("sagemaker", region_name=REGION, endpoint_url=proxy.endpoint)


@pytest.fixture
def progress(monkeypatch) -> list[str]:
    """What the provider logs through pulumi.log.info."""
    messages: list[str] = []
    monkeypatch.setattr(pulumi.log, "info", lambda message, *args, **kwargs: messages.append(message))
    return messages


def create(**overrides):
    checked = provider.check({}, inputs(**overrides))
    assert checked.failures == []
    return provider.create(checked.inputs)


def start(sm) -> str:
    return sm.start_pipeline_execution(PipelineName=NAME)["PipelineExecutionArn"]


def calls_during(proxy: AwsProxy, action) -> list[str]:
    before = len(proxy.calls)
    action()
    return proxy.calls[before:]


def test_sagemaker_refuses_to_delete_a_running_pipeline(sm, runs):
    # The behaviour the provider must cope with (and the old provider did not).
    create(start_on_create=True)
    with pytest.raises(ClientError) as err:
        sm.delete_pipeline(PipelineName=NAME)
    assert err.value.response["Error"]["Code"] == "ConflictException"
    assert pipeline_names(sm) == [NAME]


def test_delete_stops_running_executions_waits_then_deletes(proxy, sm, runs, progress):
    pipeline = create(start_on_create=True)  # the first-deploy run: Executing
    first = pipeline.outs["first_execution_arn"]
    stopping = start(sm)
    sm.stop_pipeline_execution(PipelineExecutionArn=stopping)  # someone stopped it already
    done = start(sm)
    runs.finish(done)

    calls = calls_during(proxy, lambda: provider.delete(pipeline.id, pipeline.outs))

    assert runs.stops == [stopping, first]  # only the Executing one was stopped by us
    assert calls[0] == "ListPipelineExecutions" and calls[-1] == "DeletePipeline"
    assert calls.count("StopPipelineExecution") == 1 and calls.count("DeletePipeline") == 1
    assert "DescribePipelineExecution" in calls  # waited before deleting
    assert runs.status(first) == runs.status(stopping) == "Stopped"
    assert runs.status(done) == "Succeeded"
    assert pipeline_names(sm) == []
    assert f"pipeline '{NAME}' has 2 running execution(s)" in progress[0]
    assert "stopping them before deleting it (waiting up to 1200 s)" in progress[0]
    assert sum("ended as Stopped" in m for m in progress) == 2


def test_without_running_executions_delete_makes_no_stop_or_wait_calls(proxy, sm, runs,
                                                                        progress):
    pipeline = create(start_on_create=True)
    runs.finish(pipeline.outs["first_execution_arn"], "Failed")
    calls = calls_during(proxy, lambda: provider.delete(pipeline.id, pipeline.outs))
    assert calls == ["ListPipelineExecutions", "DeletePipeline"]
    assert runs.stops == [] and progress == []
    assert pipeline_names(sm) == []


def test_a_wait_that_runs_out_fails_naming_the_pipeline_and_executions(proxy, sm, runs):
    runs.stop_seconds = None  # e.g. a Lambda step that cannot be stopped runs on
    pipeline = create(start_on_create=True, stop_timeout_seconds=2)
    first = pipeline.outs["first_execution_arn"]
    began = time.monotonic()
    with pytest.raises(PipelineProviderError) as err:
        calls_during(proxy, lambda: provider.delete(pipeline.id, pipeline.outs))
    waited = time.monotonic() - began
    message = str(err.value)
    assert f"pipeline '{NAME}' still has running executions after waiting 2 s" in message
    assert f"{first} (Stopping)" in message and "stop_timeout_seconds" in message
    assert 2 <= waited < 6
    assert "DeletePipeline" not in proxy.calls
    assert pipeline_names(sm) == [NAME]  # kept, so a later destroy can finish the job


def test_an_execution_started_while_waiting_is_stopped_too(proxy, sm, runs):
    pipeline = create(start_on_create=True)
    late: list[str] = []

    def schedule_fires(_stopped: str) -> None:
        if not late:
            late.append(start(sm))

    runs.on_stop = schedule_fires
    calls = calls_during(proxy, lambda: provider.delete(pipeline.id, pipeline.outs))
    assert runs.stops == [pipeline.outs["first_execution_arn"], *late]
    assert calls.count("DeletePipeline") == 2  # refused once, while the late one ran
    assert pipeline_names(sm) == []


def test_a_refused_stop_says_which_permission_is_missing(proxy, runs):
    pipeline = create(start_on_create=True)
    proxy.add(Fault("StopPipelineExecution", status=400, code="AccessDeniedException"))
    with pytest.raises(PipelineProviderError, match="sagemaker:StopPipelineExecution"):
        provider.delete(pipeline.id, pipeline.outs)


def test_rollback_stops_a_first_execution_whose_reply_was_lost(proxy, sm, runs, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    proxy.add(Fault("StartPipelineExecution", forward=True))  # it starts; the reply is lost
    with pytest.raises(PipelineProviderError, match="Nothing was left behind"):
        create(start_on_create=True)
    [lost] = runs.stops
    assert runs.status(lost) == "Stopped"
    assert pipeline_names(sm) == []
