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
IAM's 6,144 characters by scoping with name-prefix ARNs rather than listing resources; the CI
boundary also caps its roles' configuration reads by verb prefix (`CONFIGURATION_READS`) and
guards the GitHub roles with a Deny of everything but reading them. Writes are always named.
"""
from __future__ import annotations

import fnmatch

from mlops_facts.unscoped import is_unscoped
from mlops_platform import iam
from mlops_platform.algorithm_images import algorithm_account
from mlops_platform.iam_documents import github_roles as gh
from mlops_platform.iam_documents import serving
from mlops_platform.iam_documents.scope import Scope

# What the workload roles (SageMaker jobs, Lambdas, EventBridge) do at run time. A test fails
# when a role policy uses an action its boundary would silently cut.
RUNTIME_ACTIONS = [
    "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricData",
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
# What CI may do to a trust anchor role: read it. Everything else (every write, any IAM adds later,
# passing or assuming it) needs an administrator's run: a Deny of all but these.
ROLE_READS = ["iam:Get*", "iam:List*"]
# Changes to a model group's policy, and deleting a group: never by CI.
GROUP_ANCHOR_ACTIONS = ["sagemaker:DeleteModelPackageGroup", "sagemaker:DeleteModelPackageGroupPolicy",
                        "sagemaker:PutModelPackageGroupPolicy"]
# Jobs whose create call carries the VPC and isolation condition keys (CreateTransformJob
# does not: a transform job inherits both from its model).
VPC_ENFORCED = ["sagemaker:CreateModel", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"]
VOLUME_KEY_ENFORCED = ["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
                       "sagemaker:CreateTransformJob"]


# Reads of the stack's own configuration, capped by verb prefix in the CI boundary: named one by
# one, the actions of the deploy and preview roles would not fit in IAM's 6,144 characters. A
# boundary grants nothing (each role's own policy names every action it uses), the prefixes stay
# on the stack's own resources, and none reaches data: `s3:GetBucket*` is the bucket's
# configuration, never an object (the policy pack allows only such read prefixes, and only in a
# boundary: policy/mlops_policies/iam.py). Writes are always named.
CONFIGURATION_READS = ("dynamodb:Describe*", "events:List*", "iam:Get*", "iam:List*", "lambda:GetFunction*",
                       "s3:GetBucket*", "sagemaker:Describe*", "sagemaker:List*", "sns:List*", "sqs:Get*")


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


def _deny_all_but(sid: str, actions: list[str], resource: str) -> iam.Statement:
    return {"Sid": sid, "Effect": "Deny", "NotAction": sorted(actions), "Resource": resource}


def _by_prefix(actions: list[str], patterns: tuple[str, ...]) -> list[str]:
    """`actions` with those a pattern covers replaced by it (the pattern only where one is)."""
    covered = {a for a in actions for p in patterns if fnmatch.fnmatchcase(a, p)}
    used = [p for p in patterns if any(fnmatch.fnmatchcase(a, p) for a in actions)]
    return sorted(set(actions) - covered) + used


def regional(s: Scope) -> list[str]:
    """Every regional resource the stack's CI roles touch, by the stack's name prefix, one pattern
    per service and resource type (IAM accepts no wildcard in an ARN's service segment)."""
    named = [("cloudwatch", "alarm:"), ("dynamodb", "table/"), ("events", "rule/"), ("kms", "alias/"),
             ("lambda", "function:"), ("logs", "log-group:/aws/lambda/"), ("sns", ""), ("sqs", "")]
    return [s.arn(service, f"{kind}{s.pre}-*") for service, kind in named] + \
        ([] if s.is_registry else serving.sagemaker_resources(s))


def ci_boundary_document(s: Scope) -> str:
    """The GitHub roles' boundary: their own actions, on this stack's resources only.

    One managed policy must hold every action of the deploy, preview (and in the registry, the
    approver and reviewer) roles under IAM's 6,144 characters, so actions are grouped by where
    they act: IAM and S3 on the stack's roles, policies, OIDC provider and bucket; every other
    service on the stack's regional resources (`regional`); the central group's versions; scalable
    targets (whose ARNs carry no name of ours); the stack's keys by their tags.
    """
    own = gh.read_statements(s) + gh.manage_statements(s) + \
        (gh.approver_statements(s) + gh.reviewer_statements(s) if s.is_registry else [])
    unscoped, keys, rest = _split({a for st in own for a in st["Action"]} | set(gh.KEY_ADMINISTRATION)
                                  | (set() if s.is_registry else set(gh.KEY_USE_BY_SERVICES)))
    keys.remove("kms:TagResource")  # tagging on creation needs it on every key (no tags yet)
    global_ = sorted(a for a in rest if a.split(":")[0] in ("iam", "s3"))
    in_region = [a for a in rest if a not in global_]
    global_ = _by_prefix(global_, CONFIGURATION_READS)
    own_globals = [s.roles, s.iam(f"policy/{s.pre}-*"), s.oidc_provider_arn, s.bucket, f"{s.bucket}/*"]
    # What acts outside the stack's names: the central group's versions (the deploy role creates
    # an endpoint's model from one), scalable targets (ARNs end in an id AWS makes) and the
    # service-linked role autoscaling creates. A resource of one service in a statement never
    # lets another service's action act on it, so each joins the statement of its service.
    elsewhere: list[str] = [] if s.is_registry else [s.packages_arn, serving.scalable_targets(s)]
    statements = [iam.allow("StackResources", global_, own_globals
                            + ([] if s.is_registry else [serving.scaling_service_role(s)]))]
    if s.is_registry:
        # Every model's group by pattern, in a statement of SageMaker actions only: no role,
        # key or bucket write is ever allowed on an account-wide pattern.
        model_actions = sorted(a for a in in_region if a.startswith("sagemaker:"))
        in_region = [a for a in in_region if a not in model_actions]
        statements.append(iam.allow("ModelGroups", model_actions, [s.groups_arn, s.packages_arn]))
    statements += [
        iam.allow("RegionalResources", _by_prefix(in_region, CONFIGURATION_READS), regional(s) + elsewhere),
        _stack_keys(s, keys),
        iam.allow("Unscoped", [*unscoped, "kms:TagResource"], "*"),  # tag-on-create: see above
        _deny_all_but("TrustAnchorsNeedAnAdministrator", ROLE_READS, s.github_roles),
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
        s.arn("cloudwatch", f"alarm:{s.pre}-*"),  # an endpoint's rollback alarms, read by its role
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
