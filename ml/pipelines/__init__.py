"""SageMaker pipeline definitions (SDK v3) of one model, built offline and deterministically.

Importing this package does not import the SageMaker SDK; building a definition does.

    settings = settings_for_model(model, region=..., ...)  # or PipelineSettings(...)
    training_json = training_definition(settings)
    inference_json = inference_definition(settings)
    live_json = live_drift_definition(settings)  # a model an endpoint serves (live_drift_pipeline_name set)
"""
from ml.pipelines.inference import build_inference_pipeline, inference_definition
from ml.pipelines.live_drift import build_live_drift_pipeline, live_drift_definition
from ml.pipelines.references import assert_references, check_references
from ml.pipelines.settings import PipelineSettings, settings_for_model
from ml.pipelines.training import build_training_pipeline, training_definition

__all__ = [
    "PipelineSettings",
    "assert_references",
    "build_inference_pipeline",
    "build_live_drift_pipeline",
    "build_training_pipeline",
    "check_references",
    "inference_definition",
    "live_drift_definition",
    "settings_for_model",
    "training_definition",
]
