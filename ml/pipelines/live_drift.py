"""The live-drift pipeline of a model an endpoint serves: latest approved model -> the endpoint's
captured requests of the last hours as a raw batch -> the drift check against that model's
reference -> the batch pipeline's fail steps (drift, or too little data to judge).

What it compares, and why:
- The requests: every request the endpoint's data capture wrote under the model's capture prefix
  (`CaptureDataUri`, default the whole `capture/<model>/` of the data bucket) that was answered in
  the last `CaptureWindowHours` (default `PipelineSettings.capture_window_hours`, 24) before the
  step ran. A window, not the whole history: a change in the last day would be diluted by months
  of earlier traffic. Both are parameters, so an operator can judge another period by hand.
- The reference: the drift reference of the latest approved version, verified and copied by the
  model's lookup Lambda, exactly as the batch pipeline gets it. Not the pinned version's: drift
  answers "retrain?", and once a retrained version is approved, retraining again does not help;
  what is pending then is its promotion (a pull request), so comparing with the newest approved
  reference keeps a retraining storm from starting while that pull request waits. It also keeps
  the definition independent of the pin, and prod jobs can read another stack's artifacts only
  through that Lambda's verified copies.
- The tests: distribution and out-of-domain rate per feature (`contract.LIVE_DRIFT_TESTS`),
  Bonferroni over those. Clients send model-ready rows, imputed, whose missing-value rate says
  nothing about the raw reference's.

The drift fail step has the batch pipeline's name (`contract.LIVE_DRIFT_STEPS`), so the model's
drift rule and retrain gate, which accept both pipelines, retrain on either and share one
cool-down. A window without requests fails the capture step (notified, not drift).
"""
from __future__ import annotations

from ml import contract
from ml.pipelines import building_blocks as blocks
from ml.pipelines import drift_steps
from ml.pipelines import offline_sdk as sdk
from ml.pipelines.settings import PipelineSettings

STEPS = contract.LIVE_DRIFT_STEPS


def live_drift_definition(settings: PipelineSettings) -> str:
    """The live-drift pipeline definition as canonical JSON (sorted keys, no whitespace)."""
    with sdk.offline_sdk(settings.region):
        return sdk.canonical_json(build_live_drift_pipeline(settings).definition())


def build_live_drift_pipeline(settings: PipelineSettings):
    """The live-drift `Pipeline` object for `settings` (no AWS call is made)."""
    if settings.live_drift_pipeline_name is None or settings.capture_data_uri is None:
        raise ValueError("live_drift_pipeline_name and capture_data_key are not set: only a model an endpoint "
                         "serves has a live-drift pipeline")
    with sdk.offline_sdk(settings.region):
        return _build(settings, settings.live_drift_pipeline_name, settings.capture_data_uri)


def _build(settings: PipelineSettings, name: str, capture_uri: str):
    from sagemaker.core import image_uris
    from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString

    session = sdk.pipeline_session(settings)
    params = {
        "capture": ParameterString(contract.PARAM_CAPTURE_DATA, default_value=capture_uri),
        "window": ParameterInteger(contract.PARAM_CAPTURE_WINDOW, default_value=settings.capture_window_hours),
        "processing": ParameterString(contract.PARAM_PROCESSING_INSTANCE,
                                      default_value=settings.processing_instance_type),
    }
    sklearn_image = image_uris.retrieve("sklearn", settings.region, version=contract.SKLEARN_FRAMEWORK_VERSION)

    latest = drift_steps.latest_model_step(settings, session)
    captured = _capture_step(settings, session, name, params, sklearn_image)
    drift, report = drift_steps.drift_step(
        settings, session, pipeline_name=name, instance_type=params["processing"], image_uri=sklearn_image,
        batch=captured.properties.ProcessingOutputConfig.Outputs["batch"].S3Output.S3Uri,
        reference=latest.properties.Outputs["ReferenceDataUri"],
        arguments=("--tests", ",".join(contract.LIVE_DRIFT_TESTS)))
    drift_gate = drift_steps.drift_gate(
        drift, report, "Data drift detected in the endpoint's captured requests: see drift_report.json of step "
        f"{drift.name}. The retraining rule starts the training pipeline on this failure.")
    too_little_data_gate = drift_steps.too_little_data_gate(
        drift, report, "Too little data to judge drift: the captured requests of the window or the reference "
        f"have fewer rows than the drift check needs (see drift_report.md of step {drift.name}). This is not "
        f"drift and does not start retraining; widen {contract.PARAM_CAPTURE_WINDOW} for an endpoint with "
        "little traffic.")
    return sdk.offline_pipeline(
        settings,
        name=name,
        parameters=list(params.values()),
        pipeline_experiment_config=blocks.experiment_config(settings),
        steps=[latest, captured, drift, drift_gate, too_little_data_gate],
        sagemaker_session=session,
    )


def _capture_step(settings, session, name, params, image_uri):
    from sagemaker.mlops.workflow.steps import ProcessingStep

    step = STEPS["capture"]
    args = blocks.run_script(settings, session, pipeline_name=name, step=step, job="capture-batch",
                             script=contract.CAPTURE_BATCH_SCRIPT, instance_type=params["processing"],
                             image_uri=image_uri, outputs=("batch",), inputs={"capture": params["capture"]},
                             arguments=("--window-hours", params["window"].to_string()))
    # Not cached: the capture prefix is fixed while the requests under it, and the window, move.
    return ProcessingStep(name=step, step_args=args, retry_policies=blocks.job_retry_policies())
