"""The training and inference pipelines of a workload account, as dynamic resources."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ml.pipelines.settings import PipelineSettings
from ml.sagemaker_pipeline import SageMakerPipeline, SageMakerPipelineArgs
from mlops_platform import naming
from mlops_platform.settings import WorkloadSettings


@dataclass(frozen=True)
class ModelPipelinesArgs:
    settings: WorkloadSettings
    execution_role_arn: str
    data_bucket_name: str
    data_key_arn: pulumi.Input[str]
    registry_group_arn: pulumi.Input[str]
    registry_bucket_name: pulumi.Input[str]
    registry_key_arn: pulumi.Input[str]
    script_uris: dict[str, str]
    latest_model_lambda_arn: str


def pipeline_settings(a: ModelPipelinesArgs, data_key_arn: str, group_arn: str, registry_bucket: str,
                      registry_key_arn: str) -> PipelineSettings:
    s, w = a.settings, a.settings.workload
    vpc = w.vpc
    return PipelineSettings(
        region=s.region, account_id=s.account_id,
        training_pipeline_name=naming.pipeline_name(s.role, "training"),
        inference_pipeline_name=naming.pipeline_name(s.role, "inference"),
        role_arn=a.execution_role_arn, data_bucket=a.data_bucket_name, kms_key_arn=data_key_arn,
        model_package_group_arn=group_arn, script_uris=a.script_uris,
        latest_model_lambda_arn=a.latest_model_lambda_arn, auc_threshold=w.auc_threshold,
        subnets=vpc.subnet_ids if vpc else (), security_group_ids=vpc.security_group_ids if vpc else (),
        # Isolated by default: no step of ours needs the network, VPC or not.
        network_isolation=vpc.network_isolation if vpc else True,
        tags=s.default_tags,
        # What a registered model refers to lives in the registry, readable by every account
        # the model may be approved for; each account writes only under its own prefix.
        artifacts_bucket=registry_bucket, artifacts_kms_key_arn=registry_key_arn,
        artifacts_prefix=naming.models_prefix(s.role))


class ModelPipelines(pulumi.ComponentResource):
    """The training pipeline (preprocess -> XGBoost -> evaluate -> register if the AUC
    clears the threshold) and the inference pipeline (latest approved model -> batch
    transform -> drift check), registered with definitions built offline by `ml.pipelines`.

    With the first-deploy switch on, creating the training pipeline also starts its first
    execution, so the loop begins without console clicks.
    """

    def __init__(self, name: str, args: ModelPipelinesArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:ModelPipelines", name, None, opts)
        from ml.pipelines.cache import cached
        from ml.pipelines.inference import inference_definition
        from ml.pipelines.training import training_definition

        s = args.settings
        built = pulumi.Output.all(args.data_key_arn, args.registry_group_arn, args.registry_bucket_name,
                                  args.registry_key_arn).apply(lambda v: pipeline_settings(args, *v))
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        self.training = SageMakerPipeline("training", SageMakerPipelineArgs(
            name=naming.pipeline_name(s.role, "training"),
            definition=built.apply(lambda p: cached("training", training_definition, p)),
            role_arn=args.execution_role_arn, region=s.region, tags=s.default_tags,
            description="Preprocess, train XGBoost, evaluate, register into the central registry if good enough.",
            start_on_create=s.workload.first_training_run), opts=child)
        self.inference = SageMakerPipeline("inference", SageMakerPipelineArgs(
            name=naming.pipeline_name(s.role, "inference"),
            definition=built.apply(lambda p: cached("inference", inference_definition, p)),
            role_arn=args.execution_role_arn, region=s.region, tags=s.default_tags,
            description="Batch inference with the latest approved model, then a data drift check."),
            opts=child)
        self.register_outputs({"training": self.training.arn, "inference": self.inference.arn})
