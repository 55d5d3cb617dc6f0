"""What the roles of a workload account (dev, prod) may do at run time, and the data bucket's
own guard for what jobs trust.

- The SageMaker execution role trains and registers into the central groups (only versions
  pending approval), reads and writes its own stack's prefix of the registry bucket, writes
  job outputs only under `pipelines/` of its data bucket and runs jobs from the AWS algorithm
  images. The job guardrails (volume key, VPC, isolation) are in the workload boundary.
- The model-lookup Lambdas (one per model, one role) read the versions of the central groups,
  read the artifacts of the stacks this one serves, verify them against the sha256 recorded at
  registration and copy them, verified, under `verified-models/` of the data bucket (see
  ml/lambdas/latest_approved_model.py); inference reads only those copies.
- EventBridge may start the inference and live-drift pipelines; training starts on drift through
  the gate.

One role per job for all models: each document scopes by name pattern (`mlops-dev-*inference`,
`models/dev/*`, `model-package-group/*`), so none grows with the number of models.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ml import contract
from mlops_platform import iam, naming
from mlops_platform.algorithm_images import algorithm_account, repository, repository_names
from mlops_platform.iam_documents.scope import Scope

if TYPE_CHECKING:
    import pulumi

JOB_ACTIONS = {
    "processing-job": ["sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                       "sagemaker:StopProcessingJob"],
    "training-job": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
                     "sagemaker:StopTrainingJob"],
    "transform-job": ["sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob",
                      "sagemaker:StopTransformJob"],
}
PENDING = "PendingManualApproval"
# What a SageMaker job or endpoint writes to its CloudWatch log group.
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
# Where the pipelines write their outputs in the data bucket (PipelineSettings.output_prefix).
OUTPUTS_PREFIX = "pipelines/"


def execution_document(s: Scope, data_key: str, registry_key: str) -> str:
    own_models = f"{s.registry_bucket}/{s.models_prefix()}/*"
    statements: list[dict[str, Any]] = [
        iam.allow("ReadDataBucket", ["s3:GetObject"], f"{s.bucket}/*"),
        # Not code/ (only the deploy role writes what jobs run), not verified-models/ (the lookup's).
        iam.allow("WriteJobOutputs", ["s3:PutObject"], f"{s.bucket}/{OUTPUTS_PREFIX}*"),
        iam.allow("ListDataBucket", ["s3:GetBucketLocation", "s3:ListBucket"], s.bucket),
        iam.allow("ReadWriteOwnModelArtifacts", ["s3:GetObject", "s3:PutObject"], own_models),
        iam.allow("ListOwnModelArtifacts", ["s3:ListBucket"], s.registry_bucket,
                  Condition={"StringLike": {"s3:prefix": [f"{s.models_prefix()}/*"]}}),
        iam.allow("UseDataAndRegistryKeys", iam.KEY_USE, [data_key, registry_key]),
        iam.allow("GrantKeysToSageMakerJobs", ["kms:CreateGrant"], [data_key, registry_key],
                  Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        *[iam.allow(f"Run{kind.title().replace('-', '')}s", actions, s.arn("sagemaker", f"{kind}/pipelines-*"))
          for kind, actions in JOB_ACTIONS.items()],
        iam.allow("CreateModels", ["sagemaker:CreateModel", "sagemaker:DescribeModel"], s.arn("sagemaker", "model/*")),
        iam.allow("TagJobs", ["sagemaker:AddTags"], [s.arn("sagemaker", f"{k}/pipelines-*") for k in JOB_ACTIONS]
                  + [s.arn("sagemaker", "model/*")]),
        iam.allow("TrackExperiments",
                  ["sagemaker:AssociateTrialComponent", "sagemaker:CreateExperiment", "sagemaker:CreateTrial",
                   "sagemaker:CreateTrialComponent", "sagemaker:DescribeExperiment", "sagemaker:DescribeTrial",
                   "sagemaker:UpdateTrialComponent"],
                  [s.arn("sagemaker", f"{k}/*") for k in ("experiment", "experiment-trial",
                                                         "experiment-trial-component")]),
        # Lineage: AddAssociation links the ARN forms it accepts (Service Authorization Reference).
        iam.allow("TrackLineage", ["sagemaker:AddAssociation"],
                  [s.arn("sagemaker", f"{k}/*") for k in ("action", "artifact", "context", "experiment",
                                                         "experiment-trial-component")]),
        # Only versions pending approval: each group's policy enforces the same. Every model's
        # group by one pattern: the groups' own policies decide which of them another account reaches.
        iam.allow("RegisterPendingVersions", ["sagemaker:CreateModelPackage"], [s.groups_arn, s.packages_arn],
                  Condition={"StringEquals": {"sagemaker:ModelApprovalStatus": PENDING}}),
        iam.allow("ReadCentralGroup", ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
                                       "sagemaker:ListModelPackages"], [s.groups_arn, s.packages_arn]),
        iam.allow("InvokeModelLookup", ["lambda:InvokeFunction"], lookup_functions(s)),
        iam.allow("PassOwnRoleToSageMaker", ["iam:PassRole"], s.role_arn(naming.SAGEMAKER_EXECUTION),
                  Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
        iam.allow("WriteJobLogs", LOG_ACTIONS, s.arn("logs", "log-group:/aws/sagemaker/*")),
        # Jobs publish their metrics (e.g. validation AUC).
        *container_statements(s, metrics_sid="PublishJobMetrics", pull_sid="PullSageMakerImages"),
    ]
    if s.vpc:
        statements += vpc_statements(s)
    return iam.document(*statements)


def container_statements(s: Scope, *, metrics_sid: str, pull_sid: str) -> list[dict[str, Any]]:
    """What every SageMaker container of ours needs beside its data, jobs and endpoints alike: its
    metrics, an ECR login and the built-in images (the Sids name them in each role's terms)."""
    return [
        # PutMetricData has no resource-level permissions: the namespace condition scopes it.
        iam.allow(metrics_sid, ["cloudwatch:PutMetricData"], "*",
                  Condition={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
        # ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only form.
        iam.allow("EcrLogin", ["ecr:GetAuthorizationToken"], "*"),
        # The built-in images, from AWS's algorithm account of this region only.
        iam.allow(pull_sid, ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                  [s.arn("ecr", f"repository/{name}", algorithm_account(s.region)) for name in repository_names()]),
    ]


def vpc_statements(s: Scope) -> list[dict[str, Any]]:
    """What a job or an endpoint in the stack's private subnets needs of EC2 (its network interfaces)."""
    assert s.vpc is not None
    return [
        # EC2 Describe* calls support no resource-level permissions: "*" is required.
        iam.allow("DescribeNetwork", ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                                      "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
                                      "ec2:DescribeVpcs"], "*"),
        iam.allow("JobNetworkInterfaces",
                  ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                   "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
                  [s.arn("ec2", "network-interface/*")] + [s.arn("ec2", f"subnet/{i}") for i in s.vpc.subnet_ids]
                  + [s.arn("ec2", f"security-group/{g}") for g in s.vpc.security_group_ids]),
    ]


LATEST_MODEL_FUNCTION = "latest-approved-model"


def of_every_model(s: Scope, name: str) -> str:
    """`mlops-dev-*<name>`: the first model's `mlops-dev-<name>` and every other model's
    `mlops-dev-<model>-<name>` by one pattern, inside the stack's `mlops-dev-*`."""
    return f"{s.pre}-*{name}"


def lookup_functions(s: Scope) -> str:
    """Every model's latest-approved-model Lambda, by one pattern."""
    return s.arn("lambda", f"function:{of_every_model(s, LATEST_MODEL_FUNCTION)}")


def pipelines_of_kind(s: Scope, kind: str) -> str:
    """Every model's pipeline of one kind (`mlops-dev-inference`, `mlops-dev-<model>-inference`): the
    kind is always the name's last part, so `*inference` never matches a training pipeline."""
    return s.arn("sagemaker", f"pipeline/{of_every_model(s, kind)}")


def lookup_document(s: Scope, data_key: str, registry_key: str) -> str:
    """Find the newest approved version, verify its artifacts and copy them for inference."""
    served = [f"{s.registry_bucket}/{s.models_prefix(src)}/*" for src in s.model_sources]
    via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{s.region}.amazonaws.com"}}
    return iam.document(
        # ListModelPackages supports no resource-level permissions: "*" is the only form;
        # the central group's resource policy still limits what is listed cross-account.
        iam.allow("ListPackages", ["sagemaker:ListModelPackages"], "*"),
        iam.allow("DescribeCentralPackages", ["sagemaker:DescribeModelPackage"], s.packages_arn),
        iam.allow("ReadServedModels", ["s3:GetObject"], served),
        iam.allow("ListServedModels", ["s3:ListBucket"], s.registry_bucket,
                  Condition={"StringLike": {"s3:prefix": [f"{s.models_prefix(src)}/*" for src in s.model_sources]}}),
        iam.allow("DecryptServedModels", ["kms:Decrypt"], registry_key, Condition=via_s3),
        iam.allow("WriteVerifiedCopies", ["s3:PutObject"], f"{s.bucket}/{contract.VERIFIED_MODELS_PREFIX}*"),
        iam.allow("EncryptVerifiedCopies", ["kms:GenerateDataKey"], data_key, Condition=via_s3),
        iam.allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                  s.arn("logs", f"log-group:/aws/lambda/{s.pre}-*")),
    )


def model_lookup_environment(s: Scope, names: naming.ModelNames,
                             group_arn: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """What one model's latest-approved-model Lambda accepts: the versions its own training
    pipelines wrote (under `models/<stack>/[<model>/]<training pipeline>/` of each stack it serves;
    its role may read more: every model of those stacks), the AWS algorithm image of the region,
    and where it puts the verified copies. Each model's prefixes are its own, so one model's
    Lambda never serves another model's artifacts, even from a version in its group."""
    from ml.lambdas import latest_approved_model as lam

    def prefixes(stacks: list[str]) -> str:
        return ",".join(model_outputs_prefix(names, stack) for stack in stacks)

    others = [stack for stack, _ in s.workload_accounts if stack not in s.model_sources]
    env: dict[str, pulumi.Input[str]] = {
        lam.ENV_GROUP: group_arn,
        lam.ENV_ARTIFACTS_BUCKET: s.registry_bucket.rsplit(":", 1)[-1],
        lam.ENV_SERVED: prefixes(list(s.model_sources)),
        lam.ENV_IMAGE_REPOSITORY: repository(s.region),
        lam.ENV_VERIFIED_BUCKET: s.bucket_name,
    }
    if others:
        env[lam.ENV_UNSERVED] = prefixes(others)
    return env


def model_outputs_prefix(names: naming.ModelNames, stack: str) -> str:
    """Where the training pipeline of `names`' model in `stack` writes what a version refers to
    (`ml/pipelines/building_blocks.output_uri`: `<artifacts prefix>/<pipeline>/<execution>/...`)."""
    theirs = naming.ModelNames(stack, names.model, names.first)
    return f"{theirs.artifacts_prefix}/{theirs.pipeline_name('training')}/"


def events_document(s: Scope) -> str:
    """EventBridge starts every model's scheduled inference and live-drift check; training starts
    only through the retrain gate."""
    return iam.document(iam.allow(
        "StartScheduledInference", ["sagemaker:StartPipelineExecution"],
        [pipelines_of_kind(s, "inference"), pipelines_of_kind(s, contract.LIVE_DRIFT_PIPELINE_KIND)]))


def code_writers(s: Scope, caller_arn: str) -> list[str]:
    """Who may write `code/*`: the deploy role, and whoever runs the stack if that is not CI.

    CI runs as this stack's GitHub roles (deploy, preview), so in CI the answer is the deploy
    role alone and every CI run writes the same policy. An administrator's run (the bootstrap,
    a trust-anchor change) uploads code too, so it adds the administrator's own principal; the
    next CI deploy removes it again. `aws:PrincipalArn` of an assumed role is the role's ARN
    with its path, which an STS ARN lacks: both the plain and any-path forms are listed.
    """
    deploy = s.role_arn(naming.GITHUB_DEPLOY)
    parts = caller_arn.split(":", 5)
    kind, _, rest = parts[5].partition("/") if len(parts) == 6 else ("", "", "")
    if kind == "assumed-role":
        role = rest.split("/", 1)[0]
        if role.startswith(f"{s.pre}-github-"):
            return [deploy]
        return sorted({deploy, s.iam(f"role/{role}", parts[4]), s.iam(f"role/*/{role}", parts[4])})
    return sorted({deploy, caller_arn})


def data_bucket_statements(s: Scope, code_writers: list[str]) -> list[dict[str, Any]]:
    """What jobs trust in the data bucket stays with the roles that produce it.

    Code (`code/*`) is written only by `code_writers` (the deploy role, see `code_writers`);
    verified model copies only by the model-lookup Lambda. Anyone else who can write the bucket
    (a data producer) may land data, never what jobs execute or which model they load.
    """
    return [
        iam.deny("OnlyTheDeployRoleWritesCode", ["s3:PutObject"], f"{s.bucket}/{contract.CODE_ROOT}*",
                 Principal={"AWS": "*"}, Condition={"ArnNotLike": {"aws:PrincipalArn": sorted(code_writers)}}),
        iam.deny("OnlyTheModelLookupWritesVerifiedModels", ["s3:PutObject"],
                 f"{s.bucket}/{contract.VERIFIED_MODELS_PREFIX}*", Principal={"AWS": "*"},
                 Condition={"ArnNotLike": {"aws:PrincipalArn": s.role_arn(naming.MODEL_LOOKUP_LAMBDA)}}),
    ]
