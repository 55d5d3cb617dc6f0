"""A served model: the pinned version behind a canary rollout that rolls itself back on alarms,
every request captured encrypted, autoscaling on invocations, and prod's network posture."""
from __future__ import annotations

import pytest

from mlops_platform.components.model_endpoint import ModelEndpoint, ModelEndpointArgs, Rollout, Scaling
from mlops_platform.settings import VpcSettings
from tests.support.stacks import run_stack

PACKAGE = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/mammo-severity-model-package/7"
KEY = "arn:aws:kms:eu-west-1:222222222222:key/k"
TOPIC = "arn:aws:sns:eu-west-1:222222222222:mlops-dev-alerts"
VPC = VpcSettings(("subnet-0a1b2c3d4e5f60718",), ("sg-0c1d2e3f4a5b60710",), True)


def _endpoint(**overrides):
    args = ModelEndpointArgs(
        endpoint_name="mlops-dev-mammography", model_package_arn=PACKAGE,
        execution_role_arn="arn:aws:iam::222222222222:role/mlops-dev-serving", data_key_arn=KEY,
        capture_uri="s3://mlops-dev-data/capture/mammography/", alert_topic_arn=TOPIC, **overrides)
    run = run_stack("dev", config={}, registry_outputs={}, program=lambda: ModelEndpoint("mammography", args))
    return {r.type.split("/")[-1].split(":")[-1]: [x for x in run.resources if x.type == r.type]
            for r in run.resources}


@pytest.fixture(scope="module")
def served():
    return _endpoint(scaling=Scaling(min_count=1, max_count=4, target_invocations_per_instance=250))


def test_the_model_is_the_pinned_cross_account_package_network_isolated(served):
    (model,) = served["Model"]
    assert model.inputs["primaryContainer"] == {"modelPackageName": PACKAGE}
    assert model.inputs["enableNetworkIsolation"] is True


def test_every_request_and_response_is_captured_encrypted_with_the_data_key(served):
    (config,) = served["EndpointConfiguration"]
    capture = config.inputs["dataCaptureConfig"]
    assert capture["enableCapture"] and capture["initialSamplingPercentage"] == 100
    assert capture["kmsKeyId"] == KEY and config.inputs["kmsKeyArn"] == KEY
    assert capture["destinationS3Uri"] == "s3://mlops-dev-data/capture/mammography/"
    assert sorted(o["captureMode"] for o in capture["captureOptions"]) == ["Input", "Output"]


def test_rollout_is_a_canary_that_rolls_back_on_both_alarms(served):
    (endpoint,) = served["Endpoint"]
    deployment = endpoint.inputs["deploymentConfig"]
    routing = deployment["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY" and routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": 10}
    assert routing["waitIntervalInSeconds"] == Rollout().bake_seconds
    alarms = {a.inputs["name"] for a in served["MetricAlarm"]}
    assert {a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]} == alarms
    assert alarms == {"mlops-dev-mammography-errors", "mlops-dev-mammography-latency"}


def test_alarms_watch_the_endpoint_and_notify_the_alert_topic(served):
    by_name = {a.inputs["name"]: a.inputs for a in served["MetricAlarm"]}
    latency = by_name["mlops-dev-mammography-latency"]
    assert latency["metricName"] == "ModelLatency" and latency["extendedStatistic"] == "p99"
    assert latency["threshold"] == Rollout().max_p99_latency_ms * 1000  # microseconds
    errors = by_name["mlops-dev-mammography-errors"]
    metrics = {q["metric"]["metricName"] for q in errors["metricQueries"] if "metric" in q}
    assert metrics == {"Invocation5XXErrors", "ModelError"}
    for alarm in by_name.values():
        assert alarm["alarmActions"] == [TOPIC]
        dims = alarm.get("dimensions") or next(q["metric"]["dimensions"] for q in alarm["metricQueries"] if "metric" in q)
        assert dims == {"EndpointName": "mlops-dev-mammography", "VariantName": "AllTraffic"}


def test_autoscaling_tracks_invocations_per_instance_within_the_bounds(served):
    (target,) = served["Target"]
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (1, 4)
    assert target.inputs["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    (policy,) = served["Policy"]
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    assert tracking["targetValue"] == 250


def test_in_a_vpc_the_model_runs_in_the_private_subnets():
    (model,) = _endpoint(vpc=VPC)["Model"]
    assert model.inputs["vpcConfig"] == {"subnets": list(VPC.subnet_ids), "securityGroupIds": list(VPC.security_group_ids)}
