"""Hardening that holds in every stack: encryption with customer-managed keys, no public
buckets, TLS only, least-privilege IAM without wildcards, tags through the provider."""
from __future__ import annotations

import json

import pytest

from tests.support.policies import as_list, documents, statements

STACKS = ["registry", "dev", "prod"]

# Every `Resource: "*"` the program writes, with the reason it cannot be narrower.
STAR_RESOURCE_ALLOWED = {
    "AccountAdministersAndUsesKeyThroughIam": "a key policy's own key is '*'",
    "WorkloadRolesUseKeyThroughS3AndSageMaker": "a key policy's own key is '*'",
    "WorkloadRolesGrantKeyToSageMakerJobs": "a key policy's own key is '*'",
    "EventBridgeUsesKey": "a key policy's own key is '*'",
    "CloudWatchUsesKey": "a key policy's own key is '*'",
    "PublishJobMetrics": "cloudwatch:PutMetricData has no resource-level permissions (namespace condition)",
    "EcrLogin": "ecr:GetAuthorizationToken has no resource-level permissions",
    "ListPackages": "sagemaker:ListModelPackages has no resource-level permissions",
    "DescribeNetwork": "ec2:Describe* have no resource-level permissions",
    "DenyJobsWithoutVolumeKey": "a deny guard over all jobs",
    "DenyJobsOutsideVpc": "a deny guard over all jobs",
    "DenyJobsWithoutNetworkIsolation": "a deny guard over all jobs",
    "ListKeyAliases": "kms:ListAliases has no resource-level permissions",
    "CreateStackKeys": "kms:CreateKey has no key ARN yet; the request must carry the stack's tags",
    "ReadSubscriptions": "SNS subscription calls have no resource-level permissions",
    "ManageSubscriptions": "SNS subscription calls have no resource-level permissions",
    "DescribeLogGroups": "logs:DescribeLogGroups is a list call with no resource-level permissions",
    "BoundaryActions": "a permissions boundary caps actions; each role's own policy scopes resources",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_bucket_is_hardened(stack, stacks):
    run = stacks[stack]
    buckets = run.of_type("aws:s3/bucket:Bucket")
    assert buckets, "each stack has at least one bucket"
    keys = {k.name for k in run.of_type("aws:kms/key:Key")}
    for b in buckets:
        sse = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", b.name)
        rule = sse.inputs["rules"][0]
        default = rule["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms"
        assert default["kmsMasterKeyId"].split("/")[-1].removesuffix("-key-id") in keys, "a CMK of this stack"
        assert rule["bucketKeyEnabled"] is True
        assert run.one("aws:s3/bucketVersioning:BucketVersioning", b.name).inputs[
            "versioningConfiguration"]["status"] == "Enabled"
        pab = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b.name).inputs
        assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                            "restrictPublicBuckets"))
        own = run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", b.name).inputs
        assert own["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        life = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", b.name).inputs
        assert life["rules"][0]["noncurrentVersionExpiration"]["noncurrentDays"] > 0
        policy = json.loads(run.one("aws:s3/bucketPolicy:BucketPolicy", b.name).inputs["policy"])
        tls = [s for s in statements(policy) if s["Effect"] == "Deny"
               and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
        assert tls and tls[0]["Principal"] == "*"
        assert set(tls[0]["Resource"]) == {f"arn:aws:s3:::{b.inputs['bucket']}",
                                           f"arn:aws:s3:::{b.inputs['bucket']}/*"}


@pytest.mark.parametrize("stack", STACKS)
def test_keys_rotate_and_messaging_uses_customer_managed_keys(stack, stacks):
    run = stacks[stack]
    assert all(k.inputs["enableKeyRotation"] is True for k in run.of_type("aws:kms/key:Key"))
    for typ in ("aws:sns/topic:Topic", "aws:sqs/queue:Queue"):
        for r in run.of_type(typ):
            key = r.inputs["kmsMasterKeyId"]
            assert key.startswith("arn:aws:kms:") and "alias/aws/" not in key, f"{r.name} uses {key}"


@pytest.mark.parametrize("stack", STACKS)
def test_no_managed_full_access_policies_and_no_iam_users(stack, stacks):
    run = stacks[stack]
    assert not run.of_type("aws:iam/user:User")
    assert not run.of_type("aws:iam/accessKey:AccessKey")
    for r in run.resources:
        for value in (r.inputs.get("policyArn"), *(r.inputs.get("managedPolicyArns") or [])):
            assert not value or not value.endswith(("FullAccess", "AdministratorAccess", "PowerUserAccess"))


@pytest.mark.parametrize("stack", STACKS)
def test_no_wildcard_actions_are_allowed(stack, stacks):
    for typ, name, doc in documents(stacks[stack]):
        for s in statements(doc):
            if s["Effect"] == "Allow":
                for action in as_list(s.get("Action", [])):
                    assert "*" not in action, f"{typ} {name} {s.get('Sid')} allows {action}"


@pytest.mark.parametrize("stack", STACKS)
def test_star_resources_are_only_the_documented_ones(stack, stacks):
    for typ, name, doc in documents(stacks[stack]):
        for s in statements(doc):
            if "*" in as_list(s.get("Resource", [])):
                assert s.get("Sid") in STAR_RESOURCE_ALLOWED, f"{typ} {name} {s.get('Sid')} uses Resource '*'"


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_uses_the_pinned_provider_with_default_tags(stack, stacks):
    run = stacks[stack]
    provider = run.one("pulumi:providers:aws", "aws")
    # Provider inputs reach the engine JSON-encoded.
    assert provider.json("allowedAccountIds") == [run.outputs["accountId"]]
    assert provider.inputs["region"] == "eu-west-1"
    tags = provider.json("defaultTags")["tags"]
    assert {"owner", "costCenter", "project", "stack", "managed-by"} <= set(tags)
    assert tags["stack"] == stack
    for r in run.custom():
        if r.type.startswith("aws:"):
            assert r.provider.startswith(provider.urn + "::"), f"{r.type} {r.name} bypasses the provider"
