"""VPC and network isolation appear on every job exactly when the settings ask for them."""
from __future__ import annotations

import pytest

from tests.ml.pipelines.sample import VPC
from tests.support.pipeline_definitions import steps_by_name

PIPELINES = ("training", "inference", "live-drift")


def network_of(step: dict) -> dict:
    """The network settings of one job or model step, normalized across API shapes."""
    args = step["Arguments"]
    if step["Type"] == "Processing":
        config = args.get("NetworkConfig", {})
        vpc = config.get("VpcConfig")
        return {"isolation": config.get("EnableNetworkIsolation"), "vpc": vpc}
    if step["Type"] in ("Training", "Model"):
        return {"isolation": args.get("EnableNetworkIsolation"), "vpc": args.get("VpcConfig")}
    raise AssertionError(step["Type"])


def networked_steps(definition: str) -> list[dict]:
    return [s for s in steps_by_name(definition).values() if s["Type"] in ("Processing", "Training", "Model")]


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_isolated_by_default_without_vpc(built, pipeline):
    steps = networked_steps(built("isolated")[pipeline])
    assert steps
    for step in steps:
        assert network_of(step) == {"isolation": True, "vpc": None}, step["Name"]


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_vpc_subnets_and_security_groups_on_every_job_and_model(built, pipeline):
    for step in networked_steps(built("vpc")[pipeline]):
        network = network_of(step)
        assert network["isolation"] is True, step["Name"]
        assert sorted(network["vpc"]["Subnets"]) == sorted(VPC["subnets"]), step["Name"]
        assert network["vpc"]["SecurityGroupIds"] == list(VPC["security_group_ids"]), step["Name"]


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_no_network_settings_at_all_when_neither_is_enabled(built, pipeline):
    for step in steps_by_name(built("open")[pipeline]).values():
        args = step.get("Arguments", {})
        for key in ("NetworkConfig", "VpcConfig", "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption"):
            assert key not in args, (step["Name"], key)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_register_and_transform_steps_inherit_no_network_fields(built, pipeline):
    # The transform runs the model's container: VPC and isolation come from the model.
    for step in steps_by_name(built("vpc")[pipeline]).values():
        if step["Type"] in ("Transform", "RegisterModel"):
            assert "VpcConfig" not in step["Arguments"] and "NetworkConfig" not in step["Arguments"]
