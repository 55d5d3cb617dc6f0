"""SageMaker pipeline definitions (SDK v3) of one model, built offline and deterministically.

Importing this package does not import the SageMaker SDK; building a definition does.

    settings = settings_for_model(model, region=..., ...)  # or PipelineSettings(...)
    training_json = training_definition(settings)
    inference_json = inference_definition(settings)
"""
from ml.pipelines.inference import build_inference_pipeline, inference_definition
from ml.pipelines.references import assert_references, check_references
from ml.pipelines.settings import PipelineSettings, settings_for_model
from ml.pipelines.training import build_training_pipeline, training_definition

__all__ = [
    "PipelineSettings",
    "assert_references",
    "build_inference_pipeline",
    "build_training_pipeline",
    "check_references",
    "inference_definition",
    "settings_for_model",
    "training_definition",
]
