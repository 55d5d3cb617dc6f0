"""Real-time serving in the real stacks: dev and prod from their stack files, with every model served
by endpoint and a version pinned (tests/support/serving.py; the shipped files pin nothing). Each
served model gets its own role and an endpoint of exactly the pinned version, rolled out as a
canary that its two alarms roll back, the alarms telling the stack's alert topic, every request
captured under its own prefix with the data key, autoscaling as configured (prod's override
merged into the model's entry), and in prod the jobs' subnets and network isolation."""
from __future__ import annotations

import json
import re

import pytest

from tests.support.policies import as_list, by_sid, statements
from tests.support.serving import PROD_OVERRIDE, SERVING, VERSION, served_config, version_arn
from tests.support.stacks import run_stack, stack_config

WORKLOADS = ["dev", "prod"]
MODELS = ["mammography", "wdbc"]
CASES = [(stack, model) for stack in WORKLOADS for model in MODELS]
ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
MODEL, CONFIG, ENDPOINT = ("aws:sagemaker/model:Model", "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
                           "aws:sagemaker/endpoint:Endpoint")
ALARM, TARGET, SCALING = ("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:appautoscaling/target:Target",
                          "aws:appautoscaling/policy:Policy")
# Resource type -> the call that creates it: the deploy role must be allowed each one.
CREATE_ACTIONS = {MODEL: "sagemaker:CreateModel", CONFIG: "sagemaker:CreateEndpointConfig",
                  ENDPOINT: "sagemaker:CreateEndpoint", ALARM: "cloudwatch:PutMetricAlarm",
                  TARGET: "application-autoscaling:RegisterScalableTarget",
                  SCALING: "application-autoscaling:PutScalingPolicy", "aws:iam/role:Role": "iam:CreateRole",
                  "aws:iam/rolePolicy:RolePolicy": "iam:PutRolePolicy"}


def logical(model: str, name: str) -> str:
    """The first model's logical names are bare, every other model's carry its name."""
    return name if model == "mammography" else f"{model}-{name}"


def endpoint_name(stack: str, model: str) -> str:
    return f"mlops-{stack}-{model}"


def expected_serving(stack: str, model: str) -> dict:
    """The model's serving entry, with prod's override of the first model merged over it key by key."""
    return {**SERVING, **(PROD_OVERRIDE if (stack, model) == ("prod", "mammography") else {})}


def one(run, typ: str, model: str, suffix: str):
    return run.one(typ, logical(model, f"serving-endpoint{suffix}"))


def test_the_stacks_export_which_version_serves_where(served_stacks):
    for stack in WORKLOADS:
        config, _ = stack_config(stack)
        config = served_config(config, stack)
        run = served_stacks[stack]
        assert run.outputs["servedVersions"] == {
            m: {"version": VERSION, "modelPackageArn": version_arn(config, m), "endpointName": endpoint_name(stack, m),
                "endpointConfigName": one(run, CONFIG, m, "-config").inputs["name"]}
            for m in MODELS}
        assert served_stacks[stack].warnings == []  # every endpoint model is pinned: nothing to say


@pytest.mark.parametrize("stack, model", CASES)
def test_the_endpoints_model_is_the_pinned_version_run_by_the_models_own_role(served_stacks, stack, model):
    run = served_stacks[stack]
    sm = one(run, MODEL, model, "-model")
    assert sm.inputs["primaryContainer"] == {"modelPackageName": run.outputs["servedVersions"][model]["modelPackageArn"]}
    role = run.one("aws:iam/role:Role", logical(model, "serving-role"))
    assert role.inputs["name"] == f"mlops-{stack}-serving-{model}"
    assert sm.inputs["executionRoleArn"] == f"arn:aws:iam::{ACCOUNTS[stack]}:role/{role.inputs['name']}"
    trust = statements(role.json("assumeRolePolicy"))
    assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
    assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNTS[stack]}}
    assert role.inputs["permissionsBoundary"] == f"arn:aws:iam::{ACCOUNTS[stack]}:policy/mlops-{stack}-workload-boundary"
    # Named for the endpoint and the version; a digest of the inputs, so a replacement never
    # takes the name of what it replaces (created before the old one is deleted).
    for r in (sm, one(run, CONFIG, model, "-config")):
        assert re.fullmatch(rf"{endpoint_name(stack, model)}-v{VERSION}-[0-9a-f]{{8}}", r.inputs["name"]), r.inputs["name"]
        assert len(r.inputs["name"]) <= 63


@pytest.mark.parametrize("stack, model", CASES)
def test_prod_serves_in_the_jobs_subnets_network_isolated_dev_isolated(served_stacks, stack, model):
    run = served_stacks[stack]
    sm = one(run, MODEL, model, "-model")
    assert sm.inputs["enableNetworkIsolation"] is True
    vpc = stack_config(stack)[0].get("mlops-platform:vpc")
    if stack == "prod":
        assert sm.inputs["vpcConfig"] == {"subnets": sorted(vpc["subnetIds"]),
                                          "securityGroupIds": sorted(vpc["securityGroupIds"])}
    else:
        assert vpc is None and "vpcConfig" not in sm.inputs


@pytest.mark.parametrize("stack, model", CASES)
def test_every_request_and_response_is_captured_under_the_models_prefix_with_the_data_key(served_stacks, stack, model):
    run = served_stacks[stack]
    config = one(run, CONFIG, model, "-config")
    capture = config.inputs["dataCaptureConfig"]
    assert capture["destinationS3Uri"] == f"s3://{run.outputs['dataBucketName']}/capture/{model}/"
    assert capture["kmsKeyId"] == config.inputs["kmsKeyArn"] == run.outputs["dataKeyArn"]
    assert capture["enableCapture"] is True and capture["initialSamplingPercentage"] == 100
    assert sorted(o["captureMode"] for o in capture["captureOptions"]) == ["Input", "Output"]


@pytest.mark.parametrize("stack, model", CASES)
def test_size_and_autoscaling_come_from_the_models_serving_entry_and_the_stacks_override(served_stacks, stack, model):
    run, want = served_stacks[stack], expected_serving(stack, model)
    [variant] = one(run, CONFIG, model, "-config").inputs["productionVariants"]
    assert (variant["instanceType"], variant["initialInstanceCount"]) == (want["instanceType"], want["initialCount"])
    assert variant["modelName"] == one(run, MODEL, model, "-model").inputs["name"]
    target = one(run, TARGET, model, "-scaling")
    assert target.inputs["resourceId"] == f"endpoint/{endpoint_name(stack, model)}/variant/AllTraffic"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (
        want["autoscaling"]["min"], want["autoscaling"]["max"])
    tracking = one(run, SCALING, model, "-invocations").inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": "SageMakerVariantInvocationsPerInstance"}
    assert tracking["targetValue"] == want["autoscaling"]["targetInvocationsPerInstance"]


@pytest.mark.parametrize("stack, model", CASES)
def test_a_new_version_rolls_out_as_a_canary_that_its_alarms_roll_back(served_stacks, stack, model):
    run, want = served_stacks[stack], expected_serving(stack, model)
    endpoint = one(run, ENDPOINT, model, "")
    assert endpoint.inputs["name"] == endpoint_name(stack, model)
    assert endpoint.inputs["endpointConfigName"] == one(run, CONFIG, model, "-config").inputs["name"]
    deployment = endpoint.inputs["deploymentConfig"]
    policy = deployment["blueGreenUpdatePolicy"]
    routing = policy["trafficRoutingConfiguration"]
    assert routing["type"] == "CANARY"
    assert routing["canarySize"] == {"type": "CAPACITY_PERCENT", "value": want["canaryPercent"]}
    assert routing["waitIntervalInSeconds"] > 0 and policy["terminationWaitInSeconds"] > 0
    # SageMaker's bounds: the whole rollout within the timeout (600 to 28,800 seconds).
    assert 600 <= policy["maximumExecutionTimeoutInSeconds"] <= 28800
    assert policy["maximumExecutionTimeoutInSeconds"] > routing["waitIntervalInSeconds"] + policy["terminationWaitInSeconds"]
    alarms = {a.inputs["name"]: a.inputs for a in run.of_type(ALARM)
              if a.inputs["name"].startswith(f"{endpoint_name(stack, model)}-")}
    assert sorted(alarms) == [f"{endpoint_name(stack, model)}-errors", f"{endpoint_name(stack, model)}-latency"]
    assert {a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]} == set(alarms)
    latency = alarms[f"{endpoint_name(stack, model)}-latency"]
    assert latency["threshold"] == want["maxP99LatencyMs"] * 1000  # ModelLatency is in microseconds
    for alarm in alarms.values():
        assert alarm["alarmActions"] == alarm["okActions"] == [run.outputs["alertTopicArn"]]
        assert alarm["treatMissingData"] == "notBreaching" and alarm["evaluationPeriods"] == 1


@pytest.mark.parametrize("stack, model", CASES)
def test_the_serving_role_reaches_only_its_models_version_artifacts_capture_and_alarms(served_stacks, stack, model):
    run = served_stacks[stack]
    policy = run.one("aws:iam/rolePolicy:RolePolicy", logical(model, "serving-policy"))
    assert policy.inputs["role"] == f"mlops-{stack}-serving-{model}"
    doc = policy.json("policy")
    other = next(m for m in MODELS if m != model)
    groups = {m: stack_config(stack)[0]["mlops-platform:models"][m]["modelPackageGroupName"] for m in MODELS}
    text = json.dumps(doc)
    assert groups[model] in text and groups[other] not in text and f"capture/{other}" not in text
    assert by_sid(doc, "WriteOwnCapture")["Resource"] == \
        f"arn:aws:s3:::{run.outputs['dataBucketName']}/capture/{model}/*"
    assert by_sid(doc, "ReadRollbackAlarms")["Resource"] == sorted(
        f"arn:aws:cloudwatch:eu-west-1:{ACCOUNTS[stack]}:alarm:{endpoint_name(stack, model)}-{kind}"
        for kind in ("errors", "latency"))
    sources = ["dev", "prod"] if stack == "prod" else ["dev"]  # prod serves what dev trained too
    assert len(as_list(by_sid(doc, "ReadOwnModelsArtifacts")["Resource"])) == len(sources)
    assert ("JobNetworkInterfaces" in {s["Sid"] for s in statements(doc)}) == (stack == "prod")


@pytest.mark.parametrize("stack", WORKLOADS)
def test_the_deploy_role_may_create_every_serving_resource_type(served_stacks, stack):
    run = served_stacks[stack]
    deploy = run.one("aws:iam/rolePolicy:RolePolicy", "github-deploy").json("policy")
    allowed = {a for s in statements(deploy) if s["Effect"] == "Allow" for a in as_list(s.get("Action"))}
    for typ in {r.type for r in run.custom()} & set(CREATE_ACTIONS):
        assert CREATE_ACTIONS[typ] in allowed, typ
    assert {"sagemaker:InvokeEndpoint", "sagemaker:UpdateEndpoint", "iam:CreateServiceLinkedRole"} <= allowed


def test_serving_adds_resources_and_moves_none(stacks, served_stacks):
    for stack in WORKLOADS:
        before = {r.urn for r in stacks[stack].resources}
        after = {r.urn for r in served_stacks[stack].resources}
        assert before - after == set(), f"{stack}: serving on replaced or dropped resources"
        added = {urn.rsplit("::", 1)[1] for urn in after - before}
        # Its endpoint and role per model, and the live-drift check of the captured traffic.
        assert all(re.match(r"^(wdbc-)?(serving|live-drift)", name) for name in added), sorted(added)


def test_a_new_pin_renames_the_model_and_configuration_and_keeps_the_endpoint(registry):
    def run(version: str):
        config, secrets = stack_config("dev")
        config = served_config(config, "dev", ["mammography"])
        config["mlops-platform:servedVersions"] = {"mammography": version}
        result = run_stack("dev", config=config, secret_keys=secrets, registry_outputs=registry.outputs)
        return {typ: one(result, typ, "mammography", suffix).inputs["name"]
                for typ, suffix in ((MODEL, "-model"), (CONFIG, "-config"), (ENDPOINT, ""))}

    seven, seven_again, eight = run("7"), run("7"), run("8")
    assert seven == seven_again  # deterministic
    assert eight[ENDPOINT] == seven[ENDPOINT] == "mlops-dev-mammography"
    assert eight[MODEL] != seven[MODEL] and eight[CONFIG] != seven[CONFIG]
    assert eight[MODEL].startswith("mlops-dev-mammography-v8-")


def test_an_endpoint_only_model_is_not_scheduled_for_batch_scoring(registry):
    config, secrets = stack_config("dev")
    config = served_config(config, "dev", ["wdbc"])
    config["mlops-platform:models"]["wdbc"]["serving"]["mode"] = "endpoint"
    run = run_stack("dev", config=config, secret_keys=secrets, registry_outputs=registry.outputs)
    rules = {r.name for r in run.resources if r.type == "aws:cloudwatch/eventRule:EventRule"}
    assert "wdbc-inference-schedule" not in rules and "inference-schedule" in rules  # mammography still batch
    assert "wdbc-live-drift-schedule" in rules  # its live traffic is still checked for drift
    assert run.one(ENDPOINT, "wdbc-serving-endpoint").inputs["name"] == "mlops-dev-wdbc"
