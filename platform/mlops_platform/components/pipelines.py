"""One model's training and inference pipelines in a workload account, as dynamic resources, and
its live-drift pipeline when an endpoint serves it."""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi

from ml import contract
from ml.models import ModelSpec
from ml.pipelines.settings import PipelineSettings, settings_for_model
from ml.sagemaker_pipeline import SageMakerPipeline, SageMakerPipelineArgs
from mlops_platform import naming
from mlops_platform.settings import WorkloadSettings

KINDS = ("training", "inference")
# The pipeline kind (the name's last part) of a served model's check of its captured requests.
LIVE_DRIFT = contract.LIVE_DRIFT_PIPELINE_KIND
DESCRIPTIONS = {
    "training": "Preprocess, train XGBoost, evaluate, register into the central registry if good enough.",
    "inference": "Batch inference with the latest approved model, then a data drift check.",
    LIVE_DRIFT: "The endpoint's captured requests of the last hours checked for data drift against the latest "
                "approved model's reference.",
}


def has_live_drift(model: ModelSpec, live_drift: bool | None) -> bool:
    """Whether the model gets a live-drift pipeline (and its schedule): `live_drift` when the caller
    decides (e.g. False for an endpoint model without a pinned version, hence no endpoint, in this
    stack), else whenever its serving includes an endpoint."""
    return model.serving.endpoint if live_drift is None else live_drift


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
    live_drift: bool | None = None  # see has_live_drift


def pipeline_settings(a: ModelPipelinesArgs, data_key_arn: str, group_arn: str, registry_bucket: str,
                      registry_key_arn: str) -> PipelineSettings:
    """The model's `PipelineSettings` in this stack, once the keys, group and bucket are known.

    The model decides its hyperparameters, threshold and sizing (`settings_for_model`); its
    `ModelNames` its pipeline names and S3 prefixes (the first model's are those the platform
    had before models were configurable); the stack everything else. A model an endpoint serves
    also gets its live-drift pipeline's name and the capture prefix its endpoint writes to.
    """
    s, n, vpc = a.settings, a.names, a.settings.workload.vpc
    live = dict(live_drift_pipeline_name=n.pipeline_name(LIVE_DRIFT), capture_data_key=n.capture_prefix) \
        if has_live_drift(a.model, a.live_drift) else {}
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
        artifacts_prefix=n.artifacts_prefix, **live)


class ModelPipelines(pulumi.ComponentResource):
    """One model's training pipeline (preprocess -> XGBoost -> evaluate -> register if the AUC
    clears the threshold) and inference pipeline (latest approved model -> batch transform ->
    drift check), registered with definitions built offline by `ml.pipelines` (and read from
    the definition cache when built before: ml/pipelines/cache.py).

    With the model's first-training switch on, creating the training pipeline also starts its
    first execution, so the loop begins without console clicks. A model an endpoint serves also
    gets its live-drift pipeline (`ml.pipelines.live_drift`: its captured requests against the
    latest approved model's reference); `self.live_drift` is None otherwise.
    """

    def __init__(self, name: str, args: ModelPipelinesArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:ModelPipelines", name, None, opts)
        from ml.pipelines.cache import cached
        from ml.pipelines.inference import inference_definition
        from ml.pipelines.live_drift import live_drift_definition
        from ml.pipelines.training import training_definition

        s, names = args.settings, args.names
        builders: dict[str, Callable[[PipelineSettings], str]] = {
            "training": training_definition, "inference": inference_definition, LIVE_DRIFT: live_drift_definition}
        kinds = KINDS + ((LIVE_DRIFT,) if has_live_drift(args.model, args.live_drift) else ())
        built = pulumi.Output.all(args.data_key_arn, args.registry_group_arn, args.registry_bucket_name,
                                  args.registry_key_arn).apply(lambda v: pipeline_settings(args, *v))
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        pipelines = {}
        for kind in kinds:
            pipelines[kind] = SageMakerPipeline(names.logical(kind), SageMakerPipelineArgs(
                name=names.pipeline_name(kind),
                definition=built.apply(functools.partial(cached, kind, builders[kind])),
                role_arn=args.execution_role_arn, region=s.region, tags=s.default_tags,
                description=DESCRIPTIONS[kind],
                start_on_create=args.model.first_training_run and kind == "training"), opts=child)
        self.training, self.inference = pipelines["training"], pipelines["inference"]
        self.live_drift = pipelines.get(LIVE_DRIFT)
        self.register_outputs({kind: pipeline.arn for kind, pipeline in pipelines.items()})
