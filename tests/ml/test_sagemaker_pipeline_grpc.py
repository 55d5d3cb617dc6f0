"""The provider inside the SDK's own provider host (`python -m pulumi.dynamic`), over gRPC.

The host is started as the Pulumi CLI starts it (a subprocess in the program directory that
prints its port) and driven call by call as the engine drives it, with `__provider` made by
`pulumi.dynamic`'s own serializer. It only gets fake credentials and the moto endpoint in
its environment, so this proves the by-reference pickle, the imports of the provider
process and every RPC against real HTTP.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ml.sagemaker_pipeline import SageMakerPipelineProvider
from tests.ml.support_aws_proxy import AwsProxy
from tests.ml.support_pipeline_inputs import PROVIDER_IN_STATE, REGION, definition, inputs
from tests.ml.support_running_executions import RunningExecutions
from tests.support.moto_server import FAKE_ENV

PROGRAM_DIR = Path(__file__).resolve().parents[2] / "platform"
URN = "urn:pulumi:dev::mlops-platform::pulumi-python:dynamic/mlops:SageMakerPipeline::training"
DIFF = provider_pb2.DiffResponse


@contextlib.contextmanager
def provider_host(endpoint: str, log_path: Path) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """A provider host subprocess talking to AWS at `endpoint`, and a stub connected to it.

    The host's stderr (where pulumi.log goes in the host) is written to `log_path`.
    """
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(log_path.parent), **FAKE_ENV,
           "AWS_ENDPOINT_URL": endpoint}
    log = log_path.open("wb")
    # `-u` as the CLI's launcher passes it: the port line must not sit in a pipe buffer.
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=PROGRAM_DIR,
                            env=env,
                            stdout=subprocess.PIPE, stderr=log)
    stdout = proc.stdout
    assert stdout is not None
    channel = None
    try:
        ready, _, _ = select.select([stdout], [], [], 30)
        port = stdout.readline().strip() if ready else b""
        assert port.isdigit(), f"no port from the host: {log_path.read_text()}"
        channel = grpc.insecure_channel(f"127.0.0.1:{int(port)}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        if channel is not None:
            channel.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        stdout.close()
        log.close()


@pytest.fixture
def host(aws, tmp_path):
    """A provider host subprocess against the moto server; killed afterwards."""
    with provider_host(aws, tmp_path / "host.log") as stub:
        yield stub


def to_struct(props: dict) -> struct_pb2.Struct:
    # A private loop, as the host does: asyncio.run() would unset the thread's current loop,
    # which pulumi's mocks in later tests rely on.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def from_struct(struct: struct_pb2.Struct) -> dict:
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def program_inputs(**overrides) -> dict:
    """What the program registers: inputs plus the serialized provider."""
    return {**inputs(**overrides), "__provider": serialize_provider(SageMakerPipelineProvider())}


def check(stub, olds: dict, news: dict) -> provider_pb2.CheckResponse:
    return stub.Check(provider_pb2.CheckRequest(urn=URN, olds=to_struct(olds),
                                                news=to_struct(news)))


def diff(stub, id_: str, outs: dict, news: dict) -> provider_pb2.DiffResponse:
    return stub.Diff(provider_pb2.DiffRequest(id=id_, urn=URN, olds=to_struct(outs),
                                              news=to_struct(news)))


def test_serialized_provider_is_a_reference_to_the_importable_class():
    pickled = base64.b64decode(serialize_provider(SageMakerPipelineProvider()))
    assert b"ml.sagemaker_pipeline" in pickled and b"SageMakerPipelineProvider" in pickled
    assert len(pickled) < 400  # a class reference, not pickled code
    assert b"boto" not in pickled


def test_engine_lifecycle_through_the_provider_host(host):
    sm = boto3.client("sagemaker", region_name=REGION)
    host.Configure(provider_pb2.ConfigureRequest(args=to_struct({}), acceptSecrets=True,
                                                 acceptResources=True))

    # pulumi up #1: check then create.
    checked = check(host, {}, program_inputs(start_on_create=True))
    assert list(checked.failures) == []
    created = host.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    outs = from_struct(created.properties)
    live = sm.describe_pipeline(PipelineName="mlops-dev-training")
    assert created.id == live["PipelineArn"] == outs["arn"]
    assert outs["parallelism"] == 4 and outs["tags"]["stack"] == "dev"
    assert len(sm.list_pipeline_executions(PipelineName="mlops-dev-training")[
        "PipelineExecutionSummaries"]) == 1

    # pulumi up #2 with the definition reformatted only: nothing to do.
    news = from_struct(check(host, from_struct(checked.inputs), program_inputs(
        start_on_create=True, definition=definition(indent=2, sort_keys=True))).inputs)
    assert diff(host, created.id, outs, news).changes == DIFF.DIFF_NONE

    # pulumi refresh without out-of-band change: same id, same outputs.
    read = host.Read(provider_pb2.ReadRequest(id=created.id, urn=URN, properties=created.properties,
                                              inputs=checked.inputs))
    assert read.id == created.id and from_struct(read.properties) == outs

    # pulumi up #3 with a new definition: an in-place update.
    news = from_struct(check(host, news, program_inputs(start_on_create=True,
                                                        definition=definition(steps=2))).inputs)
    changed = diff(host, created.id, outs, news)
    assert changed.changes == DIFF.DIFF_SOME and list(changed.replaces) == []
    updated = host.Update(provider_pb2.UpdateRequest(id=created.id, urn=URN,
                                                     olds=created.properties,
                                                     news=to_struct(news)))
    outs = from_struct(updated.properties)
    assert len(json.loads(sm.describe_pipeline(PipelineName="mlops-dev-training")[
        "PipelineDefinition"])["Steps"]) == 2
    assert len(sm.list_pipeline_executions(PipelineName="mlops-dev-training")[
        "PipelineExecutionSummaries"]) == 1  # never started again on update

    # A hand edit shows on refresh.
    sm.update_pipeline(PipelineName="mlops-dev-training", PipelineDescription="edited by hand")
    read = host.Read(provider_pb2.ReadRequest(id=created.id, urn=URN,
                                              properties=updated.properties))
    assert from_struct(read.properties)["description"] == "edited by hand"
    assert diff(host, created.id, from_struct(read.properties), news).changes == DIFF.DIFF_SOME

    # Renaming replaces.
    renamed = diff(host, created.id, outs, {**news, "name": "mlops-dev-training-2"})
    assert list(renamed.replaces) == ["name"]

    # pulumi destroy, twice: the second finds it gone and still succeeds; refresh drops it.
    host.Delete(provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=read.properties))
    host.Delete(provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=read.properties))
    assert sm.list_pipelines()["PipelineSummaries"] == []
    gone = host.Read(provider_pb2.ReadRequest(id=created.id, urn=URN, properties=read.properties))
    assert gone.id == ""


def test_check_failures_and_preview_unknowns_cross_the_wire(host):
    host.Configure(provider_pb2.ConfigureRequest(args=to_struct({})))
    bad = check(host, {}, program_inputs(name="bad_name", parallelism=0))
    assert {f.property for f in bad.failures} == {"name", "parallelism"}
    assert all(f.reason for f in bad.failures)

    # Preview before the execution role exists: its ARN is unknown, the rest is judged.
    preview = check(host, {}, program_inputs(role_arn=rpc.UNKNOWN))
    assert list(preview.failures) == []
    assert preview.inputs.fields["role_arn"].string_value == rpc.UNKNOWN  # still unknown
    outs = {**inputs(), "arn": "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/x",
            "account_id": "123456789012", "__provider": program_inputs()["__provider"]}
    planned = diff(host, outs["arn"], outs, from_struct(preview.inputs))
    assert planned.changes == DIFF.DIFF_SOME and list(planned.replaces) == []


def test_provider_errors_reach_the_engine_with_their_message(host, aws):
    boto3.client("sagemaker", region_name=REGION).create_pipeline(
        PipelineName="mlops-dev-training", PipelineDefinition=definition(),
        RoleArn=inputs()["role_arn"])
    host.Configure(provider_pb2.ConfigureRequest(args=to_struct({})))
    checked = check(host, {}, program_inputs())
    with pytest.raises(grpc.RpcError) as err:
        host.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    assert "adopt_existing=True" in err.value.details()


def test_a_state_written_before_the_package_destroys_a_running_pipeline(aws, tmp_path):
    """`pulumi destroy` during the first training run, from a state written before the
    provider became a package: the host loads that `__provider`, stops the run, waits,
    then deletes, and says so in its log."""
    runs = RunningExecutions(stop_seconds=0.3)
    log_path = tmp_path / "host.log"
    with AwsProxy(aws, runs).running() as proxy, provider_host(proxy.endpoint, log_path) as host:
        host.Configure(provider_pb2.ConfigureRequest(args=to_struct({})))
        stored = {**inputs(start_on_create=True), "__provider": PROVIDER_IN_STATE}
        checked = check(host, {}, stored)
        assert list(checked.failures) == []
        created = host.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
        first = from_struct(created.properties)["first_execution_arn"]
        assert runs.status(first) == "Executing"

        host.Delete(provider_pb2.DeleteRequest(id=created.id, urn=URN,
                                               properties=created.properties))

        assert runs.stops == [first] and runs.status(first) == "Stopped"
        assert proxy.calls.count("DeletePipeline") == 1  # never refused: it waited first
        sm = boto3.client("sagemaker", region_name=REGION, endpoint_url=proxy.endpoint)
        assert sm.list_pipelines()["PipelineSummaries"] == []
    log = log_path.read_text()
    assert "info: pipeline 'mlops-dev-training' has 1 running execution(s)" in log
    assert "ended as Stopped" in log
