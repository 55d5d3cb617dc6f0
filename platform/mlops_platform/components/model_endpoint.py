"""A real-time SageMaker endpoint serving one pinned, approved version of a model."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_platform.naming import ENDPOINT_ALARMS  # the serving role may read exactly these
from mlops_platform.settings import VpcSettings

VARIANT = "AllTraffic"
# Alarms judge the new fleet during a blue/green rollout and the whole endpoint after it: a
# rollout watched by alarms that cannot fire proves nothing, so both are per endpoint.
ERROR_METRICS = ("Invocation5XXErrors", "ModelError")


@dataclass(frozen=True)
class Rollout:
    """Blue/green with a canary: `canary_percent` of capacity takes traffic first, for
    `bake_seconds`; an alarm in that window (or in `termination_wait_seconds` after the full
    shift) rolls every request back to the old fleet, which SageMaker keeps until then."""

    canary_percent: int = 10
    bake_seconds: int = 600
    termination_wait_seconds: int = 600
    timeout_seconds: int = 3600
    max_error_count: int = 1  # per minute, summed over the endpoint's error metrics
    max_p99_latency_ms: int = 500


@dataclass(frozen=True)
class Scaling:
    """Instances of the variant, and the invocations per instance per minute autoscaling aims at."""

    instance_type: str = "ml.m5.large"
    initial_count: int = 1
    min_count: int = 1
    max_count: int = 2
    target_invocations_per_instance: int = 100


@dataclass(frozen=True)
class ModelEndpointArgs:
    endpoint_name: str
    model_package_arn: str  # the pinned version, in the central registry's group
    execution_role_arn: pulumi.Input[str]
    data_key_arn: pulumi.Input[str]
    capture_uri: str  # s3://<data bucket>/capture/<model>/: requests and responses, encrypted
    alert_topic_arn: pulumi.Input[str]
    scaling: Scaling = Scaling()
    rollout: Rollout = Rollout()
    vpc: VpcSettings | None = None
    network_isolation: bool = True


class ModelEndpoint(pulumi.ComponentResource):
    """The SageMaker model (from the pinned model package, cross-account), an endpoint
    configuration (volume encrypted with the stack's data key, every request and response
    captured to the stack's bucket with that key), the endpoint with a blue/green canary rollout
    that rolls itself back on alarms, the alarms (errors and p99 latency, notifying the alert
    topic) and target-tracking autoscaling on invocations per instance.

    The endpoint configuration is immutable: a new pinned version makes a new model and
    configuration (created before the old ones are deleted), and pointing the endpoint at it is
    what starts the canary. Their names (`versioned_name`) carry the endpoint's name, so the
    deploy role reaches them by the stack's prefix, the version, so a preview shows which one,
    and a digest of everything that makes AWS replace them, so the replacement never takes the
    name of what it replaces.
    """

    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:serving:ModelEndpoint", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc: aws.sagemaker.ModelVpcConfigArgsDict | None = {
            "subnets": list(args.vpc.subnet_ids), "security_group_ids": list(args.vpc.security_group_ids)} \
            if args.vpc else None
        model_inputs = pulumi.Output.all(args.execution_role_arn).apply(lambda role: {
            "role": role, "package": args.model_package_arn, "isolation": args.network_isolation, "vpc": vpc})
        self.model = aws.sagemaker.Model(
            f"{name}-model", name=model_inputs.apply(lambda i: versioned_name(args, i)),
            execution_role_arn=args.execution_role_arn,
            primary_container={"model_package_name": args.model_package_arn},
            enable_network_isolation=args.network_isolation, vpc_config=vpc, opts=child)
        variants: list[aws.sagemaker.EndpointConfigurationProductionVariantArgsDict] = [{
            "variant_name": VARIANT, "model_name": self.model.name, "instance_type": args.scaling.instance_type,
            "initial_instance_count": args.scaling.initial_count}]
        capture = capture_config(args.capture_uri, args.data_key_arn)
        config_inputs = pulumi.Output.all(variants, capture, args.data_key_arn)
        self.config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config", name=config_inputs.apply(lambda i: versioned_name(args, i)),
            kms_key_arn=args.data_key_arn, production_variants=variants, data_capture_config=capture,
            opts=child)
        self.alarms = [self._alarm(name, args, kind) for kind in ENDPOINT_ALARMS]
        self.endpoint = aws.sagemaker.Endpoint(
            name, name=args.endpoint_name, endpoint_config_name=self.config.name,
            deployment_config=deployment_config(args.rollout, [a.name for a in self.alarms]), opts=child)
        target = aws.appautoscaling.Target(
            f"{name}-scaling", service_namespace="sagemaker",
            resource_id=self.endpoint.name.apply(lambda n: f"endpoint/{n}/variant/{VARIANT}"),
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=args.scaling.min_count, max_capacity=args.scaling.max_count, opts=child)
        aws.appautoscaling.Policy(
            f"{name}-invocations", policy_type="TargetTrackingScaling", service_namespace=target.service_namespace,
            resource_id=target.resource_id, scalable_dimension=target.scalable_dimension,
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"},
                "target_value": float(args.scaling.target_invocations_per_instance),
                "scale_in_cooldown": 300, "scale_out_cooldown": 60},
            opts=child)
        self.register_outputs({"endpointName": self.endpoint.name})

    def _alarm(self, name: str, args: ModelEndpointArgs, kind: str) -> aws.cloudwatch.MetricAlarm:
        dimensions = {"EndpointName": args.endpoint_name, "VariantName": VARIANT}
        topic = [args.alert_topic_arn]
        alarm_name = f"{args.endpoint_name}-{kind}"
        if kind == "latency":
            limit = args.rollout.max_p99_latency_ms
            return aws.cloudwatch.MetricAlarm(
                f"{name}-{kind}", name=alarm_name, namespace="AWS/SageMaker", metric_name="ModelLatency",
                dimensions=dimensions, extended_statistic="p99", period=60, comparison_operator="GreaterThanThreshold",
                threshold=float(limit * 1000),  # ModelLatency is in microseconds
                alarm_description=f"p99 model latency above {limit} ms: a rollout rolls back.",
                alarm_actions=topic, ok_actions=topic, evaluation_periods=1, datapoints_to_alarm=1,
                treat_missing_data="notBreaching", opts=pulumi.ResourceOptions(parent=self))
        queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = [
            {"id": f"m{i}", "return_data": False, "metric": {
                "namespace": "AWS/SageMaker", "metric_name": metric, "dimensions": dimensions, "period": 60,
                "stat": "Sum"}} for i, metric in enumerate(ERROR_METRICS)]
        queries.append({"id": "errors", "expression": "FILL(m0, 0) + FILL(m1, 0)", "label": "Errors", "return_data": True})
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{kind}", name=alarm_name, comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=float(args.rollout.max_error_count), metric_queries=queries,
            alarm_description="Endpoint errors (5XX or model errors): a rollout rolls back.",
            alarm_actions=topic, ok_actions=topic, evaluation_periods=1, datapoints_to_alarm=1,
            treat_missing_data="notBreaching", opts=pulumi.ResourceOptions(parent=self))


def versioned_name(args: ModelEndpointArgs, inputs: Any) -> str:
    """`<endpoint>-v<version>-<digest of inputs>`: at most 63 characters, SageMaker's limit for model
    and endpoint configuration names (an endpoint name of 42, models/`ml.models.MAX_NAME_LENGTH`,
    leaves room for a ten-digit version)."""
    version = args.model_package_arn.rsplit("/", 1)[-1]
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()[:8]
    name = f"{args.endpoint_name}-v{version}-{digest}"
    if len(name) > 63:
        raise ValueError(f"{name!r} is longer than the 63 characters SageMaker allows: shorten the model's name")
    return name


def capture_config(capture_uri: str,
                   key_arn: pulumi.Input[str]) -> aws.sagemaker.EndpointConfigurationDataCaptureConfigArgsDict:
    """Every request and response, CSV kept as text, encrypted with the stack's data key."""
    return {"enable_capture": True, "initial_sampling_percentage": 100, "destination_s3_uri": capture_uri,
            "kms_key_id": key_arn, "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
            "capture_content_type_header": {"csv_content_types": ["text/csv"]}}


def deployment_config(rollout: Rollout,
                      alarm_names: list[pulumi.Output[str]]) -> aws.sagemaker.EndpointDeploymentConfigArgsDict:
    """Blue/green, canary first, rolled back automatically when any alarm fires."""
    return {
        "blue_green_update_policy": {
            "traffic_routing_configuration": {
                "type": "CANARY", "wait_interval_in_seconds": rollout.bake_seconds,
                "canary_size": {"type": "CAPACITY_PERCENT", "value": rollout.canary_percent}},
            "termination_wait_in_seconds": rollout.termination_wait_seconds,
            "maximum_execution_timeout_in_seconds": rollout.timeout_seconds},
        "auto_rollback_configuration": {"alarms": [{"alarm_name": n} for n in alarm_names]},
    }
