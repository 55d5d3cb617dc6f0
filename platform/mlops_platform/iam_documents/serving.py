"""What a served model's endpoint may do: its own role, one per model (`mlops-<stack>-serving-<model>`).

SageMaker runs the endpoint as this role: it describes the pinned version of the model's own
central group, downloads that version's artifacts from the registry bucket (the prefixes of the
model's own training pipelines in the stacks this one serves), pulls the algorithm image, writes
its logs and metrics, reads the alarms that judge a rollout, and writes every captured request
and response under the model's own `capture/<model>/` prefix of the data bucket, encrypted with
the stack's data key. Nothing else: not another model's group, artifacts or capture, not another
stack's artifacts (the registry's policies refuse those too, `iam_documents.registry`).

A document per served model, each naming only its own model: its size does not depend on how
many models there are (tests/platform/test_scale.py). Below it, what the workload's GitHub roles
need to deploy and preview the endpoints (`serving_statements`, read by `github_roles`): one set of
statements for every model of the stack, by the stack's prefix.
"""
from __future__ import annotations

from typing import Any

from mlops_platform import iam, naming
from mlops_platform.iam_documents.scope import Scope
from mlops_platform.iam_documents.workload import LOG_ACTIONS, container_statements, model_outputs_prefix, vpc_statements

# Real-time serving (components/model_endpoint.py): what the deploy role changes and the preview
# reads of each served model's SageMaker model, endpoint configuration and endpoint, and of their
# autoscaling. UpdateEndpointWeightsAndCapacities: Application Auto Scaling checks that whoever
# registers an endpoint as a scalable target may scale it (SageMaker, "Auto scaling prerequisites").
# InvokeEndpoint: the deploy workflow's smoke test asks the endpoint it just deployed.
ENDPOINT_READS = ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel",
                  "sagemaker:ListTags"]
ENDPOINT_ACTIONS = ["sagemaker:AddTags", "sagemaker:CreateEndpoint", "sagemaker:CreateEndpointConfig",
                    "sagemaker:CreateModel", "sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig",
                    "sagemaker:DeleteModel", "sagemaker:DeleteTags", "sagemaker:InvokeEndpoint",
                    "sagemaker:UpdateEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"]
# Scalable targets have no name of ours (their ARN ends in an id AWS makes): what scopes these is
# the request's service namespace, SageMaker. Tagging names no namespace and touches only tags.
SCALING_ACTIONS = ["application-autoscaling:DeleteScalingPolicy", "application-autoscaling:DeregisterScalableTarget",
                   "application-autoscaling:PutScalingPolicy", "application-autoscaling:RegisterScalableTarget"]
SCALING_TAG_ACTIONS = ["application-autoscaling:ListTagsForResource", "application-autoscaling:TagResource",
                       "application-autoscaling:UntagResource"]
SCALING_READS = ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"]
# The role Application Auto Scaling scales endpoints with: created on the first registration.
SCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"
# The deploy role creates each endpoint's model from the pinned version of the central group.
REGISTRY_READ_ACTIONS = ["sagemaker:DescribeModelPackage"]
# Where SageMaker writes an endpoint's container logs (`/aws/sagemaker/Endpoints/<endpoint name>`).
ENDPOINT_LOGS = "/aws/sagemaker/Endpoints"
# What the model's own group's versions may be asked (SageMaker describes the pinned version when
# it creates the model, as this role; the group's own policy lets this role in, `registry.group_policy`).
READ_VERSION = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"]


def serving_document(s: Scope, names: naming.ModelNames, group_name: str, data_key: str, registry_key: str) -> str:
    """The inline policy of `names`' model's serving role in the stack of `s`."""
    via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{s.region}.amazonaws.com"}}
    log_group = s.arn("logs", f"log-group:{ENDPOINT_LOGS}/{names.endpoint_name}")
    statements: list[dict[str, Any]] = [
        iam.allow("DescribeOwnModelsVersions", READ_VERSION,
                  [s.group_arn(group_name), s.group_packages_arn(group_name)]),
        iam.allow("ReadOwnModelsArtifacts", ["s3:GetObject"], served_artifacts(s, names)),
        iam.allow("DecryptArtifactsThroughS3", ["kms:Decrypt"], registry_key, Condition=via_s3),
        iam.allow("WriteOwnCapture", ["s3:PutObject"], f"{s.bucket}/{names.capture_prefix}*"),
        # The capture objects and the endpoint's volumes are encrypted with the data key.
        iam.allow("UseDataKey", ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"], data_key),
        iam.allow("GrantDataKeyToEndpointVolumes", ["kms:CreateGrant"], data_key,
                  Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        iam.allow("WriteEndpointLogs", LOG_ACTIONS, [log_group, f"{log_group}:*"]),
        # SageMaker reads the rollback alarms as the endpoint's role (AWS, "Auto-Rollback
        # Configuration and Monitoring"): exactly this endpoint's.
        iam.allow("ReadRollbackAlarms", ["cloudwatch:DescribeAlarms"],
                  [s.arn("cloudwatch", f"alarm:{alarm}") for alarm in names.endpoint_alarm_names]),
        *container_statements(s, metrics_sid="PublishEndpointMetrics", pull_sid="PullAlgorithmImage"),
    ]
    if s.vpc:
        statements += vpc_statements(s)
    return iam.document(*statements)


def served_artifacts(s: Scope, names: naming.ModelNames) -> list[str]:
    """What the model's own training pipelines wrote, in every stack this one serves: a version
    refers to its artifacts there (`workload.model_outputs_prefix`)."""
    return [f"{s.registry_bucket}/{model_outputs_prefix(names, source)}*" for source in s.model_sources]


# ---------------------------------------------------------------- what CI does to serve

def serving_statements(s: Scope) -> list[iam.Statement]:
    """Deploy each served model's endpoint: its model from the pinned version (read from the
    central group), configuration, endpoint and autoscaling, and ask it in the smoke test."""
    return [
        iam.allow("ManageEndpoints", ENDPOINT_ACTIONS, sagemaker_resources(s)),
        iam.allow("ReadPinnedVersions", REGISTRY_READ_ACTIONS, s.packages_arn),
        iam.allow("ScaleEndpoints", SCALING_ACTIONS, scalable_targets(s),
                  Condition={"StringEquals": {"application-autoscaling:service-namespace": "sagemaker"}}),
        iam.allow("TagScalableTargets", SCALING_TAG_ACTIONS, scalable_targets(s)),
        iam.allow("ScalingServiceLinkedRole", ["iam:CreateServiceLinkedRole"], scaling_service_role(s),
                  Condition={"StringEquals": {"iam:AWSServiceName": SCALING_SERVICE}}),
    ]


def scaling_service_role(s: Scope) -> str:
    """The service-linked role Application Auto Scaling scales SageMaker endpoints with
    (`AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`, on the service's own path)."""
    return s.iam(f"role/aws-service-role/{SCALING_SERVICE}/*")


def sagemaker_resources(s: Scope) -> list[str]:
    """The stack's pipelines (and their executions, `pipeline/<name>/execution/<id>`) and every
    served model's model, endpoint configuration and endpoint, by the stack's prefix. One list,
    so pipeline and endpoint statements merge in the deploy role's policy (`iam.merged`), which
    must stay under IAM's 10,240 characters."""
    return [s.arn("sagemaker", f"{kind}/{s.pre}-*") for kind in ("endpoint", "endpoint-config", "model", "pipeline")]


def scalable_targets(s: Scope) -> str:
    return s.arn("application-autoscaling", "scalable-target/*")
