"""GitHub OIDC on the AWS side: each account trusts GitHub's issuer for STS only; each role
trusts exact `sub` claims of this repository; the deploy role manages only this stack and
only creates roles under the boundary; the preview role reads configuration, never data."""
from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from mlops_facts.unscoped import scoped
from mlops_platform.iam_documents.serving import SCALING_SERVICE
from tests.support.policies import as_list, statements

STACKS = ["registry", "dev", "prod"]
ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
REPO = "repo:example-org/mlops-platform"
HOST = "token.actions.githubusercontent.com"

# Resource type -> the call that creates it: the deploy role must be allowed each one.
CREATE_ACTIONS = {
    "aws:cloudwatch/eventRule:EventRule": "events:PutRule",
    "aws:cloudwatch/eventTarget:EventTarget": "events:PutTargets",
    "aws:cloudwatch/logGroup:LogGroup": "logs:CreateLogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "cloudwatch:PutMetricAlarm",
    "aws:dynamodb/table:Table": "dynamodb:CreateTable",
    "aws:iam/role:Role": "iam:CreateRole",
    "aws:iam/rolePolicy:RolePolicy": "iam:PutRolePolicy",
    "aws:kms/alias:Alias": "kms:CreateAlias",
    "aws:kms/key:Key": "kms:CreateKey",
    "aws:lambda/function:Function": "lambda:CreateFunction",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "lambda:PutFunctionEventInvokeConfig",
    "aws:lambda/permission:Permission": "lambda:AddPermission",
    "aws:s3/bucket:Bucket": "s3:CreateBucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "aws:s3/bucketObjectv2:BucketObjectv2": "s3:PutObject",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy": "s3:PutBucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        "s3:PutEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning": "s3:PutBucketVersioning",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "sagemaker:CreateModelPackageGroup",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": "sagemaker:PutModelPackageGroupPolicy",
    # A served model's endpoint (only where a stack pins a version: tests/platform/test_serving_stacks.py).
    "aws:sagemaker/model:Model": "sagemaker:CreateModel",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": "sagemaker:CreateEndpointConfig",
    "aws:sagemaker/endpoint:Endpoint": "sagemaker:CreateEndpoint",
    "aws:appautoscaling/target:Target": "application-autoscaling:RegisterScalableTarget",
    "aws:appautoscaling/policy:Policy": "application-autoscaling:PutScalingPolicy",
    "aws:sns/topic:Topic": "sns:CreateTopic",
    "aws:sns/topicPolicy:TopicPolicy": "sns:SetTopicAttributes",
    "aws:sns/topicSubscription:TopicSubscription": "sns:Subscribe",
    "aws:sqs/queue:Queue": "sqs:CreateQueue",
    "aws:sqs/queuePolicy:QueuePolicy": "sqs:SetQueueAttributes",
    "pulumi-python:dynamic/mlops:SageMakerPipeline": "sagemaker:CreatePipeline",
    # Marks superseded step scripts: CopyObject onto itself with a tag (ml/superseded_code.py).
    "pulumi-python:dynamic/mlops:SupersededCode": "s3:PutObject",
}
# Trust anchors: created by the administrator's bootstrap, never by CI.
ADMIN_ONLY = {"aws:iam/openIdConnectProvider:OpenIdConnectProvider": "iam:CreateOpenIDConnectProvider",
              "aws:iam/policy:Policy": "iam:CreatePolicy"}
# Verbs that only read: the preview role may use nothing else.
READ_VERBS = ("Describe", "Get", "List")
# What would let a role escape the boundary or take over GitHub's trust.
ESCALATIONS = [
    "iam:AddClientIDToOpenIDConnectProvider", "iam:AttachRolePolicy", "iam:CreateAccessKey",
    "iam:CreateOpenIDConnectProvider", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:CreateUser",
    "iam:DeleteOpenIDConnectProvider", "iam:DeletePolicy", "iam:DeleteRolePermissionsBoundary",
    "iam:SetDefaultPolicyVersion", "iam:UpdateOpenIDConnectProviderThumbprint", "sts:AssumeRole",
]


def _role(run, purpose):
    stack = run.outputs["role"]
    return run.one("aws:iam/role:Role", f"github-{purpose}") if purpose else None, \
        f"arn:aws:iam::{ACCOUNTS[stack]}:role/mlops-{stack}-github-{purpose}"


def _policy(run, key):
    return run.one("aws:iam/rolePolicy:RolePolicy", f"github-{key}").json("policy")


def _allowed(doc):
    return {a for s in statements(doc) if s["Effect"] == "Allow" for a in as_list(s.get("Action"))}


def _boundary(run):
    return run.one("aws:iam/policy:Policy", "permissions-boundary")


def _trust(run, key):
    doc = run.one("aws:iam/role:Role", f"github-{key}").json("assumeRolePolicy")
    assert len(statements(doc)) == 1
    return statements(doc)[0]


@pytest.mark.parametrize("stack", STACKS)
def test_each_account_trusts_githubs_issuer_for_sts_only(stack, stacks):
    provider = stacks[stack].one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{HOST}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_role_trusts_exactly_this_stacks_environment(stack, stacks):
    trust = _trust(stacks[stack], "deploy")
    assert trust["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNTS[stack]}:oidc-provider/{HOST}"}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com",
                                                   f"{HOST}:sub": f"{REPO}:environment:{stack}"}}


@pytest.mark.parametrize("stack", STACKS)
def test_preview_role_trusts_pull_requests_and_main_only(stack, stacks):
    trust = _trust(stacks[stack], "preview")
    assert trust["Condition"] == {"StringEquals": {
        f"{HOST}:aud": "sts.amazonaws.com",
        f"{HOST}:sub": [f"{REPO}:pull_request", f"{REPO}:ref:refs/heads/main"]}}


@pytest.mark.parametrize("stack", STACKS)
def test_no_github_trust_uses_patterns(stack, stacks):
    trusts = [s for r in stacks[stack].of_type("aws:iam/role:Role")
              for s in statements(r.json("assumeRolePolicy")) if "Federated" in s["Principal"]]
    assert len(trusts) == (4 if stack == "registry" else 2)
    for t in trusts:
        assert set(t["Condition"]) == {"StringEquals"}, "never StringLike"
        equals = t["Condition"]["StringEquals"]
        values = [equals[f"{HOST}:aud"], *as_list(equals[f"{HOST}:sub"])]
        assert all("*" not in v and "?" not in v for v in values)


def test_model_approver_can_only_approve_versions_of_the_registrys_groups(registry):
    trust = _trust(registry, "model-approver")
    assert trust["Condition"]["StringEquals"][f"{HOST}:sub"] == f"{REPO}:environment:model-approval"
    doc = _policy(registry, "model-approver")
    assert _allowed(doc) == {"sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage",
                             "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages",
                             "s3:GetObject", "s3:PutObjectVersionTagging", "kms:Decrypt"}
    # Before approving, it reads a version's model archive and tags the object version it checked
    # (approve-model.yml): on the registry's models only, decrypting through S3 only.
    [archives] = [s for s in statements(doc) if "s3:PutObjectVersionTagging" in as_list(s["Action"])]
    assert archives["Resource"] == "arn:aws:s3:::mlops-registry-artifacts-111111111111-eu-west-1/models/*/*"
    [decrypt] = [s for s in statements(doc) if as_list(s["Action"]) == ["kms:Decrypt"]]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    update = [s for s in statements(doc) if "sagemaker:UpdateModelPackage" in as_list(s["Action"])]
    # Every model's versions, by one pattern of the registry account (which holds only the
    # platform's groups): the approver approves any model, and the document never grows.
    assert [s["Resource"] for s in update] == ["arn:aws:sagemaker:eu-west-1:111111111111:model-package/*"]
    for group in registry.outputs["modelPackageGroups"].values():
        assert fnmatchcase(group["arn"].replace("-group/", "/") + "/7", update[0]["Resource"])


def test_the_model_reviewer_trusts_main_and_only_reads_versions_and_their_metrics(registry):
    trust = _trust(registry, "model-reviewer")
    assert trust["Condition"]["StringEquals"][f"{HOST}:sub"] == f"{REPO}:ref:refs/heads/main"
    doc = _policy(registry, "model-reviewer")
    assert _allowed(doc) == {"sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
                             "sagemaker:ListModelPackages", "s3:GetObject", "kms:Decrypt"}
    [metrics] = [s for s in statements(doc) if s["Action"] == ["s3:GetObject"]]
    bucket = "arn:aws:s3:::mlops-registry-artifacts-111111111111-eu-west-1"
    assert metrics["Resource"] == f"{bucket}/models/*/evaluation.json"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_workload_accounts_have_no_model_approver(stack, stacks):
    assert not [r for r in stacks[stack].of_type("aws:iam/role:Role") if "approver" in r.inputs["name"]]


def _boundary_arn(stack, purpose="permissions-boundary"):
    return f"arn:aws:iam::{ACCOUNTS[stack]}:policy/mlops-{stack}-{purpose}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_role_carries_a_boundary_the_github_roles_the_ci_one(stack, stacks):
    assert _boundary(stacks[stack]).inputs["name"] == f"mlops-{stack}-permissions-boundary"
    roles = stacks[stack].of_type("aws:iam/role:Role")
    assert len(roles) >= 3
    workload = _boundary_arn(stack, "permissions-boundary" if stack == "registry" else "workload-boundary")
    expected = {r.inputs["name"]: _boundary_arn(stack) if r.name.startswith("github-") else workload for r in roles}
    assert {r.inputs["name"]: r.inputs.get("permissionsBoundary") for r in roles} == expected
    assert len(stacks[stack].of_type("aws:iam/policy:Policy")) == (1 if stack == "registry" else 2)


@pytest.mark.parametrize("stack", STACKS)
def test_github_sessions_outlast_the_longest_ci_job_and_service_roles_keep_an_hour(stack, stacks):
    for role in stacks[stack].of_type("aws:iam/role:Role"):
        expected = 7200 if role.name in ("github-deploy", "github-preview", "github-model-approver") else 3600
        assert role.inputs.get("maxSessionDuration", 3600) == expected, role.name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_role_creates_and_changes_only_the_service_roles_and_only_with_the_workload_boundary(stack, stacks):
    workload = _boundary_arn(stack, "workload-boundary")
    # The four service roles by name, and every served model's role by one pattern.
    service_roles = sorted(f"arn:aws:iam::{ACCOUNTS[stack]}:role/mlops-{stack}-{purpose}" for purpose in (
        "sagemaker-execution", "model-lookup-lambda", "retrain-gate-lambda", "events-invoke", "serving-*"))
    gated = {"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy"}
    found = set()
    for s in statements(_policy(stacks[stack], "deploy")):
        actions = set(as_list(s["Action"]))
        writes = {a for a in actions if a.startswith("iam:") and not a.split(":")[1].startswith(READ_VERBS)}
        if writes == {"iam:PassRole"}:  # each to its services; serving roles to SageMaker only
            assert set(as_list(s["Resource"])) <= set(service_roles), s["Sid"]
        elif writes == {"iam:CreateServiceLinkedRole"}:  # autoscaling's own role, nothing else
            assert s["Condition"] == {"StringEquals": {"iam:AWSServiceName": SCALING_SERVICE}}, s["Sid"]
        elif writes:
            assert s["Resource"] == service_roles, s["Sid"]
        if gated & actions:
            assert s["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": workload}}, s["Sid"]
            found |= gated & actions
    assert found == gated
    assert "iam:UpdateAssumeRolePolicy" not in _allowed(_policy(stacks[stack], "deploy"))
    deny = [s for s in statements(_boundary(stacks[stack]).json("policy"))
            if s["Sid"] == "NoRoleWithoutTheWorkloadBoundary"]
    assert deny[0]["Effect"] == "Deny"
    assert deny[0]["Condition"] == {"StringNotEquals": {"iam:PermissionsBoundary": workload}}


def test_the_registry_deploy_role_changes_no_role_and_no_group_policy(registry):
    allowed = _allowed(_policy(registry, "deploy"))
    assert not [a for a in allowed if a.startswith("iam:") and not a.split(":")[1].startswith(READ_VERBS)]
    assert not {"sagemaker:PutModelPackageGroupPolicy", "sagemaker:DeleteModelPackageGroupPolicy",
                "sagemaker:DeleteModelPackageGroup"} & allowed


@pytest.mark.parametrize("stack", STACKS)
def test_no_boundary_allows_an_escalation_and_the_ci_one_guards_every_github_role(stack, stacks):
    for policy in stacks[stack].of_type("aws:iam/policy:Policy"):
        allowed = _allowed(policy.json("policy"))  # the CI boundary caps reads by prefix: match patterns
        assert not [e for e in ESCALATIONS for a in allowed if fnmatchcase(e, a)], policy.name
    guard = [s for s in statements(_boundary(stacks[stack]).json("policy"))
             if s["Sid"] == "TrustAnchorsNeedAnAdministrator"][0]
    assert guard["Effect"] == "Deny"
    assert guard["Resource"] == f"arn:aws:iam::{ACCOUNTS[stack]}:role/mlops-{stack}-github-*"
    for role in stacks[stack].of_type("aws:iam/role:Role"):
        arn = f"arn:aws:iam::{ACCOUNTS[stack]}:role/{role.inputs['name']}"
        assert fnmatchcase(arn, guard["Resource"]) == role.name.startswith("github-"), arn
    # Everything but reading them: every write IAM has (or adds), passing or assuming them.
    for action in ("iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRole", "iam:DeleteRolePolicy",
                   "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DeleteRolePermissionsBoundary",
                   "iam:PassRole", "sts:AssumeRole", "iam:SomeWriteAddedLater"):
        assert not any(fnmatchcase(action, p) for p in guard["NotAction"]), action
    assert all(p.split(":")[1].startswith(("Get", "List")) for p in guard["NotAction"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_workload_boundary_writes_no_iam_key_policy_or_bucket_policy(stack, stacks):
    allowed = _allowed(stacks[stack].one("aws:iam/policy:Policy", "workload-boundary").json("policy"))
    assert [a for a in allowed if a.startswith("iam:")] == ["iam:PassRole"]
    assert not {"kms:PutKeyPolicy", "kms:CreateKey", "kms:TagResource", "kms:ScheduleKeyDeletion",
                "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "sagemaker:UpdateModelPackage"} & allowed


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_role_may_create_every_resource_type_the_stack_manages_but_no_trust_anchor(stack, stacks):
    from mlops_platform.components.github_oidc import TRUST_ANCHORS, is_trust_anchor

    allowed = _allowed(_policy(stacks[stack], "deploy"))
    anchors = {(r.type, r.name) for r in stacks[stack].custom() if is_trust_anchor(r.type, r.name)}
    assert {(r.type, r.name) for r in stacks[stack].custom()} & TRUST_ANCHORS <= anchors
    for typ, _name in anchors:
        if typ in ADMIN_ONLY:
            assert ADMIN_ONLY[typ] not in allowed
    managed = {r.type for r in stacks[stack].custom() if not is_trust_anchor(r.type, r.name)}
    for typ in sorted(t for t in managed if not t.startswith(("github:", "pulumi:providers"))):
        assert typ in CREATE_ACTIONS, f"{typ} is new: map it here and allow it in iam_documents/github_roles.py"
        assert CREATE_ACTIONS[typ] in allowed, f"deploy role cannot create {typ}"


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_role_writes_only_this_stacks_resources(stack, stacks):
    prefix, account = f"mlops-{stack}-", ACCOUNTS[stack]
    for s in statements(_policy(stacks[stack], "deploy")):
        if s["Effect"] != "Allow" or all(a.split(":")[1].startswith(READ_VERBS) for a in as_list(s["Action"])):
            continue
        for resource in as_list(s["Resource"]):
            tagged = s.get("Condition", {}).get("StringEquals", {}).get("aws:ResourceTag/stack") == stack
            by_request = s.get("Condition", {}).get("StringEquals", {}).get("aws:RequestTag/stack") == stack
            # "*" only where AWS has no resource-level permission, as documented in test_hardening.
            unscopable = resource == "*" and not scoped(as_list(s["Action"]))
            # The registry account's groups by pattern: every model's (their policies stay anchors).
            # Scalable targets (ARNs end in an id AWS makes): only SageMaker's, or only their tags.
            tags_only = all(a.split(":")[1] in ("ListTagsForResource", "TagResource", "UntagResource")
                            for a in as_list(s["Action"]))
            scaling = resource.endswith(":scalable-target/*") and (tags_only or s.get("Condition") == {
                "StringEquals": {"application-autoscaling:service-namespace": "sagemaker"}})
            linked = s.get("Condition") == {"StringEquals": {"iam:AWSServiceName": SCALING_SERVICE}} \
                and resource.endswith(f":role/aws-service-role/{SCALING_SERVICE}/*")
            assert (prefix in resource or tagged or by_request or unscopable or scaling or linked
                    or (stack == "registry" and resource.endswith(":model-package-group/*"))
                    or (s["Sid"] == "ManageStackAliases" and resource == f"arn:aws:kms:eu-west-1:{account}:key/*")), \
                f"{s['Sid']} writes {resource}"
            assert f":{account}:" in resource or resource.startswith(f"arn:aws:s3:::{prefix}") or resource == "*"


@pytest.mark.parametrize("stack", STACKS)
def test_preview_role_only_reads(stack, stacks):
    doc = _policy(stacks[stack], "preview")
    for action in _allowed(doc):
        assert action.split(":")[1].startswith(READ_VERBS), f"preview may {action}"
    assert "kms:Decrypt" not in _allowed(doc)
    assert not [r for r in stacks[stack].resources if r.type.endswith("rolePolicyAttachment:RolePolicyAttachment")]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_reads_the_objects_the_stack_uploads_and_no_other_data(stack, stacks):
    readable = [r for s in statements(_policy(stacks[stack], "preview"))
                if "s3:GetObject" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    bucket = stacks[stack].outputs["dataBucketName"]
    objects = stacks[stack].of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert objects
    for o in objects:  # `pulumi preview --refresh` reads each back (HeadObject needs s3:GetObject)
        assert any(fnmatchcase(f"arn:aws:s3:::{o.inputs['bucket']}/{o.inputs['key']}", p) for p in readable), o.name
    for key in ("datasets/batches/2025-01-01/batch.data", "reports/drift.json", "outputs/predictions.csv"):
        assert not any(fnmatchcase(f"arn:aws:s3:::{bucket}/{key}", p) for p in readable), key


def test_only_the_disposable_dev_stack_may_empty_its_bucket(stacks):
    for stack in STACKS:
        deletes = [s for s in statements(_policy(stacks[stack], "deploy"))
                   if "s3:DeleteObjectVersion" in as_list(s["Action"])]
        if stack == "dev":
            assert [s["Resource"] for s in deletes] == ["arn:aws:s3:::mlops-dev-data-222222222222-eu-west-1/*"]
        else:
            assert deletes == [], f"{stack} keeps its data"


@pytest.mark.parametrize("stack", STACKS)
def test_policies_fit_within_aws_size_limits(stack, stacks):
    run = stacks[stack]
    # Non-whitespace characters: managed policy 6144, all inline policies of a role 10240, trust 2048.
    size = lambda text: len("".join(text.split()))  # noqa: E731
    for policy in run.of_type("aws:iam/policy:Policy"):
        assert size(policy.inputs["policy"]) <= 6144, f"{policy.name} outgrew a managed policy"
    for role in run.of_type("aws:iam/role:Role"):
        assert size(role.inputs["assumeRolePolicy"]) <= 2048
    per_role: dict[str, int] = {}
    for p in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        per_role[p.inputs["role"]] = per_role.get(p.inputs["role"], 0) + size(p.inputs["policy"])
    assert per_role and max(per_role.values()) <= 10240, per_role


@pytest.mark.parametrize("stack", STACKS)
def test_role_arns_are_exported_for_people_and_other_tools(stack, stacks):
    out = stacks[stack].outputs
    assert out["githubDeployRoleArn"] == _role(stacks[stack], "deploy")[1]
    assert out["githubPreviewRoleArn"] == _role(stacks[stack], "preview")[1]
    assert ("githubModelApproverRoleArn" in out) == (stack == "registry")
    assert json.dumps(out, sort_keys=True)
