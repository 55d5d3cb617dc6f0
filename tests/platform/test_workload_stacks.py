"""dev and prod: one component, two configs, wired to the registry through its exports."""
from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from tests.platform.shipped import model_names, models, names
from tests.support.accounts import CONSUMERS
from tests.support.policies import as_list, by_sid

ACCOUNTS = {"dev": "222222222222", "prod": "333333333333"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_registry_is_read_through_the_configured_stack_reference(stack, stacks):
    ref = stacks[stack].one("pulumi:pulumi:StackReference")
    assert ref.name == "example-org/mlops-platform/registry"
    assert stacks[stack].outputs["registryModelPackageGroupArn"] == stacks["registry"].outputs["modelPackageGroupArn"]
    groups = stacks["registry"].outputs["modelPackageGroups"]
    assert {m: o["modelPackageGroupArn"] for m, o in stacks[stack].outputs["models"].items()} == \
        {m: g["arn"] for m, g in groups.items()}


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
    # Every model's group by one pattern of the registry account (each group's policy decides
    # whether another account reaches it): the document does not grow with the models.
    assert register["Resource"] == ["arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/*",
                                    "arn:aws:sagemaker:eu-west-1:111111111111:model-package/*"]
    for group in reg["modelPackageGroups"].values():
        assert any(fnmatchcase(group["arn"], r) for r in register["Resource"])
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
def test_events_role_may_only_start_this_stacks_inference_pipelines(stack, stacks):
    policy = _policy(stacks[stack], "events")
    assert [s["Action"] for s in policy["Statement"]] == [["sagemaker:StartPipelineExecution"]]
    # Every model's inference pipeline by one pattern, and every served model's live-drift check by
    # another; training starts on drift through the retrain gate, never from EventBridge directly.
    patterns = as_list(policy["Statement"][0]["Resource"])
    assert patterns == [f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-*{kind}"
                        for kind in ("inference", "live-drift")]
    for model in models(stack):
        n = names(stack, model)
        for kind in ("inference", "live-drift"):
            assert any(fnmatchcase(n.pipeline_arn("eu-west-1", ACCOUNTS[stack], kind), p) for p in patterns)
        assert not any(fnmatchcase(n.pipeline_arn("eu-west-1", ACCOUNTS[stack], "training"), p) for p in patterns)
    assert len(model_names(stack)) >= 2


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


def test_a_model_the_registry_has_not_onboarded_stops_the_workload_with_the_fix():
    from mlops_platform.components.workload_account import RegistryNotReady, group_of
    from tests.platform.shipped import model

    wdbc = model("dev", "wdbc")
    arn = "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/wdbc-diagnosis-model-package"
    groups = {"wdbc": {"arn": arn, "name": wdbc.group_name}}
    assert group_of(groups, wdbc, "org/p/registry", arn) == arn
    renamed = {"wdbc": {**groups["wdbc"], "name": "old-name"}}
    for exported in (None, {}, {"mammography": groups["wdbc"]}):
        with pytest.raises(RegistryNotReady, match="deploy the registry stack first"):
            group_of(exported, wdbc, "org/p/registry", arn)
    with pytest.raises(RegistryNotReady, match="'old-name'"):
        group_of(renamed, wdbc, "org/p/registry", arn)


def test_a_preview_of_a_new_model_runs_before_the_registry_has_its_group(registry):
    # The pull request that adds a model previews dev and prod before the registry is deployed:
    # the preview uses the ARN the config names (and warns); only `up` refuses.
    from mlops_platform.components.workload_account import group_of
    from tests.platform.shipped import model

    wdbc = model("dev", "wdbc")
    expected = f"arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/{wdbc.group_name}"
    assert group_of({}, wdbc, "org/p/registry", expected, preview=True) == expected
    # ...and it is the ARN the registry then exports for the group.
    assert registry.outputs["modelPackageGroups"]["wdbc"]["arn"] == expected


def test_the_workload_of_a_pull_request_that_adds_a_model_previews_before_the_registry_has_its_group(registry):
    # (`up` then refuses: test_a_model_the_registry_has_not_onboarded_stops_the_workload_with_the_fix.)
    from tests.support.stacks import run_stack

    before = {**registry.outputs, "modelPackageGroups": {
        m: g for m, g in registry.outputs["modelPackageGroups"].items() if m != "wdbc"}}
    previewed = run_stack("dev", registry_outputs=before, preview=True)
    training = previewed.one("pulumi-python:dynamic/mlops:SageMakerPipeline", "wdbc-training")
    assert registry.outputs["modelPackageGroups"]["wdbc"]["arn"] in training.inputs["definition"]
