"""The two permissions boundaries of a stack: what any of its roles can ever do.

- The **CI boundary** caps the GitHub roles (deploy, preview, model approver): the actions
  their policies use, on this stack's resources only (IAM writes on its roles, key writes on
  keys tagged for it, bucket writes on its bucket), and never a change to a trust anchor.
- The **workload boundary** caps the roles CI creates (the SageMaker execution role and the
  Lambda and EventBridge roles): run-time actions on this stack's resources and the registry's,
  no IAM, key-policy or bucket-policy write at all, and the job guardrails (volume key, VPC,
  network isolation) as denies no role policy can lift. The deploy role may create a role only
  with this boundary, so CI never gives away more than it.

Each boundary is one managed policy (a role has one boundary), so the documents stay under
IAM's 6,144 characters by scoping with name-prefix ARNs rather than listing resources.
"""
from __future__ import annotations

from mlops_facts.unscoped import is_unscoped
from mlops_platform import iam
from mlops_platform.algorithm_images import algorithm_account
from mlops_platform.iam_documents import github_roles as gh
from mlops_platform.iam_documents.scope import Scope

# What the workload roles (SageMaker jobs, Lambdas, EventBridge) do at run time. A test fails
# when a role policy uses an action its boundary would silently cut.
RUNTIME_ACTIONS = [
    "cloudwatch:PutMetricData",
    "dynamodb:DeleteItem", "dynamodb:PutItem",
    "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
    "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer",
    "iam:PassRole",
    "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
    "lambda:InvokeFunction", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject",
    "sagemaker:AddAssociation", "sagemaker:AddTags", "sagemaker:AssociateTrialComponent",
    "sagemaker:CreateExperiment", "sagemaker:CreateModel", "sagemaker:CreateModelPackage",
    "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob", "sagemaker:CreateTransformJob",
    "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent", "sagemaker:DescribeExperiment",
    "sagemaker:DescribeModel", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
    "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob", "sagemaker:DescribeTransformJob",
    "sagemaker:DescribeTrial", "sagemaker:ListModelPackages", "sagemaker:ListPipelineExecutions",
    "sagemaker:StartPipelineExecution", "sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob", "sagemaker:UpdateTrialComponent", "sqs:SendMessage",
]
KEY_USE = {*iam.KEY_USE, "kms:CreateGrant"}
# Changes to a trust anchor role: never by CI (they need an administrator's run).
ROLE_WRITES = ["iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary",
               "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
               "iam:UpdateRoleDescription"]
# Changes to a model group's policy, and deleting a group: never by CI.
GROUP_ANCHOR_ACTIONS = ["sagemaker:DeleteModelPackageGroup", "sagemaker:DeleteModelPackageGroupPolicy",
                        "sagemaker:PutModelPackageGroupPolicy"]
# Jobs whose create call carries the VPC and isolation condition keys (CreateTransformJob
# does not: a transform job inherits both from its model).
VPC_ENFORCED = ["sagemaker:CreateModel", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"]
VOLUME_KEY_ENFORCED = ["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
                       "sagemaker:CreateTransformJob"]


# Alias calls are authorised on the alias and on its key: they appear with both.
ALIAS_ACTIONS = {"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"}


def _split(actions: set[str]) -> tuple[list[str], list[str], list[str]]:
    """(unscoped, key-level, everything else) of `actions`."""
    unscoped = sorted(a for a in actions if is_unscoped(a))
    keys = sorted(a for a in actions if a.startswith("kms:") and a not in unscoped)
    rest = sorted((actions - set(unscoped) - set(keys)) | (actions & ALIAS_ACTIONS))
    return unscoped, keys, rest


def _stack_keys(s: Scope, actions: list[str]) -> iam.Statement:
    # Resource tags, which only this stack sets (on creation): a key of anyone else is out of reach.
    return iam.allow("StackKeys", actions, s.keys, Condition={"StringEquals": s.stack_tags})


def ci_boundary_document(s: Scope) -> str:
    """The GitHub roles' boundary: their own actions, on this stack's resources only."""
    own = gh.read_statements(s) + gh.manage_statements(s) + \
        (gh.approver_statements(s) + gh.reviewer_statements(s) if s.is_registry else [])
    unscoped, keys, rest = _split({a for st in own for a in st["Action"]} | set(gh.KEY_ADMINISTRATION)
                                  | (set() if s.is_registry else set(gh.KEY_USE_BY_SERVICES)))
    keys.remove("kms:TagResource")  # tagging on creation needs it on every key (no tags yet)
    resources = [s.roles, s.iam(f"policy/{s.pre}-*"), s.oidc_provider_arn, s.bucket, f"{s.bucket}/*",
                 *(s.arn(svc, f"{res}{s.pre}-*") for svc, res in (
                     ("kms", "alias/"), ("sns", ""), ("sqs", ""), ("cloudwatch", "alarm:"), ("events", "rule/")))]
    groups: list[iam.Statement] = []
    if s.is_registry:
        # Every model's group by pattern, in a statement of SageMaker actions only: no role,
        # key or bucket write is ever allowed on an account-wide pattern.
        model_actions = sorted(a for a in rest if a.startswith("sagemaker:"))
        rest = [a for a in rest if a not in model_actions]
        groups.append(iam.allow("ModelGroups", model_actions, [s.groups_arn, s.packages_arn]))
    else:
        # `pipeline/<prefix>-*` also covers the pipelines' executions (`pipeline/<name>/execution/<id>`).
        resources += [s.arn("sagemaker", f"pipeline/{s.pre}-*"), s.arn("lambda", f"function:{s.pre}-*"),
                      s.arn("logs", f"log-group:/aws/lambda/{s.pre}-*"), s.arn("dynamodb", f"table/{s.pre}-*")]
    statements = [
        iam.allow("StackResources", rest, resources),
        *groups,
        _stack_keys(s, keys),
        iam.allow("TagKeysOnCreation", ["kms:TagResource"], s.keys),
        iam.allow("Unscoped", unscoped, "*"),
        iam.deny("TrustAnchorsNeedAnAdministrator", ROLE_WRITES, s.github_roles),
    ]
    if s.is_registry:
        statements.append(iam.deny("GroupPolicyNeedsAnAdministrator", GROUP_ANCHOR_ACTIONS, s.groups_arn))
    else:
        statements.append(iam.deny("NoRoleWithoutTheWorkloadBoundary",
                                   ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], s.roles,
                                   Condition={"StringNotEquals": {"iam:PermissionsBoundary": s.workload_boundary_arn}}))
    return iam.document(*statements)


def workload_boundary_document(s: Scope) -> str:
    """The boundary of every role CI creates: run-time actions on this stack and the registry."""
    unscoped, keys, rest = _split(set(RUNTIME_ACTIONS))
    images = algorithm_account(s.region)
    served = [f"{s.registry_bucket}/{s.models_prefix(src)}/*" for src in s.model_sources]
    resources = [
        s.bucket, f"{s.bucket}/*", s.registry_bucket, *served,
        s.arn("sagemaker", "*"), s.groups_arn, s.packages_arn,
        s.arn("lambda", f"function:{s.pre}-*"), s.arn("dynamodb", f"table/{s.pre}-*"), s.arn("sqs", f"{s.pre}-*"),
        s.arn("logs", "log-group:/aws/sagemaker/*"), s.arn("logs", f"log-group:/aws/lambda/{s.pre}-*"),
        s.arn("ecr", "repository/sagemaker-*", images), s.arn("ec2", "*"), s.iam(f"role/{s.pre}-*"),
    ]
    statements = [
        iam.allow("StackResources", rest, resources),
        _stack_keys(s, keys),
        iam.allow("RegistryKeys", sorted(KEY_USE), s.registry_keys),
        iam.allow("Unscoped", unscoped, "*"),
        iam.deny("DenyJobsWithoutVolumeKey", VOLUME_KEY_ENFORCED, "*",
                 Condition={"Null": {"sagemaker:VolumeKmsKey": "true"}}),
    ]
    if s.vpc:
        statements.append(iam.deny("DenyJobsOutsideVpc", VPC_ENFORCED, "*",
                                   Condition={"Null": {"sagemaker:VpcSubnets": "true"}}))
        if s.vpc.network_isolation:
            statements.append(iam.deny("DenyJobsWithoutNetworkIsolation", VPC_ENFORCED, "*",
                                       Condition={"Bool": {"sagemaker:NetworkIsolation": "false"}}))
    return iam.document(*statements)
