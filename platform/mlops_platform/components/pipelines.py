"""One model's training and inference pipelines in a workload account, as dynamic resources."""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi

from ml.models import ModelSpec
from ml.pipelines.settings import PipelineSettings, settings_for_model
from ml.sagemaker_pipeline import SageMakerPipeline, SageMakerPipelineArgs
from mlops_platform import naming
from mlops_platform.settings import WorkloadSettings

KINDS = ("training", "inference")
DESCRIPTIONS = {
    "training": "Preprocess, train XGBoost, evaluate, register into the central registry if good enough.",
    "inference": "Batch inference with the latest approved model, then a data drift check.",
}


@dataclass(frozen=True)
class ModelPipelinesArgs:
    settings: WorkloadSettings
    model: ModelSpec
    names: naming.ModelNames
    execution_role_arn: str
    data_bucket_name: str
    data_key_arn: pulumi.Input[str]
    registry_group_arn: pulumi.Input[str]  # this model's group in the central registry
    registry_bucket_name: pulumi.Input[str]
    registry_key_arn: pulumi.Input[str]
    script_uris: Mapping[str, str]
    library_uris: Mapping[str, str]
    schema_uri: str  # this model's schema document (MlCode.schema_uris)
    latest_model_lambda_arn: str


def pipeline_settings(a: ModelPipelinesArgs, data_key_arn: str, group_arn: str, registry_bucket: str,
                      registry_key_arn: str) -> PipelineSettings:
    """The model's `PipelineSettings` in this stack, once the keys, group and bucket are known.

    The model decides its hyperparameters, threshold and sizing (`settings_for_model`); its
    `ModelNames` its pipeline names and S3 prefixes (the first model's are those the platform
    had before models were configurable); the stack everything else.
    """
    s, n, vpc = a.settings, a.names, a.settings.workload.vpc
    return settings_for_model(
        a.model,
        region=s.region, account_id=s.account_id,
        training_pipeline_name=n.pipeline_name("training"), inference_pipeline_name=n.pipeline_name("inference"),
        role_arn=a.execution_role_arn, data_bucket=a.data_bucket_name, kms_key_arn=data_key_arn,
        model_package_group_arn=group_arn, script_uris=a.script_uris, library_uris=a.library_uris,
        schema_uri=a.schema_uri, latest_model_lambda_arn=a.latest_model_lambda_arn,
        subnets=vpc.subnet_ids if vpc else (), security_group_ids=vpc.security_group_ids if vpc else (),
        # Isolated by default: no step of ours needs the network, VPC or not.
        network_isolation=vpc.network_isolation if vpc else True,
        tags=s.default_tags,
        training_data_key=n.training_data_prefix, batch_data_key=n.batch_data_prefix,
        # What a registered model refers to lives in the registry, readable by every account
        # the model may be approved for; each account and model writes only under its own prefix.
        artifacts_bucket=registry_bucket, artifacts_kms_key_arn=registry_key_arn,
        artifacts_prefix=n.artifacts_prefix)


class ModelPipelines(pulumi.ComponentResource):
    """One model's training pipeline (preprocess -> XGBoost -> evaluate -> register if the AUC
    clears the threshold) and inference pipeline (latest approved model -> batch transform ->
    drift check), registered with definitions built offline by `ml.pipelines` (and read from
    the definition cache when built before: ml/pipelines/cache.py).

    With the model's first-training switch on, creating the training pipeline also starts its
    first execution, so the loop begins without console clicks.
    """

    def __init__(self, name: str, args: ModelPipelinesArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:ModelPipelines", name, None, opts)
        from ml.pipelines.cache import cached
        from ml.pipelines.inference import inference_definition
        from ml.pipelines.training import training_definition

        s, names = args.settings, args.names
        builders: dict[str, Callable[[PipelineSettings], str]] = {
            "training": training_definition, "inference": inference_definition}
        built = pulumi.Output.all(args.data_key_arn, args.registry_group_arn, args.registry_bucket_name,
                                  args.registry_key_arn).apply(lambda v: pipeline_settings(args, *v))
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        pipelines = {}
        for kind in KINDS:
            pipelines[kind] = SageMakerPipeline(names.logical(kind), SageMakerPipelineArgs(
                name=names.pipeline_name(kind),
                definition=built.apply(functools.partial(cached, kind, builders[kind])),
                role_arn=args.execution_role_arn, region=s.region, tags=s.default_tags,
                description=DESCRIPTIONS[kind],
                start_on_create=args.model.first_training_run and kind == "training"), opts=child)
        self.training, self.inference = pipelines["training"], pipelines["inference"]
        self.register_outputs({"training": self.training.arn, "inference": self.inference.arn})
