"""IAM documents of the GitHub control plane, as plain data: the OIDC trusts, what the
deploy, preview and model-approver roles may do, and the permissions boundary.

Every statement names its actions (no wildcards) and is scoped to this stack's name prefix
(`naming.prefix(role)`, e.g. `mlops-dev-*`), its tagged keys or exact ARNs. The few
`Resource: "*"` statements are actions AWS offers without resource-level permissions.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlops_platform import iam, naming
from mlops_platform.components.ml_code import SEED_OBJECTS as SEEDED
from mlops_platform.settings import Settings

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
BOUNDARY_PURPOSE = "permissions-boundary"
# Services the stack's roles are passed to (SageMaker jobs, Lambda functions, EventBridge targets).
PASSED_TO = ["events.amazonaws.com", "lambda.amazonaws.com", "sagemaker.amazonaws.com"]
# Objects a workload stack uploads and therefore must read back on refresh: step scripts,
# Lambda packages and (with firstTrainingRun) the seed data derived from the public UCI file.
CODE_OBJECTS = "code/*"
SEED_OBJECTS = tuple(sorted(SEEDED.values()))


@dataclass(frozen=True)
class Scope:
    """What one stack manages, named the way every policy here scopes it."""

    role: str
    stack: str
    project: str
    account: str
    region: str
    registry_account: str
    group_name: str
    retain_data: bool
    seed_data: bool

    @classmethod
    def of(cls, s: Settings) -> "Scope":
        return cls(role=s.role, stack=s.stack, project=s.project, account=s.account_id, region=s.region,
                   registry_account=s.accounts.registry, group_name=s.model_package_group_name,
                   retain_data=s.retain_data, seed_data=bool(s.workload and s.workload.first_training_run))

    @property
    def pre(self) -> str:
        return naming.prefix(self.role)

    @property
    def is_registry(self) -> bool:
        return self.role == "registry"

    def arn(self, service: str, resource: str, account: str | None = None) -> str:
        return f"arn:aws:{service}:{self.region}:{account or self.account}:{resource}"

    @property
    def oidc_provider_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:oidc-provider/{GITHUB_OIDC_HOST}"

    @property
    def boundary_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:policy/{naming.role_name(self.role, BOUNDARY_PURPOSE)}"

    def role_arn(self, purpose: str) -> str:
        return naming.role_arn(self.account, self.role, purpose)

    @property
    def roles(self) -> str:
        return f"arn:aws:iam::{self.account}:role/{self.pre}-*"

    @property
    def buckets(self) -> str:
        return f"arn:aws:s3:::{self.pre}-*"

    @property
    def managed_objects(self) -> list[str]:
        keys = [CODE_OBJECTS, *(SEED_OBJECTS if self.seed_data else ())]
        return [f"{self.buckets}/{k}" for k in keys]

    @property
    def group_arn(self) -> str:
        return naming.model_package_group_arn(self.region, self.account, self.group_name)

    @property
    def stack_tags(self) -> dict[str, str]:
        # Set on every key by the provider's default tags: they tell our keys from others.
        return {"aws:ResourceTag/project": self.project, "aws:ResourceTag/stack": self.stack}


def web_identity_trust(scope: Scope, sid: str, subjects: list[str]) -> str:
    """Trust for GitHub's OIDC tokens of exactly these `sub` claims (StringEquals, no wildcard)."""
    return iam.document({
        "Sid": sid, "Effect": "Allow", "Principal": {"Federated": scope.oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE,
                                       f"{GITHUB_OIDC_HOST}:sub": sorted(subjects) if len(subjects) > 1
                                       else subjects[0]}},
    })


def read_statements(s: Scope) -> list[iam.Statement]:
    """Describe/Get/List on what the stack manages: enough for `pulumi preview --refresh`.

    No data: objects are readable only where the stack uploaded them (code, seed copies of
    the public UCI file); no kms:Decrypt, since reading configuration needs none.
    """
    out = [
        iam.allow("ReadKeys", ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
                               "kms:ListResourceTags"], s.arn("kms", "key/*")),
        iam.allow("ListKeyAliases", ["kms:ListAliases"], "*"),
        iam.allow("ReadBuckets", [
            "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation",
            "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
            "s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment",
            "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetBucketWebsite",
            "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
            "s3:ListBucket"], s.buckets),
        iam.allow("ReadRoles", ["iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
                                "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:ListRoleTags"],
                  s.roles),
        iam.allow("ReadPolicies", ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags",
                                   "iam:ListPolicyVersions"], s.boundary_arn),
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
            s.group_arn)]
    return out + [
        iam.allow("ReadManagedObjects", ["s3:GetObject", "s3:GetObjectTagging"], s.managed_objects),
        iam.allow("ReadPipelines", ["sagemaker:DescribePipeline", "sagemaker:ListTags"],
                  s.arn("sagemaker", f"pipeline/{s.pre}-*")),
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
    ]


def manage_statements(s: Scope) -> list[iam.Statement]:
    """Create/update/delete of what the stack manages; reads come from `read_statements`."""
    keys, tagged = s.arn("kms", "key/*"), {"StringEquals": s.stack_tags}
    request_tags = {"StringEquals": {k.replace("ResourceTag", "RequestTag"): v for k, v in s.stack_tags.items()}}
    bucket_actions = ["s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketOwnershipControls",
                      "s3:DeleteBucketPolicy", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
                      "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
                      "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration"]
    out = [
        # CreateKey has no key ARN yet: the request must carry this stack's tags.
        iam.allow("CreateStackKeys", ["kms:CreateKey"], "*", Condition=request_tags),
        iam.allow("TagNewStackKeys", ["kms:TagResource"], keys, Condition=request_tags),
        iam.allow("ManageStackKeys", [
            "kms:CancelKeyDeletion", "kms:DisableKey", "kms:EnableKey", "kms:EnableKeyRotation",
            "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:UntagResource", "kms:UpdateKeyDescription"],
            keys, Condition=tagged),
        iam.allow("ManageStackAliases", ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
                  [s.arn("kms", f"alias/{s.pre}-*"), keys]),
        iam.allow("ManageBuckets", bucket_actions + ([] if s.retain_data else ["s3:ListBucketVersions"]), s.buckets),
        iam.allow("CreateRolesWithTheBoundary", ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], s.roles,
                  Condition={"StringEquals": {"iam:PermissionsBoundary": s.boundary_arn}}),
        iam.allow("ChangePoliciesOfBoundedRoles", ["iam:DeleteRolePolicy", "iam:PutRolePolicy"], s.roles,
                  Condition={"StringEquals": {"iam:PermissionsBoundary": s.boundary_arn}}),
        iam.allow("ManageRoles", ["iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy",
                                  "iam:UpdateRole", "iam:UpdateRoleDescription"], s.roles),
        iam.allow("PassRolesToServices", ["iam:PassRole"], s.roles,
                  Condition={"StringEquals": {"iam:PassedToService": PASSED_TO}}),
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
        return out + [iam.allow("ManageModelPackageGroup", [
            "sagemaker:AddTags", "sagemaker:CreateModelPackageGroup", "sagemaker:DeleteModelPackageGroup",
            "sagemaker:DeleteModelPackageGroupPolicy", "sagemaker:DeleteTags", "sagemaker:PutModelPackageGroupPolicy"],
            s.group_arn)]
    out += [
        iam.allow("UploadManagedObjects", ["s3:DeleteObject", "s3:PutObject", "s3:PutObjectTagging"],
                  s.managed_objects),
        # S3 (uploads into the CMK-encrypted bucket) and DynamoDB (table encryption) use the
        # stack's keys on the deployer's behalf; nothing else may.
        iam.allow("ServicesUseStackKeys", ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey"], keys,
                  Condition={"StringEquals": {**s.stack_tags, "kms:ViaService": [
                      f"dynamodb.{s.region}.amazonaws.com", f"s3.{s.region}.amazonaws.com"]}}),
        iam.allow("ManagePipelines", ["sagemaker:AddTags", "sagemaker:CreatePipeline", "sagemaker:DeletePipeline",
                                      "sagemaker:DeleteTags", "sagemaker:StartPipelineExecution",
                                      "sagemaker:UpdatePipeline"], s.arn("sagemaker", f"pipeline/{s.pre}-*")),
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
    ]
    if not s.retain_data:
        # `pulumi destroy` empties a disposable (dev) bucket before deleting it.
        out.append(iam.allow("EmptyDisposableBuckets", ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                             f"{s.buckets}/*"))
    return out


def approver_statements(s: Scope) -> list[iam.Statement]:
    """Approve or reject versions of the central group; nothing else."""
    return [
        iam.allow("ApproveModelPackages", ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                  naming.model_packages_arn(s.region, s.account, s.group_name)),
        iam.allow("DescribeModelPackageGroup", ["sagemaker:DescribeModelPackageGroup"], s.group_arn),
        iam.allow("ListPackages", ["sagemaker:ListModelPackages"], "*"),
    ]


def deploy_document(s: Scope) -> str:
    return iam.document(*read_statements(s), *manage_statements(s))


def preview_document(s: Scope) -> str:
    return iam.document(*read_statements(s))


def approver_document(s: Scope) -> str:
    return iam.document(*approver_statements(s))
