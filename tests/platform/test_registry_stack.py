"""The registry stack: central key, artifacts bucket, model package group and its policy,
and notifications of model package state changes."""
from __future__ import annotations

import json

from moto.events.models import EventPattern

from tests.support.policies import by_sid

DEV, PROD, REG = "222222222222", "333333333333", "111111111111"
CONSUMERS = sorted([
    f"arn:aws:iam::{DEV}:role/mlops-dev-sagemaker-execution", f"arn:aws:iam::{DEV}:role/mlops-dev-model-lookup-lambda",
    f"arn:aws:iam::{PROD}:role/mlops-prod-sagemaker-execution",
    f"arn:aws:iam::{PROD}:role/mlops-prod-model-lookup-lambda",
])


def test_artifacts_key_lets_only_the_named_workload_roles_use_it_through_s3_and_sagemaker(registry):
    key = registry.one("aws:kms/key:Key", "artifacts-key")
    use = by_sid(key.json("policy"), "WorkloadRolesUseKeyThroughS3AndSageMaker")
    assert use["Principal"]["AWS"] == [f"arn:aws:iam::{DEV}:root", f"arn:aws:iam::{PROD}:root"]
    assert use["Condition"]["ArnEquals"]["aws:PrincipalArn"] == CONSUMERS
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == [
        "s3.eu-west-1.amazonaws.com", "sagemaker.eu-west-1.amazonaws.com"]
    grant = by_sid(key.json("policy"), "WorkloadRolesGrantKeyToSageMakerJobs")
    assert grant["Action"] == ["kms:CreateGrant"]
    assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


def test_artifacts_bucket_grants_named_roles_and_each_account_writes_only_its_prefix(registry):
    policy = registry.one("aws:s3/bucketPolicy:BucketPolicy", "artifacts").json("policy")
    bucket = f"arn:aws:s3:::mlops-registry-artifacts-{REG}-eu-west-1"
    read = by_sid(policy, "WorkloadRolesReadModels")
    assert read["Condition"]["ArnEquals"]["aws:PrincipalArn"] == CONSUMERS
    assert read["Action"] == ["s3:GetObject"]
    dev = by_sid(policy, "DevWritesOwnModels")
    assert dev["Resource"] == f"{bucket}/models/dev/*"
    assert all(":role/mlops-dev-" in a for a in dev["Condition"]["ArnEquals"]["aws:PrincipalArn"])
    prod = by_sid(policy, "ProdWritesOwnModels")
    assert prod["Resource"] == f"{bucket}/models/prod/*"
    assert prod["Principal"]["AWS"] == [f"arn:aws:iam::{PROD}:root"]


def test_model_package_group_has_the_default_name(registry):
    group = registry.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert group.inputs["modelPackageGroupName"] == "mammo-severity-model-package"


def test_group_policy_lets_workloads_register_and_read_but_only_the_registry_approve(registry):
    policy = registry.one("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy").json("resourcePolicy")
    allow = by_sid(policy, "WorkloadRolesRegisterAndRead")
    assert "sagemaker:CreateModelPackage" in allow["Action"]
    assert "sagemaker:UpdateModelPackage" not in allow["Action"]
    assert allow["Condition"]["ArnEquals"]["aws:PrincipalArn"] == CONSUMERS
    group_arn = f"arn:aws:sagemaker:eu-west-1:{REG}:model-package-group/mammo-severity-model-package"
    assert group_arn in allow["Resource"]
    deny = by_sid(policy, "OnlyRegistryAccountChangesApproval")
    assert deny["Effect"] == "Deny" and deny["Action"] == ["sagemaker:UpdateModelPackage"]
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": REG}}


def test_model_state_changes_reach_an_encrypted_topic_that_eventbridge_may_publish_to(registry):
    key = registry.one("aws:kms/key:Key", "notifications-key").json("policy")
    assert by_sid(key, "EventBridgeUsesKey")["Principal"] == {"Service": "events.amazonaws.com"}
    topic = registry.one("aws:sns/topic:Topic", "model-events")
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    publish = by_sid(registry.one("aws:sns/topicPolicy:TopicPolicy").json("policy"), "ServicesOfThisAccountPublish")
    assert "events.amazonaws.com" in publish["Principal"]["Service"]
    assert publish["Condition"]["StringEquals"]["aws:SourceAccount"] == REG
    rule = registry.one("aws:cloudwatch/eventRule:EventRule")
    pattern = EventPattern.load(rule.inputs["eventPattern"])
    approved = {"source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change",
                "detail": {"ModelPackageGroupName": "mammo-severity-model-package",
                           "ModelApprovalStatus": "Approved"}}
    assert pattern.matches_event(approved)
    assert not pattern.matches_event({**approved, "detail": {"modelPackageGroupName": "mammo-severity-model-package"}})
    assert not pattern.matches_event({**approved, "detail": {"ModelPackageGroupName": "other-group"}})
    target = registry.one("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"] == topic.inputs["arn"] if "arn" in topic.inputs else target.inputs["arn"].endswith(
        "mlops-registry-model-events")


def test_registry_exports_what_workload_stacks_read(registry):
    from mlops_platform.components.workload_account import REGISTRY_OUTPUTS

    assert set(REGISTRY_OUTPUTS) <= set(registry.outputs)
    assert registry.outputs["accountId"] == REG
    assert registry.outputs["modelPackageGroupArn"].endswith(":model-package-group/mammo-severity-model-package")
    assert json.dumps(registry.outputs, sort_keys=True)  # plain values, no unresolved outputs
