"""Least-privilege roles of a workload account (dev or prod)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_platform import iam, naming
from mlops_platform.components.kms import KEY_USE_ACTIONS
from mlops_platform.settings import VpcSettings

JOB_ACTIONS = {
    "processing-job": ["sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
                       "sagemaker:StopProcessingJob"],
    "training-job": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
                     "sagemaker:StopTrainingJob"],
    "transform-job": ["sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob",
                      "sagemaker:StopTransformJob"],
}
# Jobs whose create call carries the VPC and isolation condition keys (CreateTransformJob
# does not: a transform job inherits both from its model).
VPC_ENFORCED = ["sagemaker:CreateModel", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"]
VOLUME_KEY_ENFORCED = ["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
                       "sagemaker:CreateTransformJob"]


@dataclass(frozen=True)
class WorkloadRolesArgs:
    stack_role: str
    account_id: str
    region: str
    data_bucket_arn: str
    data_key_arn: pulumi.Input[str]
    registry_bucket_arn: pulumi.Input[str]
    registry_key_arn: pulumi.Input[str]
    registry_group_arn: pulumi.Input[str]
    vpc: VpcSettings | None = None


class WorkloadRoles(pulumi.ComponentResource):
    """The SageMaker execution role, the model-lookup Lambda's role and the role EventBridge
    uses to start pipelines. No managed `*FullAccess` policy: each has one inline policy
    scoped to this stack's resources and the registry's bucket prefix, key and group."""

    def __init__(self, name: str, args: WorkloadRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:security:WorkloadRoles", name, None, opts)
        self._args = args
        a = args
        sm = self._role("sagemaker", naming.SAGEMAKER_EXECUTION, "sagemaker.amazonaws.com",
                        "Runs this stack's SageMaker pipeline jobs.",
                        pulumi.Output.all(a.data_key_arn, a.registry_bucket_arn, a.registry_key_arn,
                                          a.registry_group_arn).apply(lambda v: self._sagemaker(*v)))
        lookup = self._role("model-lookup", naming.MODEL_LOOKUP_LAMBDA, "lambda.amazonaws.com",
                            "Finds the latest approved model in the central registry.",
                            pulumi.Output.from_input(a.registry_group_arn).apply(self._lookup))
        events = self._role("events", naming.EVENTS_INVOKE, "events.amazonaws.com",
                            "Lets EventBridge start this stack's pipelines.",
                            pulumi.Output.from_input(self._events()))
        self.sagemaker_execution_role_arn = sm.arn
        self.model_lookup_role_arn = lookup.arn
        self.events_role_arn = events.arn
        self.register_outputs({})

    def _role(self, key: str, purpose: str, service: str, description: str,
              policy: pulumi.Output[str]) -> aws.iam.Role:
        role = aws.iam.Role(f"{key}-role", name=naming.role_name(self._args.stack_role, purpose),
                            description=description, max_session_duration=3600,
                            assume_role_policy=iam.service_trust(service, self._args.account_id),
                            opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicy(f"{key}-policy", role=role.name, name="least-privilege", policy=policy,
                           opts=pulumi.ResourceOptions(parent=self))
        return role

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self._args.region}:{self._args.account_id}:{resource}"

    def _sagemaker(self, data_key: str, reg_bucket: str, reg_key: str, group_arn: str) -> str:
        a, stack = self._args, self._args.stack_role
        group_name = group_arn.split("/")[-1]
        reg_account = group_arn.split(":")[4]
        own_arn = naming.role_arn(a.account_id, stack, naming.SAGEMAKER_EXECUTION)
        statements: list[dict[str, Any]] = [
            iam.allow("DataBucketObjects", ["s3:GetObject", "s3:PutObject"], f"{a.data_bucket_arn}/*"),
            iam.allow("DataBucketList", ["s3:GetBucketLocation", "s3:ListBucket"], a.data_bucket_arn),
            iam.allow("WriteOwnModelArtifacts", ["s3:PutObject"],
                      f"{reg_bucket}/{naming.models_prefix(stack)}/*"),
            iam.allow("ReadModelArtifacts", ["s3:GetObject"], f"{reg_bucket}/models/*"),
            iam.allow("ListModelArtifacts", ["s3:ListBucket"], reg_bucket,
                      Condition={"StringLike": {"s3:prefix": ["models/*"]}}),
            iam.allow("UseDataAndRegistryKeys", KEY_USE_ACTIONS, [data_key, reg_key]),
            iam.allow("GrantKeysToSageMakerJobs", ["kms:CreateGrant"], [data_key, reg_key],
                      Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
            *[iam.allow(f"Run{kind.title().replace('-', '')}s", actions, self._arn("sagemaker", f"{kind}/pipelines-*"))
              for kind, actions in JOB_ACTIONS.items()],
            iam.allow("CreateModels", ["sagemaker:CreateModel", "sagemaker:DescribeModel"],
                      self._arn("sagemaker", "model/*")),
            iam.allow("TagJobs", ["sagemaker:AddTags"], [self._arn("sagemaker", f"{k}/pipelines-*")
                                                         for k in JOB_ACTIONS] + [self._arn("sagemaker", "model/*")]),
            iam.allow("TrackExperiments",
                      ["sagemaker:AddAssociation", "sagemaker:AssociateTrialComponent",
                       "sagemaker:CreateExperiment", "sagemaker:CreateTrial",
                       "sagemaker:CreateTrialComponent", "sagemaker:DescribeExperiment",
                       "sagemaker:DescribeTrial", "sagemaker:UpdateTrialComponent"],
                      [self._arn("sagemaker", f"{k}/*") for k in
                       ("experiment", "experiment-trial", "experiment-trial-component")]),
            iam.allow("RegisterIntoCentralGroup",
                      ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                       "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"],
                      [group_arn, naming.model_packages_arn(a.region, reg_account, group_name)]),
            iam.allow("InvokeStackLambdas", ["lambda:InvokeFunction"],
                      self._arn("lambda", f"function:{naming.prefix(stack)}-*")),
            iam.allow("PassOwnRoleToSageMaker", ["iam:PassRole"], own_arn,
                      Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
            iam.allow("WriteJobLogs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                                       "logs:PutLogEvents"], self._arn("logs", "log-group:/aws/sagemaker/*")),
            # Jobs publish their metrics (e.g. validation AUC); PutMetricData has no resource-level
            # permissions, so the namespace condition is what scopes it.
            iam.allow("PublishJobMetrics", ["cloudwatch:PutMetricData"], "*",
                      Condition={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
            # ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only form.
            iam.allow("EcrLogin", ["ecr:GetAuthorizationToken"], "*"),
            iam.allow("PullSageMakerImages",
                      ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                      [f"arn:aws:ecr:{a.region}:*:repository/sagemaker-scikit-learn",
                       f"arn:aws:ecr:{a.region}:*:repository/sagemaker-xgboost"]),
            iam.deny("DenyJobsWithoutVolumeKey", VOLUME_KEY_ENFORCED, "*",
                     Condition={"Null": {"sagemaker:VolumeKmsKey": "true"}}),
        ]
        if a.vpc:
            statements += self._vpc_statements(a.vpc)
        return iam.document(*statements)

    def _vpc_statements(self, vpc: VpcSettings) -> list[dict[str, Any]]:
        a = self._args
        ec2 = lambda r: f"arn:aws:ec2:{a.region}:{a.account_id}:{r}"  # noqa: E731
        out = [
            # EC2 Describe* calls support no resource-level permissions: "*" is required.
            iam.allow("DescribeNetwork", ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                                          "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
                                          "ec2:DescribeVpcs"], "*"),
            iam.allow("JobNetworkInterfaces",
                      ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                       "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
                      [ec2("network-interface/*")] + [ec2(f"subnet/{s}") for s in vpc.subnet_ids]
                      + [ec2(f"security-group/{g}") for g in vpc.security_group_ids]),
            iam.deny("DenyJobsOutsideVpc", VPC_ENFORCED, "*",
                     Condition={"Null": {"sagemaker:VpcSubnets": "true"}}),
        ]
        if vpc.network_isolation:
            out.append(iam.deny("DenyJobsWithoutNetworkIsolation", VPC_ENFORCED, "*",
                                Condition={"Bool": {"sagemaker:NetworkIsolation": "false"}}))
        return out

    def _lookup(self, group_arn: str) -> str:
        a = self._args
        group_name, reg_account = group_arn.split("/")[-1], group_arn.split(":")[4]
        return iam.document(
            # ListModelPackages supports no resource-level permissions: "*" is the only form;
            # the central group's resource policy still limits what is listed cross-account.
            iam.allow("ListPackages", ["sagemaker:ListModelPackages"], "*"),
            iam.allow("DescribeCentralPackages", ["sagemaker:DescribeModelPackage"],
                      naming.model_packages_arn(a.region, reg_account, group_name)),
            iam.allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                      self._arn("logs", f"log-group:/aws/lambda/{naming.prefix(a.stack_role)}-*")),
        )

    def _events(self) -> str:
        a = self._args
        return iam.document(iam.allow(
            "StartStackPipelines", ["sagemaker:StartPipelineExecution"],
            [naming.pipeline_arn(a.region, a.account_id, a.stack_role, k) for k in ("inference", "training")]))
