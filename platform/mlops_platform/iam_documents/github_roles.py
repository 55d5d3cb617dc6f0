"""What the GitHub roles may do: the OIDC trusts, the deploy, preview and model-approver roles.

Every statement names its actions (no wildcards) and is scoped to this stack's name prefix,
its one bucket, exact role ARNs or the central group. The few `Resource: "*"` statements are
actions AWS offers without resource-level permissions (`mlops_facts.unscoped`).

What CI may change is what the stack manages, minus the trust anchors: the OIDC provider, the
boundaries, the GitHub roles and their policies, and the central group's policy change only in
an administrator's run. CI administers and uses the stack's keys only through their key
policies, which name the deploy role (`key_statements`): a tag, which CI can set on any key it
creates, grants nothing here, so tagging someone else's key takes nothing over.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ml.contract import CODE_ROOT, EVALUATION_FILE, batch_data_prefix, training_data_prefix
from ml.contract import SEED_OBJECTS as SEEDED
from mlops_platform import iam
from mlops_platform.iam_documents.scope import GITHUB_OIDC_HOST, Scope
from mlops_platform.iam_documents.serving import (
    ENDPOINT_READS,
    SCALING_READS,
    sagemaker_resources,
    scalable_targets,
    serving_statements,
)

if TYPE_CHECKING:  # documents are plain data: pulumi is only a type here
    import pulumi

GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
# Services the stack's roles are passed to (SageMaker jobs, Lambda functions, EventBridge targets).
PASSED_TO = ["events.amazonaws.com", "lambda.amazonaws.com", "sagemaker.amazonaws.com"]
# Objects a workload stack uploads and therefore must read back on refresh: step scripts,
# Lambda packages and (with firstTrainingRun) the seed data derived from each model's data file.
CODE_OBJECTS = f"{CODE_ROOT}*"


def _seed_patterns() -> tuple[str, ...]:
    """Every model's seed files by two patterns each, never one key per model: the first model's
    keys as they were (`datasets/training/initial_train.data`) and every other model's
    (`datasets/*/training/initial_train.data`, `*` being its name). Only these file names: a
    data set landed under the same prefixes stays out of the deploy role's reach."""
    out = set(SEEDED.values())
    for key in SEEDED.values():
        for first, other in ((training_data_prefix(None), training_data_prefix("*")),
                             (batch_data_prefix(None), batch_data_prefix("*"))):
            if key.startswith(first):
                out.add(other + key[len(first):])
    return tuple(sorted(out))


SEED_OBJECTS = _seed_patterns()
# What the deploy role does to the stack's keys, granted by the keys' own policies.
KEY_ADMINISTRATION = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
    "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource",
    "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
]
# S3 (uploads into the CMK-encrypted bucket), DynamoDB (table encryption) and SageMaker (endpoint
# volumes) use a key on the deployer's behalf; nothing else may.
KEY_USE_BY_SERVICES = ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey"]
# Pipelines the deploy role manages; stopping their executions lets DeletePipeline succeed.
PIPELINE_ACTIONS = ["sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:DeletePipeline",
                    "sagemaker:DeleteTags", "sagemaker:DescribePipelineExecution",
                    "sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution",
                    "sagemaker:StopPipelineExecution", "sagemaker:UpdatePipeline"]


def web_identity_trust(scope: Scope, sid: str, subjects: list[str]) -> str:
    """Trust for GitHub's OIDC tokens of exactly these `sub` claims (StringEquals, no wildcard)."""
    return iam.document({
        "Sid": sid, "Effect": "Allow", "Principal": {"Federated": scope.oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                                       f"{GITHUB_OIDC_HOST}:sub": sorted(subjects) if len(subjects) > 1
                                       else subjects[0]}},
    })


def managed_objects(s: Scope) -> list[str]:
    keys = [CODE_OBJECTS, *(SEED_OBJECTS if s.seed_data else ())]
    return [f"{s.bucket}/{k}" for k in keys]


def read_statements(s: Scope) -> list[iam.Statement]:
    """Describe/Get/List on what the stack manages: enough for `pulumi preview --refresh`.

    No data: objects are readable only where the stack uploaded them (code, seed copies of
    the public UCI file); no kms:Decrypt, since reading configuration needs none.
    """
    out = [
        iam.allow("ReadKeys", ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                               "kms:ListResourceTags"], s.keys),
        iam.allow("ListKeyAliases", ["kms:ListAliases"], "*"),
        iam.allow("ReadBuckets", [
            "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation",
            "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
            "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment",
            "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetBucketWebsite",
            "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
            "s3:ListBucket"], s.bucket),
        iam.allow("ReadRoles", ["iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
                                "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:ListRoleTags"],
                  s.roles),
        iam.allow("ReadPolicies", ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags",
                                   "iam:ListPolicyVersions"],
                  [s.ci_boundary_arn] + ([] if s.is_registry else [s.workload_boundary_arn])),
        iam.allow("ReadOidcProvider", ["iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags"],
                  s.oidc_provider_arn),
        iam.allow("ReadTopics", ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
                                 "sns:ListTagsForResource"], s.arn("sns", f"{s.pre}-*")),
        # SNS subscription calls support no resource-level permissions.
        iam.allow("ReadSubscriptions", ["sns:GetSubscriptionAttributes"], "*"),
        iam.allow("ReadQueues", ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
                  s.arn("sqs", f"{s.pre}-*")),
        iam.allow("ReadAlarms", ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
                  s.arn("cloudwatch", f"alarm:{s.pre}-*")),
        iam.allow("ReadRules", ["events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule"],
                  s.arn("events", f"rule/{s.pre}-*")),
    ]
    if s.is_registry:
        return out + [iam.allow("ReadModelPackageGroup", [
            "sagemaker:DescribeModelPackageGroup", "sagemaker:GetModelPackageGroupPolicy", "sagemaker:ListTags"],
            s.groups_arn)]
    return out + [
        iam.allow("ReadManagedObjects", ["s3:GetObject", "s3:GetObjectTagging"], managed_objects(s)),
        iam.allow("ReadPipelines", ["sagemaker:DescribePipeline", "sagemaker:ListTags"], sagemaker_resources(s)),
        iam.allow("ReadFunctions", [
            "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConfiguration",
            "lambda:GetFunctionEventInvokeConfig", "lambda:GetPolicy", "lambda:ListTags",
            "lambda:ListVersionsByFunction"], s.arn("lambda", f"function:{s.pre}-*")),
        iam.allow("ReadLogGroups", ["logs:ListTagsForResource"], s.arn("logs", f"log-group:/aws/lambda/{s.pre}-*")),
        # DescribeLogGroups is a list call with no resource-level permissions.
        iam.allow("DescribeLogGroups", ["logs:DescribeLogGroups"], "*"),
        iam.allow("ReadTables", ["dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable",
                                 "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"],
                  s.arn("dynamodb", f"table/{s.pre}-*")),
        iam.allow("ReadEndpoints", ENDPOINT_READS, sagemaker_resources(s)),
        # List calls with no resource-level permissions.
        iam.allow("ReadScaling", SCALING_READS, "*"),
        iam.allow("ReadScalingTags", ["application-autoscaling:ListTagsForResource"], scalable_targets(s)),
    ]


def manage_statements(s: Scope) -> list[iam.Statement]:
    """Create/update/delete of what the stack manages, trust anchors excepted."""
    request_tags = {"StringEquals": {k.replace("ResourceTag", "RequestTag"): v for k, v in s.stack_tags.items()}}
    bucket_actions = ["s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketOwnershipControls",
                      "s3:DeleteBucketPolicy", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
                      "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
                      "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration"]
    out = [
        # CreateKey has no key ARN yet: the request must carry this stack's tags. Tagging on
        # creation needs kms:TagResource on every key of the account (AWS KMS guide, "Controlling
        # access to tags"): it grants nothing else here, since no statement trusts a key's tags.
        iam.allow("CreateStackKeys", ["kms:CreateKey"], "*", Condition=request_tags),
        iam.allow("TagKeysOnCreation", ["kms:TagResource"], s.keys, Condition=request_tags),
        iam.allow("ManageStackAliases", ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
                  s.arn("kms", f"alias/{s.pre}-*")),
        iam.allow("ManageBucket", bucket_actions + ([] if s.retain_data else ["s3:ListBucketVersions"]), s.bucket),
        iam.allow("ManageTopics", ["sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe",
                                   "sns:TagResource", "sns:UntagResource"], s.arn("sns", f"{s.pre}-*")),
        # SNS subscription calls support no resource-level permissions (the subscription ARN
        # does not exist before Subscribe returns it).
        iam.allow("ManageSubscriptions", ["sns:SetSubscriptionAttributes", "sns:Unsubscribe"], "*"),
        iam.allow("ManageQueues", ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue",
                                   "sqs:UntagQueue"], s.arn("sqs", f"{s.pre}-*")),
        iam.allow("ManageAlarms", ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource",
                                   "cloudwatch:UntagResource"], s.arn("cloudwatch", f"alarm:{s.pre}-*")),
        iam.allow("ManageRules", ["events:DeleteRule", "events:DisableRule", "events:EnableRule", "events:PutRule",
                                  "events:PutTargets", "events:RemoveTargets", "events:TagResource",
                                  "events:UntagResource"], s.arn("events", f"rule/{s.pre}-*")),
    ]
    if s.is_registry:
        # Every model's group; their policies, and deleting a group, stay with an administrator
        # (trust anchors): onboarding a model takes one administrator's run of the registry stack.
        return out + [iam.allow("ManageModelPackageGroup", [
            "sagemaker:AddTags", "sagemaker:CreateModelPackageGroup", "sagemaker:DeleteTags"], s.groups_arn)]
    return out + service_role_statements(s) + workload_statements(s)


def service_role_statements(s: Scope) -> list[iam.Statement]:
    """The workload's service roles, by exact name, and each served model's role (one pattern),
    only ever with the workload boundary. A serving role is passed to SageMaker only."""
    bounded = {"StringEquals": {"iam:PermissionsBoundary": s.workload_boundary_arn}}
    roles = [*s.service_roles, s.serving_roles]
    return [
        iam.allow("ServiceRolesOnlyWithTheWorkloadBoundary", ["iam:CreateRole", "iam:DeleteRolePolicy",
                                                              "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"],
                  roles, Condition=bounded),
        # No iam:UpdateAssumeRolePolicy: a service role's trust changes only in an administrator's run.
        iam.allow("ManageServiceRoles", ["iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole",
                                         "iam:UpdateRoleDescription"], roles),
        iam.allow("PassServiceRoles", ["iam:PassRole"], s.service_roles,
                  Condition={"StringEquals": {"iam:PassedToService": PASSED_TO}}),
        iam.allow("PassServingRolesToSageMaker", ["iam:PassRole"], s.serving_roles,
                  Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
    ]


def workload_statements(s: Scope) -> list[iam.Statement]:
    out = [
        iam.allow("UploadManagedObjects", ["s3:DeleteObject", "s3:PutObject", "s3:PutObjectTagging"],
                  managed_objects(s)),
        # Pipelines and their executions (`pipeline/<name>/execution/<id>`), by the stack's prefix.
        iam.allow("ManagePipelines", PIPELINE_ACTIONS, sagemaker_resources(s)),
        iam.allow("ManageFunctions", [
            "lambda:AddPermission", "lambda:CreateFunction", "lambda:DeleteFunction",
            "lambda:DeleteFunctionEventInvokeConfig", "lambda:PutFunctionEventInvokeConfig",
            "lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource", "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration", "lambda:UpdateFunctionEventInvokeConfig"],
            s.arn("lambda", f"function:{s.pre}-*")),
        iam.allow("ManageLogGroups", ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
                                      "logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource"],
                  s.arn("logs", f"log-group:/aws/lambda/{s.pre}-*")),
        iam.allow("ManageTables", ["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:TagResource",
                                   "dynamodb:UntagResource", "dynamodb:UpdateContinuousBackups",
                                   "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive"],
                  s.arn("dynamodb", f"table/{s.pre}-*")),
        *serving_statements(s),
    ]
    if not s.retain_data:
        # `pulumi destroy` empties a disposable (dev) bucket before deleting it.
        out.append(iam.allow("EmptyDisposableBucket", ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                             f"{s.bucket}/*"))
    return out


def approver_statements(s: Scope) -> list[iam.Statement]:
    """Approve or reject versions of the registry's groups (every model's), after verifying the
    version's model archive: read it, compare its sha256 with the version's `model_data_sha256`,
    and tag exactly the object version it read as verified (the only role the registry bucket
    lets set that tag; endpoints read only tagged archives). The archive is decrypted through S3
    with the artifacts key, whose policy leaves its own account to IAM."""
    models = f"{s.bucket}/{s.models_prefix('*')}/*"
    return [
        iam.allow("ApproveModelPackages", ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                  s.packages_arn),
        iam.allow("DescribeModelPackageGroup", ["sagemaker:DescribeModelPackageGroup"], s.groups_arn),
        iam.allow("ListPackages", ["sagemaker:ListModelPackages"], "*"),
        iam.allow("VerifyAndTagModelArchives", ["s3:GetObject", "s3:PutObjectVersionTagging"], models),
        iam.allow("DecryptModelArchives", ["kms:Decrypt"], s.keys, Condition={"StringEquals": {
            **s.stack_tags, "kms:ViaService": f"s3.{s.region}.amazonaws.com"}}),
    ]


def reviewer_statements(s: Scope) -> list[iam.Statement]:
    """Show a version to its approvers: describe versions and read their metrics file, nothing
    else (approve-model.yml, before the approval job asks its reviewers). The metrics are read
    through S3 with the artifacts key, whose policy leaves its own account to IAM."""
    return [
        iam.allow("DescribeModelVersions", ["sagemaker:DescribeModelPackage"], s.packages_arn),
        iam.allow("DescribeModelPackageGroup", ["sagemaker:DescribeModelPackageGroup"], s.groups_arn),
        iam.allow("ListPackages", ["sagemaker:ListModelPackages"], "*"),
        iam.allow("ReadMetricsFiles", ["s3:GetObject"], f"{s.bucket}/{s.models_prefix('*')}/{EVALUATION_FILE}"),
        iam.allow("DecryptMetricsFiles", ["kms:Decrypt"], s.keys, Condition={"StringEquals": {
            **s.stack_tags, "kms:ViaService": f"s3.{s.region}.amazonaws.com"}}),
    ]


def key_statements(s: Scope, deploy_role_arn: pulumi.Input[str]) -> list[iam.Statement]:
    """Key-policy statements naming the stack's deploy role: how CI administers and uses a key.

    Named directly (not through the account), so no IAM policy grants it: a key of someone
    else that CI tagged is still out of its reach.
    """
    # SageMaker: an endpoint configuration encrypts the endpoint's volumes with the data key.
    services = [f"{svc}.{s.region}.amazonaws.com" for svc in ("dynamodb", "s3", "sagemaker")]
    administer = iam.allow("DeployRoleAdministersKey", KEY_ADMINISTRATION, "*", Principal={"AWS": deploy_role_arn})
    if s.is_registry:  # the registry's deploy uploads nothing and has no table: it never uses a key
        return [administer]
    return [administer, iam.allow("DeployRoleUsesKeyThroughServices", KEY_USE_BY_SERVICES, "*",
                                  Principal={"AWS": deploy_role_arn},
                                  Condition={"StringEquals": {"kms:ViaService": services}})]


def deploy_document(s: Scope) -> str:
    # Manage statements first, so a merged statement keeps the name of what it changes.
    return iam.document(*iam.merged(*manage_statements(s), *read_statements(s)))


def preview_document(s: Scope) -> str:
    return iam.document(*read_statements(s))


def approver_document(s: Scope) -> str:
    return iam.document(*approver_statements(s))


def reviewer_document(s: Scope) -> str:
    return iam.document(*reviewer_statements(s))
