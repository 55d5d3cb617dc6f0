"""dev and prod: one component, two configs, wired to the registry through its exports."""
from __future__ import annotations

import pytest

from tests.support.accounts import CONSUMERS
from tests.support.policies import as_list, by_sid

ACCOUNTS = {"dev": "222222222222", "prod": "333333333333"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_registry_is_read_through_the_configured_stack_reference(stack, stacks):
    ref = stacks[stack].one("pulumi:pulumi:StackReference")
    assert ref.name == "example-org/mlops-platform/registry"
    assert stacks[stack].outputs["registryModelPackageGroupArn"] == stacks["registry"].outputs["modelPackageGroupArn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_roles_trust_one_service_of_this_account_only(stack, stacks):
    expected = {f"mlops-{stack}-sagemaker-execution": "sagemaker.amazonaws.com",
                f"mlops-{stack}-model-lookup-lambda": "lambda.amazonaws.com",
                f"mlops-{stack}-events-invoke": "events.amazonaws.com"}
    roles = {r.inputs["name"]: r for r in stacks[stack].of_type("aws:iam/role:Role")}
    assert expected.keys() <= roles.keys()
    for name, service in expected.items():
        trust = roles[name].json("assumeRolePolicy")["Statement"][0]
        assert trust["Principal"] == {"Service": service}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNTS[stack]}}


def _policy(run, key):
    return run.one("aws:iam/rolePolicy:RolePolicy", f"{key}-policy").json("policy")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_execution_role_uses_the_registry_exports_for_cross_account_registration(stack, stacks):
    reg = stacks["registry"].outputs
    policy = _policy(stacks[stack], "sagemaker")
    register = by_sid(policy, "RegisterPendingVersions")
    assert reg["modelPackageGroupArn"] in register["Resource"]
    assert register["Condition"] == {"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}}
    assert "sagemaker:UpdateModelPackage" not in by_sid(policy, "ReadCentralGroup")["Action"]
    assert by_sid(policy, "ReadWriteOwnModelArtifacts")["Resource"] == f"{reg['artifactsBucketArn']}/models/{stack}/*"
    assert reg["artifactsKeyArn"] in by_sid(policy, "UseDataAndRegistryKeys")["Resource"]
    passrole = by_sid(policy, "PassOwnRoleToSageMaker")
    assert passrole["Resource"].endswith(f":role/mlops-{stack}-sagemaker-execution")
    assert passrole["Condition"]["StringEquals"]["iam:PassedToService"] == "sagemaker.amazonaws.com"


def test_registry_names_exactly_the_roles_the_workloads_create(stacks):
    created = {r.outputs[k] for r in (stacks["dev"], stacks["prod"])
               for k in ("sagemakerExecutionRoleArn", "modelLookupRoleArn")}
    assert created == set(CONSUMERS)


def _workload_boundary(run):
    return run.one("aws:iam/policy:Policy", "workload-boundary").json("policy")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_jobs_without_a_volume_key_are_denied_where_ci_cannot_lift_it(stack, stacks):
    deny = by_sid(_workload_boundary(stacks[stack]), "DenyJobsWithoutVolumeKey")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Null": {"sagemaker:VolumeKmsKey": "true"}}


def test_prod_enforces_vpc_only_and_network_isolated_jobs(prod):
    boundary = _workload_boundary(prod)
    vpc = by_sid(boundary, "DenyJobsOutsideVpc")
    assert vpc["Effect"] == "Deny" and "sagemaker:CreateTrainingJob" in vpc["Action"]
    assert vpc["Condition"] == {"Null": {"sagemaker:VpcSubnets": "true"}}
    iso = by_sid(boundary, "DenyJobsWithoutNetworkIsolation")
    assert iso["Condition"] == {"Bool": {"sagemaker:NetworkIsolation": "false"}}
    eni = by_sid(_policy(prod, "sagemaker"), "JobNetworkInterfaces")
    assert "arn:aws:ec2:eu-west-1:333333333333:subnet/subnet-0a1b2c3d4e5f60718" in eni["Resource"]


def test_dev_without_vpc_settings_has_no_vpc_guards(dev):
    sids = {s.get("Sid") for s in _policy(dev, "sagemaker")["Statement"] + _workload_boundary(dev)["Statement"]}
    assert not sids & {"DenyJobsOutsideVpc", "DenyJobsWithoutNetworkIsolation", "JobNetworkInterfaces"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_events_role_may_only_start_this_stacks_pipelines(stack, stacks):
    policy = _policy(stacks[stack], "events")
    assert [s["Action"] for s in policy["Statement"]] == [["sagemaker:StartPipelineExecution"]]
    # Training starts on drift through the retrain gate, never from EventBridge directly.
    assert as_list(policy["Statement"][0]["Resource"]) == [
        f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-inference"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_alerts_go_to_the_configured_address_and_dead_letters_raise_an_alarm(stack, stacks):
    run = stacks[stack]
    sub = run.one("aws:sns/topicSubscription:TopicSubscription")
    assert sub.inputs["protocol"] == "email"
    assert sub.inputs["endpoint"] == f"ml-alerts-{stack}@example.com"
    alarm = run.one("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["dimensions"] == {"QueueName": f"mlops-{stack}-events-dlq"}
    assert alarm.inputs["threshold"] == 0 and alarm.inputs["alarmActions"] == [run.outputs["alertTopicArn"]]
    dlq_policy = by_sid(run.one("aws:sqs/queuePolicy:QueuePolicy").json("policy"), "StackRulesDeadLetter")
    assert dlq_policy["Condition"]["ArnLike"]["aws:SourceArn"] == \
        f"arn:aws:events:eu-west-1:{ACCOUNTS[stack]}:rule/mlops-{stack}-*"
