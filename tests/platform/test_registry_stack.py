"""The registry stack: central key, artifacts bucket, one model package group and its policy per
model, and notifications of model package state changes."""
from __future__ import annotations

import json

import pytest
from moto.events.models import EventPattern

from tests.support.accounts import CONSUMERS, DEV, LOOKUPS, PROD, REG, TRAINING
from tests.support.policies import by_sid

BUCKET = f"arn:aws:s3:::mlops-registry-artifacts-{REG}-eu-west-1"
GROUP = "aws:sagemaker/modelPackageGroup:ModelPackageGroup"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
FIRST_GROUP = "mammo-severity-model-package"


def shipped_groups():
    """{model: group} of the shipped configuration, the first model's first."""
    from mlops_platform.offline.stack_files import stack_config

    values, _ = stack_config("registry")
    models, first = values["mlops-platform:models"], values["mlops-platform:firstModel"]
    return {name: models[name].get("modelPackageGroupName", f"{name}-model-package")
            for name in sorted(models, key=lambda m: (m != first, m))}


def test_artifacts_key_lets_training_use_it_and_lookups_only_decrypt_through_s3(registry):
    key = registry.one("aws:kms/key:Key", "artifacts-key").json("policy")
    use = by_sid(key, "WorkloadTrainingUsesKeyThroughS3AndSageMaker")
    assert use["Principal"]["AWS"] == [f"arn:aws:iam::{DEV}:root", f"arn:aws:iam::{PROD}:root"]
    assert use["Condition"]["ArnEquals"]["aws:PrincipalArn"] == TRAINING
    assert use["Condition"]["StringEquals"]["kms:ViaService"] == [
        "s3.eu-west-1.amazonaws.com", "sagemaker.eu-west-1.amazonaws.com"]
    grant = by_sid(key, "WorkloadTrainingGrantsKeyToSageMakerJobs")
    assert grant["Action"] == ["kms:CreateGrant"]
    assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    lookups = by_sid(key, "WorkloadLookupsDecryptThroughS3")
    assert lookups["Action"] == ["kms:Decrypt"]
    assert lookups["Condition"] == {"ArnEquals": {"aws:PrincipalArn": LOOKUPS},
                                    "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    admin = by_sid(key, "DeployRoleAdministersKey")
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{REG}:role/mlops-registry-github-deploy"}


def test_artifacts_bucket_each_account_writes_its_prefix_and_reads_only_what_it_serves(registry):
    policy = registry.one("aws:s3/bucketPolicy:BucketPolicy", "artifacts").json("policy")
    dev = by_sid(policy, "DevTrainingWritesOwnModels")
    assert dev["Resource"] == f"{BUCKET}/models/dev/*"
    assert dev["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [TRAINING[0]]
    prod = by_sid(policy, "ProdTrainingWritesOwnModels")
    assert prod["Resource"] == f"{BUCKET}/models/prod/*"
    assert prod["Principal"]["AWS"] == [f"arn:aws:iam::{PROD}:root"]
    # dev-trained models are served in prod; prod's are never read by dev
    assert by_sid(policy, "ReadersOfDevModels")["Condition"]["ArnEquals"]["aws:PrincipalArn"] == \
        sorted([TRAINING[0], LOOKUPS[0], LOOKUPS[1]])
    assert by_sid(policy, "ReadersOfProdModels")["Condition"]["ArnEquals"]["aws:PrincipalArn"] == \
        sorted([TRAINING[1], LOOKUPS[1]])
    assert by_sid(policy, "ReadersOfProdModelsList")["Condition"]["StringLike"] == {"s3:prefix": ["models/prod/*"]}
    key_only = by_sid(policy, "DenyOtherEncryptionKeys")
    assert key_only["Effect"] == "Deny" and key_only["Resource"] == f"{BUCKET}/*"
    assert key_only["Condition"]["Null"] == {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"}
    assert registry.outputs["artifactsKeyArn"] in key_only["Condition"]["StringNotEquals"][
        "s3:x-amz-server-side-encryption-aws-kms-key-id"]


def test_every_model_has_its_group_the_first_under_its_old_logical_name(registry):
    groups = {r.name: r.inputs["modelPackageGroupName"] for r in registry.of_type(GROUP)}
    expected = shipped_groups()
    assert len(expected) >= 2, "the shipped configuration has a second model"
    first, *others = expected
    assert groups == {"model-registry": FIRST_GROUP, **{f"{m}-model-registry": expected[m] for m in others}}
    assert expected[first] == FIRST_GROUP
    policies = {r.name: r.inputs["modelPackageGroupName"] for r in registry.of_type(GROUP_POLICY)}
    assert policies == groups


def test_a_groups_description_never_replaces_it(registry):
    # SageMaker cannot change a group's description: a new one would replace the group and orphan
    # its versions, so the engine ignores it after creation (the first model's text changed).
    for group in registry.of_type(GROUP):
        assert group.inputs["modelPackageGroupDescription"]
        assert group.ignore_changes == ("modelPackageGroupDescription",)


@pytest.mark.parametrize("model", list(shipped_groups()))
def test_group_policy_lets_workloads_register_only_pending_versions_and_only_the_registry_approve(registry, model):
    group = shipped_groups()[model]
    policy = next(r for r in registry.of_type(GROUP_POLICY)
                  if r.inputs["modelPackageGroupName"] == group).json("resourcePolicy")
    group_arn = f"arn:aws:sagemaker:eu-west-1:{REG}:model-package-group/{group}"
    register = by_sid(policy, "WorkloadTrainingRegistersPendingVersions")
    assert register["Action"] == ["sagemaker:CreateModelPackage"]
    # Its own group and versions only: a group's policy never names another model's group.
    assert register["Resource"] == sorted([group_arn, f"arn:aws:sagemaker:eu-west-1:{REG}:model-package/{group}/*"])
    assert all(other not in json.dumps(policy) for other in shipped_groups().values() if other != group)
    assert register["Condition"] == {"ArnEquals": {"aws:PrincipalArn": TRAINING},
                                     "StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}}
    read = by_sid(policy, "WorkloadRolesReadVersions")
    assert "sagemaker:CreateModelPackage" not in read["Action"] and "sagemaker:UpdateModelPackage" not in read["Action"]
    # ...read by the consumers, this model's own endpoint roles and the deploy roles (which create
    # an endpoint's model from a pinned version); never another model's endpoint role.
    endpoints = [f"arn:aws:iam::{account}:role/mlops-{stack}-serving-{model}" for stack, account in
                 (("dev", DEV), ("prod", PROD))]
    deployers = [f"arn:aws:iam::{account}:role/mlops-{stack}-github-deploy" for stack, account in
                 (("dev", DEV), ("prod", PROD))]
    assert read["Condition"]["ArnEquals"]["aws:PrincipalArn"] == sorted(CONSUMERS + endpoints + deployers)
    assert all(f"serving-{other}" not in json.dumps(policy) for other in shipped_groups() if other != model)
    pending_only = by_sid(policy, "OtherAccountsRegisterOnlyPendingVersions")
    assert pending_only["Effect"] == "Deny" and pending_only["Principal"] == {"AWS": "*"}
    assert pending_only["Condition"] == {"StringNotEquals": {
        "aws:PrincipalAccount": REG, "sagemaker:ModelApprovalStatus": "PendingManualApproval"}}
    deny = by_sid(policy, "OnlyRegistryAccountChangesApproval")
    assert deny["Effect"] == "Deny" and deny["Action"] == ["sagemaker:UpdateModelPackage"]
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": REG}}


def test_every_group_and_its_policy_survive_a_destroy(registry):
    kept = registry.of_type(GROUP) + registry.of_type(GROUP_POLICY)
    assert len(kept) == 2 * len(shipped_groups())
    assert all(r.retain_on_delete for r in kept)


def test_model_state_changes_reach_an_encrypted_topic_that_eventbridge_may_publish_to(registry):
    key = registry.one("aws:kms/key:Key", "notifications-key").json("policy")
    assert by_sid(key, "EventBridgeUsesKey")["Principal"] == {"Service": "events.amazonaws.com"}
    topic = registry.one("aws:sns/topic:Topic", "model-events")
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    publish = by_sid(registry.one("aws:sns/topicPolicy:TopicPolicy").json("policy"), "ServicesOfThisAccountPublish")
    assert "events.amazonaws.com" in publish["Principal"]["Service"]
    assert publish["Condition"]["StringEquals"]["aws:SourceAccount"] == REG
    # One rule for every model's group (their names fit in one pattern).
    rule = registry.one("aws:cloudwatch/eventRule:EventRule")
    assert rule.name == "model-package-state"
    pattern = EventPattern.load(rule.inputs["eventPattern"])
    for group in shipped_groups().values():
        approved = {"source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change",
                    "detail": {"ModelPackageGroupName": group, "ModelApprovalStatus": "Approved"}}
        assert pattern.matches_event(approved)
        assert not pattern.matches_event({**approved, "detail": {"modelPackageGroupName": group}})
    assert not pattern.matches_event({**approved, "detail": {"ModelPackageGroupName": "other-group"}})
    target = registry.one("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"] == topic.inputs["arn"] if "arn" in topic.inputs else target.inputs["arn"].endswith(
        "mlops-registry-model-events")


def test_registry_exports_what_workload_stacks_read(registry):
    from mlops_platform.components.workload_account import REGISTRY_OUTPUTS

    assert set(REGISTRY_OUTPUTS) <= set(registry.outputs)
    assert registry.outputs["accountId"] == REG
    assert registry.outputs["modelPackageGroupArn"].endswith(f":model-package-group/{FIRST_GROUP}")
    assert registry.outputs["modelPackageGroupName"] == FIRST_GROUP
    groups = registry.outputs["modelPackageGroups"]
    assert {m: g["name"] for m, g in groups.items()} == shipped_groups()
    assert all(g["arn"] == f"arn:aws:sagemaker:eu-west-1:{REG}:model-package-group/{g['name']}" for g in groups.values())
    assert json.dumps(registry.outputs, sort_keys=True)  # plain values, no unresolved outputs
