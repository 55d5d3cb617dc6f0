"""Registering `SageMakerPipeline` under `pulumi.runtime.set_mocks`.

The provider's methods do not run here (see the provider and gRPC tests); what is proven is
what the program hands the engine: the provider serialized by pulumi.dynamic itself and
deserializable, the inputs as given, nothing secret or live in them, and early input errors.
"""
from __future__ import annotations

import asyncio
import base64
from typing import Any

import dill
import pulumi
import pytest
from pulumi.runtime import rpc

from ml.sagemaker_pipeline import (
    SageMakerPipeline,
    SageMakerPipelineArgs,
    SageMakerPipelineProvider,
)
from ml.sagemaker_pipeline.inputs import OUTPUT_KEYS
from tests.ml.support_pipeline_inputs import REGION, ROLE, definition


class Recorder(pulumi.runtime.Mocks):
    """Keeps what each registration sent and answers with the inputs plus an ARN."""

    def __init__(self) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.registered.append(args)
        arn = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{args.inputs.get('name')}"
        return f"{args.name}-id", {**args.inputs, "arn": arn}

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@pytest.fixture
def mocks():
    """Mocks on a fresh event loop; the default loop policy is restored afterwards."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project="mlops-platform", stack="dev", preview=False)
    yield recorder
    loop.close()
    asyncio.set_event_loop_policy(None)


def args(**overrides: Any) -> SageMakerPipelineArgs:
    base: dict[str, Any] = dict(name="mlops-dev-training", definition=definition(), role_arn=ROLE, region=REGION,
                description="Training pipeline", tags={"stack": "dev"}, parallelism=4,
                start_on_create=True, start_parameters={"InputDataUrl": "s3://b/in.csv"})
    base.update(overrides)
    return SageMakerPipelineArgs(**base)


def contains_secret(value) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


@pulumi.runtime.test
def test_registration_carries_inputs_and_a_loadable_provider(mocks):
    role = pulumi.Output.from_input(ROLE)  # as from an aws.iam.Role in the same program
    res = SageMakerPipeline("training", args(role_arn=role))

    def verify(values):
        arn, name = values
        [reg] = mocks.registered
        assert reg.typ == "pulumi-python:dynamic/mlops:SageMakerPipeline"
        inputs = reg.inputs
        assert {k: inputs[k] for k in ("name", "role_arn", "region", "parallelism")} == {
            "name": "mlops-dev-training", "role_arn": ROLE, "region": REGION, "parallelism": 4}
        assert inputs["definition"] == definition()
        assert inputs["tags"] == {"stack": "dev"} and inputs["start_on_create"] is True
        assert inputs["start_parameters"] == {"InputDataUrl": "s3://b/in.csv"}
        assert not contains_secret(inputs)
        provider = dill.loads(base64.b64decode(inputs["__provider"]))
        assert type(provider) is SageMakerPipelineProvider and vars(provider) == {}
        assert arn.endswith(":pipeline/mlops-dev-training") and name == "mlops-dev-training"

    return pulumi.Output.all(res.arn, res.name).apply(verify)


@pulumi.runtime.test
def test_every_output_is_declared(mocks):
    res = SageMakerPipeline("training", args())
    for key in (*OUTPUT_KEYS, "name"):
        assert isinstance(getattr(res, key), pulumi.Output), key
    return res.arn


@pulumi.runtime.test
def test_the_stop_timeout_is_registered_only_when_set(mocks):
    # Left alone, the inputs are exactly those registered before the input existed.
    left_alone = SageMakerPipeline("training", args())
    set_ = SageMakerPipeline("inference", args(name="mlops-dev-inference", stop_timeout_seconds=300))

    def verify(_arns):
        by_name = {reg.name: reg.inputs for reg in mocks.registered}
        assert "stop_timeout_seconds" not in by_name["training"]
        assert {"name", "definition", "start_parameters"} <= set(by_name["training"])
        assert by_name["inference"]["stop_timeout_seconds"] == 300

    return pulumi.Output.all(left_alone.arn, set_.arn).apply(verify)


def test_known_bad_inputs_fail_at_registration_with_every_reason(mocks):
    with pytest.raises(ValueError) as err:
        SageMakerPipeline("training", args(name="bad_name", region="mars", parallelism=0))
    message = str(err.value)
    assert "'training'" in message
    assert "name 'bad_name'" in message and "region 'mars'" in message
    assert "parallelism 0" in message
    assert mocks.registered == []


@pulumi.runtime.test
def test_outputs_are_left_to_check_at_deploy_time(mocks):
    res = SageMakerPipeline("training", args(role_arn=pulumi.Output.from_input("not-an-arn"),
                                             tags={"stack": pulumi.Output.from_input("dev")}))

    def verify(_arn):
        [reg] = mocks.registered
        assert reg.inputs["role_arn"] == "not-an-arn" and reg.inputs["tags"] == {"stack": "dev"}

    return res.arn.apply(verify)
