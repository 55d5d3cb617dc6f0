"""The training pipeline: preprocess -> XGBoost -> evaluate -> AUC gate -> register | fail.

Built offline with the SageMaker SDK v3 (no AWS call; see `offline_sdk.py`). The model is
registered into the central registry account's group by ARN, pending manual approval, with
its AUC as model-quality metrics and, in customer metadata, the S3 locations of the drift
reference and the imputation values fitted on its training split, so inference uses the very
preprocessing and baseline of the model it runs.
"""
from __future__ import annotations

import logging

from ml import contract
from ml.pipelines import building_blocks as blocks
from ml.pipelines import offline_sdk as sdk
from ml.pipelines.settings import PipelineSettings

STEPS = contract.TRAINING_STEPS
# Outputs of the preprocess step, each in PROCESSING_BASE/output/<name> (see ml/steps).
PREPROCESS_OUTPUTS = ("train", "validation", "test", "imputation", "reference")
EVALUATION_PROPERTY_FILE = "EvaluationReport"
APPROVAL_STATUS = "PendingManualApproval"


def training_definition(settings: PipelineSettings) -> str:
    """The training pipeline definition as canonical JSON (sorted keys, no whitespace)."""
    with sdk.offline_sdk(settings.region):
        return sdk.canonical_json(build_training_pipeline(settings).definition())


def build_training_pipeline(settings: PipelineSettings):
    """The training `Pipeline` object for `settings` (no AWS call is made)."""
    with sdk.offline_sdk(settings.region):
        return _build(settings)


def _build(settings: PipelineSettings):
    from sagemaker.core import image_uris
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString

    session = sdk.pipeline_session(settings)
    name = settings.training_pipeline_name
    params = {
        "input": ParameterString(contract.PARAM_INPUT_DATA, default_value=settings.training_data_uri),
        "processing": ParameterString(contract.PARAM_PROCESSING_INSTANCE,
                                      default_value=settings.processing_instance_type),
        "training": ParameterString(contract.PARAM_TRAINING_INSTANCE, default_value=settings.training_instance_type),
        "threshold": ParameterFloat(contract.PARAM_AUC_THRESHOLD, default_value=float(settings.auc_threshold)),
    }
    sklearn_image = image_uris.retrieve("sklearn", settings.region, version=contract.SKLEARN_FRAMEWORK_VERSION)
    xgboost_image = image_uris.retrieve("xgboost", settings.region, version=contract.XGBOOST_FRAMEWORK_VERSION)

    preprocess = _preprocess_step(settings, session, name, params, sklearn_image)
    train = _train_step(settings, session, name, params, xgboost_image, preprocess)
    evaluate, report = _evaluate_step(settings, session, name, params, xgboost_image, preprocess, train)
    register = _register_step(settings, session, xgboost_image, preprocess, train, evaluate)
    gate = _gate_step(params, evaluate, report, register)
    return sdk.offline_pipeline(
        settings,
        name=name,
        parameters=list(params.values()),
        pipeline_experiment_config=blocks.experiment_config(settings),
        steps=[preprocess, train, evaluate, gate],
        sagemaker_session=session,
    )


def _preprocess_step(settings, session, name, params, image_uri):
    from sagemaker.mlops.workflow.steps import ProcessingStep

    step = STEPS["preprocess"]
    args = blocks.run_script(settings, session, pipeline_name=name, step=step, job="preprocess",
                             script=contract.PREPROCESS_SCRIPT, instance_type=params["processing"],
                             image_uri=image_uri, inputs={"data": params["input"]}, outputs=PREPROCESS_OUTPUTS,
                             model=True)
    # Not cached: the cache key holds the input prefix, not what is under it, and a
    # retraining exists to learn from data that landed there since. Train and evaluate,
    # whose inputs are this execution's outputs, stay cached (a retried execution reuses them).
    return ProcessingStep(
        name=step,
        step_args=args,
        retry_policies=blocks.job_retry_policies(),
    )


def _train_step(settings, session, name, params, image_uri, preprocess):
    from sagemaker.core.shapes import OutputDataConfig, StoppingCondition, Tag
    from sagemaker.core.training.configs import Compute, InputData
    from sagemaker.mlops.workflow.steps import TrainingStep
    from sagemaker.train import ModelTrainer

    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    trainer = ModelTrainer(
        training_image=image_uri,
        role=settings.role_arn,
        sagemaker_session=session,
        base_job_name="train-xgboost",
        compute=Compute(
            instance_type=params["training"],
            instance_count=settings.training_instance_count,
            volume_size_in_gb=settings.volume_size_gb,
            volume_kms_key_id=settings.kms_key_arn,
        ),
        networking=blocks.networking(settings),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=settings.training_max_runtime_seconds),
        output_data_config=OutputDataConfig(
            s3_output_path=blocks.output_uri(settings, name, STEPS["train"], "model", model=True),
            kms_key_id=settings.model_kms_key_arn,
        ),
        hyperparameters=dict(settings.hyperparameters),
        input_data_config=[
            InputData(channel_name=channel, data_source=outputs[channel].S3Output.S3Uri, content_type=blocks.CSV)
            for channel in ("train", "validation")
        ],
        tags=[Tag(key=k, value=v) for k, v in settings.tags.items()] or None,
    )
    # Cached: inputs are the preprocess outputs of one execution (new data, new URIs).
    return TrainingStep(
        name=STEPS["train"],
        step_args=trainer.train(),
        cache_config=blocks.cache_config(settings),
        retry_policies=blocks.job_retry_policies(),
    )


def _evaluate_step(settings, session, name, params, image_uri, preprocess, train):
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.steps import ProcessingStep

    step = STEPS["evaluate"]
    report = PropertyFile(name=EVALUATION_PROPERTY_FILE, output_name="evaluation", path=contract.EVALUATION_FILE)
    test_uri = preprocess.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri
    args = blocks.run_script(settings, session, pipeline_name=name, step=step, job="evaluate",
                             script=contract.EVALUATE_SCRIPT, instance_type=params["processing"],
                             image_uri=image_uri, outputs=("evaluation",), model=True,
                             inputs={"model": train.properties.ModelArtifacts.S3ModelArtifacts, "test": test_uri,
                                     # Read only to record their sha256 (see `_register_step`).
                                     **{name: preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri
                                        for name in ("reference", "imputation")}})
    step_obj = ProcessingStep(
        name=step,
        step_args=args,
        property_files=[report],
        cache_config=blocks.cache_config(settings),
        retry_policies=blocks.job_retry_policies(),
    )
    return step_obj, report


def _register_step(settings, session, image_uri, preprocess, train, evaluate):
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.serve.model_builder import ModelBuilder

    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    evaluation_uri = evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
    builder = ModelBuilder(
        image_uri=image_uri,
        s3_model_data_url=train.properties.ModelArtifacts.S3ModelArtifacts,
        role_arn=settings.role_arn,
        sagemaker_session=session,
        dependencies={},  # the default ({"auto": True}) packs and uploads local code to S3
        log_level=logging.ERROR,  # its default (DEBUG) floods `pulumi up` diagnostics
    )
    # A model package carries no network settings: the CreateModel of whoever deploys it does.
    args = builder.register(
        model_package_group_name=settings.model_package_group_arn,
        content_types=[blocks.CSV],
        response_types=[blocks.CSV],
        inference_instances=[settings.transform_instance_type],
        transform_instances=[settings.transform_instance_type],
        approval_status=APPROVAL_STATUS,
        model_metrics=ModelMetrics(
            model_statistics=MetricsSource(
                content_type="application/json",
                s3_uri=Join(on="/", values=[evaluation_uri, contract.EVALUATION_FILE]),
            )
        ),
        customer_metadata_properties={
            contract.METADATA_REFERENCE_URI: outputs["reference"].S3Output.S3Uri,
            contract.METADATA_IMPUTATION_URI: outputs["imputation"].S3Output.S3Uri,
            # The sha256 of what the version refers to, as evaluated: inference verifies them
            # (ml/lambdas/latest_approved_model.py), and only the registry can change metadata.
            **{key: JsonGet(step_name=evaluate.name, property_file=EVALUATION_PROPERTY_FILE,
                            json_path=f"{contract.EVALUATION_DIGESTS_PATH}.{key}")
               for key in contract.METADATA_DIGESTS.values()},
        },
        domain="MACHINE_LEARNING",
        task="CLASSIFICATION",
    )
    # Not cached: each passing run must register its own version.
    return ModelStep(name=STEPS["register"], step_args=args, retry_policies=blocks.step_retry_policies())


def _gate_step(params, evaluate, report, register):
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep

    auc = JsonGet(step_name=evaluate.name, property_file=report, json_path=contract.EVALUATION_AUC_PATH)
    fail = FailStep(
        name=STEPS["fail"],
        error_message=Join(on=" ", values=["Model AUC", auc, "is below the threshold", params["threshold"]]),
    )
    return ConditionStep(
        name=STEPS["condition"],
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=params["threshold"])],
        if_steps=[register],
        else_steps=[fail],
    )
