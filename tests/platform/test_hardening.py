"""Hardening that holds in every stack: encryption with customer-managed keys, no public
buckets, TLS only, least-privilege IAM without wildcards, tags through the provider."""
from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from mlops_facts.unscoped import scoped
from mlops_platform.iam_documents.boundaries import CONFIGURATION_READS
from tests.support.policies import as_list, documents, statements

STACKS = ["registry", "dev", "prod"]

# Every `Resource: "*"` the program writes that is not about an action's resource type (those
# are the shared facts' UNSCOPED_ACTIONS), with the reason it cannot be narrower.
STAR_RESOURCE_ALLOWED = {
    "AccountAdministersAndUsesKeyThroughIam": "a key policy's own key is '*'",
    "DeployRoleAdministersKey": "a key policy's own key is '*'",
    "DeployRoleUsesKeyThroughServices": "a key policy's own key is '*'",
    "WorkloadTrainingUsesKeyThroughS3AndSageMaker": "a key policy's own key is '*'",
    "WorkloadTrainingGrantsKeyToSageMakerJobs": "a key policy's own key is '*'",
    "WorkloadLookupsDecryptThroughS3": "a key policy's own key is '*'",
    "WorkloadEndpointsDecryptThroughS3": "a key policy's own key is '*'",
    "EventBridgeUsesKey": "a key policy's own key is '*'",
    "CloudWatchUsesKey": "a key policy's own key is '*'",
    "DenyJobsWithoutVolumeKey": "a deny guard over all jobs",
    "DenyJobsOutsideVpc": "a deny guard over all jobs",
    "DenyJobsWithoutNetworkIsolation": "a deny guard over all jobs",
    "Unscoped": "the CI boundary caps kms:TagResource on every key: tagging a key on creation needs it (AWS KMS), "
                "and no statement trusts a key's tags without its key policy naming the role",
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
def test_no_wildcard_actions_are_allowed_but_the_ci_boundarys_configuration_reads(stack, stacks):
    for typ, name, doc in documents(stacks[stack]):
        # A permissions boundary may cap reads of configuration by verb prefix (and nothing else).
        prefixes = set(CONFIGURATION_READS) if typ == "aws:iam/policy:Policy" else set()
        for s in statements(doc):
            if s["Effect"] == "Allow":
                assert "NotAction" not in s, f"{typ} {name} {s.get('Sid')}"
                for action in as_list(s.get("Action", [])):
                    assert "*" not in action or action in prefixes, f"{typ} {name} {s.get('Sid')} allows {action}"


DATA_READS = ["s3:GetObject", "s3:GetObjectVersion", "dynamodb:GetItem", "dynamodb:BatchGetItem",
              "logs:GetLogEvents", "secretsmanager:GetSecretValue", "ssm:GetParameter"]


def test_the_boundarys_read_prefixes_are_read_verbs_that_reach_no_data():
    for prefix in CONFIGURATION_READS:
        service, _, name = prefix.partition(":")
        assert name.startswith(("Get", "List", "Describe")) and name.endswith("*") and name.count("*") == 1, prefix
        assert service and name != "*", prefix
        assert not [a for a in DATA_READS if fnmatchcase(a, prefix)], prefix


@pytest.mark.parametrize("stack", STACKS)
def test_star_resources_are_only_the_documented_ones(stack, stacks):
    for typ, name, doc in documents(stacks[stack]):
        for s in statements(doc):
            if "*" in as_list(s.get("Resource", [])):
                assert s.get("Sid") in STAR_RESOURCE_ALLOWED or not scoped(as_list(s["Action"])), \
                    f"{typ} {name} {s.get('Sid')} uses Resource '*' for {scoped(as_list(s['Action']))}"


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


@pytest.mark.parametrize("stack", STACKS)
def test_eventbridge_may_use_the_notification_key_as_aws_documents_it(stack, stacks):
    # Without aws:SourceAccount: EventBridge's KMS requests for an encrypted topic or queue may
    # not carry it, and every alert and dead letter would fail silently (EventBridge guide).
    key = stacks[stack].one("aws:kms/key:Key", "notifications-key").json("policy")
    [events] = [s for s in statements(key) if s.get("Sid") == "EventBridgeUsesKey"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"} and "Condition" not in events
    assert sorted(events["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_bucket_refuses_writes_with_another_key(stack, stacks):
    run = stacks[stack]
    for policy in run.of_type("aws:s3/bucketPolicy:BucketPolicy"):
        denies = {s["Sid"]: s for s in statements(policy.json("policy")) if s["Effect"] == "Deny"}
        other_key = denies["DenyOtherEncryptionKeys"]["Condition"]["StringNotEquals"]
        assert other_key["s3:x-amz-server-side-encryption-aws-kms-key-id"].startswith("arn:aws:kms:")
        assert denies["DenyEncryptionOtherThanKms"]["Condition"]["StringNotEquals"] == {
            "s3:x-amz-server-side-encryption": "aws:kms"}
