"""What the plan shows a reviewer per resource, read from the real stacks' registered inputs."""
from __future__ import annotations

from dataclasses import replace

import pytest
from pulumi.runtime import rpc

from mlops_platform.offline.review import SECRET, inputs_digest, plain, reviewed_properties
from tests.support.stacks import stack_config

P = "mlops-platform"
BUCKET = "aws:s3/bucket:Bucket"
PIPELINE = "pulumi-python:dynamic/mlops:SageMakerPipeline"


def _props(run, typ, name=None):
    return reviewed_properties(run.one(typ, name), run)


def test_retention_follows_the_stack_file(dev, prod):
    assert _props(prod, BUCKET)["retainOnDelete"] is True and _props(prod, BUCKET)["forceDestroy"] is False
    assert "retainOnDelete" not in _props(dev, BUCKET) and _props(dev, BUCKET)["forceDestroy"] is True
    assert _props(prod, "aws:kms/key:Key", "data-key")["deletionWindowInDays"] == 30


def test_encryption_keys_are_shown(prod):
    key_arn = prod.outputs["dataKeyArn"]
    sse = _props(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key_arn
    assert _props(prod, "aws:dynamodb/table:Table")["serverSideEncryption.kmsKeyArn"] == key_arn


@pytest.mark.parametrize("name", ["training", "inference"])
def test_prod_pipelines_show_every_job_isolated_inside_the_vpc(prod, name):
    props = _props(prod, PIPELINE, name)
    vpc = stack_config("prod")[0][f"{P}:vpc"]
    assert props["networkIsolation"].startswith("all ") and props["jobsOutsideVpc"] == []
    assert props["vpcSubnets"] == sorted(vpc["subnetIds"])
    assert props["vpcSecurityGroups"] == sorted(vpc["securityGroupIds"])
    assert prod.outputs["dataKeyArn"] in props["kmsKeys"]


def test_the_auc_threshold_is_the_stack_files(dev, prod):
    for run in (dev, prod):
        expected = float(stack_config(run.stack)[0][f"{P}:aucThreshold"])
        assert _props(run, PIPELINE, "training")["parameters"]["AucThreshold"] == expected


def test_schedules_are_shown(prod):
    rule = _props(prod, "aws:cloudwatch/eventRule:EventRule", "inference-schedule")
    assert rule["scheduleExpression"] == stack_config("prod")[0][f"{P}:inferenceSchedule"]


def test_oidc_trust_subjects_of_the_deploy_role(prod):
    role = _props(prod, "aws:iam/role:Role", "github-deploy")
    assert role["oidcSubjects"] == ["repo:example-org/mlops-platform:environment:prod"]
    assert role["trustedBy"][0].startswith("Federated arn:aws:iam::333333333333:oidc-provider/")


def test_reviewers_by_login(prod, registry):
    env = _props(prod, "github:index/repositoryEnvironment:RepositoryEnvironment", "prod")
    assert env["reviewers"] == sorted(stack_config("prod")[0][f"{P}:reviewers"])
    approval = _props(registry, "github:index/repositoryEnvironment:RepositoryEnvironment", "model-approval")
    assert approval["reviewers"] == sorted(stack_config("registry")[0][f"{P}:modelApprovers"])


def test_policy_statements_by_sid(dev):
    policy = dev.one("aws:iam/rolePolicy:RolePolicy", "sagemaker-policy")
    statements = reviewed_properties(policy, dev)["statements"]
    document = policy.json("policy")["Statement"]
    assert sorted(statements) == sorted(s["Sid"] for s in document)
    for s in document:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        assert statements[s["Sid"]]["effect"] == s["Effect"] and statements[s["Sid"]]["actions"] == sorted(set(actions))


def test_secrets_never_reach_the_plan():
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": "ghs_real_token"}
    assert plain({"token": secret, "n": 30.0, "ok": [1.5]}) == {"token": SECRET, "n": 30, "ok": [1.5]}


def test_a_secret_value_changes_nothing_in_the_plan(registry):
    variable = registry.of_type("github:index/actionsVariable:ActionsVariable")[0]

    def with_secret(value):
        secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": value}
        return replace(variable, inputs={**variable.inputs, "value": secret})

    one, two = with_secret("token-one"), with_secret("token-two")
    assert inputs_digest(one) == inputs_digest(two) != inputs_digest(variable)
    assert reviewed_properties(one, registry)["value"] == SECRET == reviewed_properties(two, registry)["value"]
