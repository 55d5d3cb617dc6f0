"""One served model in a workload account: its own role, and the endpoint that runs as it."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ml.models import ModelSpec
from ml.serving_config import Pin
from mlops_platform import iam, naming
from mlops_platform.components.model_endpoint import ModelEndpoint, ModelEndpointArgs, Rollout, Scaling
from mlops_platform.iam_documents import serving as documents
from mlops_platform.iam_documents.scope import Scope
from mlops_platform.settings import WorkloadSettings


@dataclass(frozen=True)
class ServedModelArgs:
    settings: WorkloadSettings
    model: ModelSpec
    names: naming.ModelNames
    pin: Pin  # the version this stack serves (`mlops-platform:servedVersions`)
    data_bucket_name: str
    data_key_arn: pulumi.Input[str]
    registry_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]


class ServedModel(pulumi.ComponentResource):
    """The model's serving role (`mlops-<stack>-serving-<model>`, one per model, its policy naming
    only this model's group, artifacts, capture prefix and alarms; the workload boundary set by
    the program's transformation) and its `ModelEndpoint`: the pinned version, blue/green canary
    with rollback on alarms that notify the stack's alert topic, data capture under
    `s3://<data bucket>/capture/<model>/` with the data key; in a VPC stack (prod) the jobs'
    subnets and network isolation.
    """

    def __init__(self, name: str, args: ServedModelArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:ServedModel", name, None, opts)
        s, n, child = args.settings, args.names, pulumi.ResourceOptions(parent=self)
        scope = Scope.of(s)
        self.role = aws.iam.Role(
            f"{name}-role", name=n.serving_role_name, max_session_duration=3600,
            description=f"Runs the {args.model.name} endpoint: its pinned version, its capture, nothing else.",
            assume_role_policy=iam.service_trust("sagemaker.amazonaws.com", s.account_id), opts=child)
        keys = pulumi.Output.all(args.data_key_arn, args.registry_key_arn)
        policy = aws.iam.RolePolicy(
            f"{name}-policy", role=self.role.name, name="least-privilege",
            policy=keys.apply(lambda k: documents.serving_document(scope, n, args.model.group_name, *k)),
            opts=child)
        vpc = s.workload.vpc
        serving = args.model.serving
        self.endpoint = ModelEndpoint(f"{name}-endpoint", ModelEndpointArgs(
            endpoint_name=n.endpoint_name, model_package_arn=args.pin.arn,
            # The ARN the role gets (known before it exists, so the names below are too); the
            # endpoint waits for the role and its policy, or SageMaker could not assume it yet.
            execution_role_arn=n.serving_role_arn(s.region, s.account_id),
            data_key_arn=args.data_key_arn, capture_uri=f"s3://{args.data_bucket_name}/{n.capture_prefix}",
            alert_topic_arn=args.alert_topic_arn,
            scaling=Scaling(instance_type=serving.instance_type, initial_count=serving.initial_count,
                            min_count=serving.min_count, max_count=serving.max_count,
                            target_invocations_per_instance=serving.target_invocations_per_instance),
            rollout=Rollout(canary_percent=serving.canary_percent, max_p99_latency_ms=serving.max_p99_latency_ms),
            vpc=vpc, network_isolation=vpc.network_isolation if vpc else True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role, policy]))
        self.endpoint_name = n.endpoint_name
        self.register_outputs({"endpointName": self.endpoint_name})
