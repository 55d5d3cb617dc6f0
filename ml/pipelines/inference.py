"""The inference pipeline: latest approved model -> prepare batch -> model -> batch transform
-> drift check -> fail step named for drift when drift is found, or a fail step of its own when
the batch or the reference is too small for the check to judge.

The latest *Approved* package of the central group is looked up at run time by a Lambda
(referenced by ARN only: the SDK would otherwise create or update the function). The
Lambda also returns the S3 locations of that model's imputation values and drift reference,
so the batch is prepared and compared exactly as that model's training data was. The drift
step fails the execution under its own name, which the retraining rule matches; too little
data fails it under another name, which the rule does not match (a failure to notify, not a
reason to retrain).
"""
from __future__ import annotations

import logging

from ml import contract
from ml.pipelines import building_blocks as blocks
from ml.pipelines import drift_steps
from ml.pipelines import offline_sdk as sdk
from ml.pipelines.settings import PipelineSettings

STEPS = contract.INFERENCE_STEPS
DRIFT_PROPERTY_FILE = drift_steps.DRIFT_PROPERTY_FILE
LAMBDA_INPUT_GROUP = drift_steps.LAMBDA_INPUT_GROUP


def inference_definition(settings: PipelineSettings) -> str:
    """The inference pipeline definition as canonical JSON (sorted keys, no whitespace)."""
    with sdk.offline_sdk(settings.region):
        return sdk.canonical_json(build_inference_pipeline(settings).definition())


def build_inference_pipeline(settings: PipelineSettings):
    """The inference `Pipeline` object for `settings` (no AWS call is made)."""
    with sdk.offline_sdk(settings.region):
        return _build(settings)


def _build(settings: PipelineSettings):
    from sagemaker.core import image_uris
    from sagemaker.core.workflow.parameters import ParameterString

    session = sdk.pipeline_session(settings)
    name = settings.inference_pipeline_name
    params = {
        "batch": ParameterString(contract.PARAM_BATCH_DATA, default_value=settings.batch_data_uri),
        "processing": ParameterString(contract.PARAM_PROCESSING_INSTANCE,
                                      default_value=settings.processing_instance_type),
        "transform": ParameterString(contract.PARAM_TRANSFORM_INSTANCE, default_value=settings.transform_instance_type),
    }
    sklearn_image = image_uris.retrieve("sklearn", settings.region, version=contract.SKLEARN_FRAMEWORK_VERSION)

    latest = drift_steps.latest_model_step(settings, session)
    prepare = _prepare_step(settings, session, name, params, sklearn_image, latest)
    model = _model_step(settings, session, latest)
    transform = _transform_step(settings, session, name, params, prepare, model)
    drift, report = _drift_step(settings, session, name, params, sklearn_image, latest, transform)
    drift_gate = _drift_gate(drift, report)
    too_little_data_gate = _too_little_data_gate(drift, report)
    return sdk.offline_pipeline(
        settings,
        name=name,
        parameters=list(params.values()),
        pipeline_experiment_config=blocks.experiment_config(settings),
        steps=[latest, prepare, model, transform, drift, drift_gate, too_little_data_gate],
        sagemaker_session=session,
    )


def _prepare_step(settings, session, name, params, image_uri, latest):
    from sagemaker.mlops.workflow.steps import ProcessingStep

    step = STEPS["prepare"]
    lambda_out = latest.properties.Outputs
    args = blocks.run_script(settings, session, pipeline_name=name, step=step, job="prepare-batch",
                             script=contract.PREPARE_BATCH_SCRIPT, instance_type=params["processing"],
                             image_uri=image_uri, outputs=("batch",),
                             inputs={"batch": params["batch"], "imputation": lambda_out["ImputationUri"]})
    # Not cached: the batch location is fixed while its content changes on every schedule.
    return ProcessingStep(name=step, step_args=args, retry_policies=blocks.job_retry_policies())


def _model_step(settings, session, latest):
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.serve.model_builder import ModelBuilder

    lambda_out = latest.properties.Outputs
    builder = ModelBuilder(
        image_uri=lambda_out["ImageUri"],
        s3_model_data_url=lambda_out["ModelDataUrl"],
        role_arn=settings.role_arn,
        sagemaker_session=session,
        network=blocks.networking(settings),
        instance_type=settings.transform_instance_type,
        dependencies={},  # the default ({"auto": True}) packs and uploads local code to S3
        log_level=logging.ERROR,  # its default (DEBUG) floods `pulumi up` diagnostics
    )
    args = builder.build(tags=blocks.job_tags(settings))
    return ModelStep(name=STEPS["model"], step_args=args, retry_policies=blocks.step_retry_policies())


def _transform_step(settings, session, name, params, prepare, model):
    from sagemaker.core.transformer import Transformer
    from sagemaker.mlops.workflow.steps import TransformStep

    step = STEPS["transform"]
    transformer = Transformer(
        model_name=model.properties.ModelName,
        instance_type=params["transform"],
        instance_count=settings.transform_instance_count,
        strategy="MultiRecord",
        assemble_with="Line",
        accept=blocks.CSV,
        output_path=blocks.output_uri(settings, name, step, "predictions"),
        output_kms_key=settings.kms_key_arn,
        volume_kms_key=settings.kms_key_arn,
        tags=blocks.job_tags(settings),
        base_transform_job_name="batch-transform",
        sagemaker_session=session,
    )
    args = transformer.transform(
        data=prepare.properties.ProcessingOutputConfig.Outputs["batch"].S3Output.S3Uri,
        content_type=blocks.CSV,
        split_type="Line",
        model_client_config={
            "InvocationsTimeoutInSeconds": settings.transform_invocation_timeout_seconds,
            "InvocationsMaxRetries": 1,
        },
    )
    # Not cached: a new batch at the same location must be scored again.
    return TransformStep(name=step, step_args=args, retry_policies=blocks.job_retry_policies())


def _drift_step(settings, session, name, params, image_uri, latest, transform):
    # After the transform, so a batch is always scored before a drift verdict can fail the execution.
    return drift_steps.drift_step(settings, session, pipeline_name=name, instance_type=params["processing"],
                                  image_uri=image_uri, batch=params["batch"],
                                  reference=latest.properties.Outputs["ReferenceDataUri"], depends_on=[transform])


def _drift_gate(drift, report):
    return drift_steps.drift_gate(drift, report, "Data drift detected in the batch: see drift_report.json of step "
                                  f"{drift.name}. The retraining rule starts the training pipeline on this failure.")


def _too_little_data_gate(drift, report):
    return drift_steps.too_little_data_gate(
        drift, report, "Too little data to judge drift: the batch or the reference has fewer rows "
        f"than the drift check needs (see drift_report.md of step {drift.name}). The batch was "
        "scored; this is not drift and does not start retraining.")
