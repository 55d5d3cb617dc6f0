"""Names shared across the ML package, the pipelines, the Lambdas and the Pulumi program.

One place, so a step renamed in a pipeline cannot silently break the EventBridge rule that
matches it. Step scripts run alone inside AWS containers and cannot import this module:
they restate the few names they need, and a test checks they agree with this file.
"""
from __future__ import annotations

from pathlib import Path

# Raw UCI layout: no header, `?` for missing, Severity (the label) last and optional in batches.
RAW_COLUMNS = ("BI-RADS", "Age", "Shape", "Margin", "Density", "Severity")
FEATURES = RAW_COLUMNS[:5]
LABEL = "Severity"
NUMERIC_FEATURES = ("Age",)
ORDINAL_FEATURES = ("BI-RADS", "Density")
NOMINAL_FEATURES = ("Shape", "Margin")

PACKAGE_DIR = Path(__file__).resolve().parent
STEPS_DIR = PACKAGE_DIR / "steps"
LAMBDAS_DIR = PACKAGE_DIR / "lambdas"
DATA_FILE = PACKAGE_DIR.parent / "data" / "mammographic_masses.data"

# Step scripts, uploaded by content-addressed keys and referenced from the definitions.
PREPROCESS_SCRIPT = "preprocess.py"
PREPARE_BATCH_SCRIPT = "prepare_batch.py"
EVALUATE_SCRIPT = "evaluate.py"
DRIFT_CHECK_SCRIPT = "drift_check.py"
# An endpoint's captured requests -> a raw batch (the live-drift pipeline, ml/pipelines/live_drift.py).
CAPTURE_BATCH_SCRIPT = "capture_batch.py"

# Key prefixes in a workload's data bucket. Training reads every file under its prefix (the
# initial set and each labelled increment landed since); inference reads the latest batch.
TRAINING_DATA_PREFIX = "datasets/training/"
BATCH_DATA_PREFIX = "datasets/batches/latest/"


def training_data_prefix(model: str | None) -> str:
    """A model's training data prefix; None: the first model's, as it was before models were configurable."""
    return TRAINING_DATA_PREFIX if model is None else f"datasets/{model}/training/"


def batch_data_prefix(model: str | None) -> str:
    """A model's latest-batch prefix; None: the first model's (see training_data_prefix)."""
    return BATCH_DATA_PREFIX if model is None else f"datasets/{model}/batches/latest/"


# What the first-deploy switch uploads, by data set name (ml/datasets.py): under the inputs above.
SEED_OBJECTS = {
    "initial_train": f"{TRAINING_DATA_PREFIX}initial_train.data",
    "batch_clean": f"{BATCH_DATA_PREFIX}batch_clean.data",
}
# Everything the deploy uploads to run (step scripts, Lambda packages) lives under CODE_ROOT,
# by content-addressed keys (ml/packaging.py).
CODE_ROOT = "code/"
STEP_SCRIPTS_PREFIX = f"{CODE_ROOT}steps"
LAMBDA_PACKAGES_PREFIX = f"{CODE_ROOT}lambdas"
# Object tag of a step script no current definition refers to any more (see
# ml/superseded_code.py); the data bucket's lifecycle expires such objects only.
SUPERSEDED_TAG = "mlops-superseded"

# The container contract of the step scripts (ml/steps): each runs as
# `python3 <script> --base-dir /opt/ml/processing`, reads <base>/input/<name> and writes
# <base>/output/<name>, one directory per processing input and output.
PROCESSING_BASE = "/opt/ml/processing"
# What every step script gets beside its data (ml/steps/tabular.py says why): the model's schema
# document (ml/models.py, `DataSchema.document`) and the steps' shared module, each a processing
# input of its own, uploaded by content-addressed keys like the scripts.
SCHEMA_FILE = "schema.json"
SCHEMA_INPUT_DIR = "input/schema"  # under PROCESSING_BASE
STEP_LIBRARY = "tabular.py"
# Every module of ml/steps/ the scripts import (all shipped together in the lib input): the reader
# with its schema, cell rules and writers, and the drift check's statistics and reports.
STEP_LIBRARY_MODULES = (STEP_LIBRARY, "tabular_schema.py", "tabular_cells.py", "tabular_layout.py", "tabular_write.py",
                        "drift_stats.py", "drift_report.py")
STEP_LIBRARY_INPUT_DIR = "input/lib"  # under PROCESSING_BASE
SCHEMAS_PREFIX = f"{CODE_ROOT}schemas"

# What the pipelines' conditions read from the scripts' outputs.
EVALUATION_FILE = "evaluation.json"
# SageMaker's model-quality metrics layout, so Studio shows the AUC of each registered version.
EVALUATION_AUC_PATH = "binary_classification_metrics.auc.value"
DRIFT_REPORT_FILE = "drift_report.json"
DRIFT_DETECTED_PATH = "drift_detected"
# The drift check's three-way verdict; "insufficient_data" is its own pipeline outcome.
DRIFT_VERDICT_PATH = "verdict"
DRIFT_VERDICT_INSUFFICIENT_DATA = "insufficient_data"

# Pipeline parameter names: EventBridge targets and `start_pipeline_execution` use these.
PARAM_INPUT_DATA = "InputDataUri"
PARAM_BATCH_DATA = "BatchDataUri"
PARAM_PROCESSING_INSTANCE = "ProcessingInstanceType"
PARAM_TRAINING_INSTANCE = "TrainingInstanceType"
PARAM_TRANSFORM_INSTANCE = "TransformInstanceType"
PARAM_AUC_THRESHOLD = "AucThreshold"
# The live-drift pipeline's: where the endpoint's capture lies, and how many hours back it judges.
PARAM_CAPTURE_DATA = "CaptureDataUri"
PARAM_CAPTURE_WINDOW = "CaptureWindowHours"

# Pipeline step names. EventBridge rules match on these: change them here only.
TRAINING_STEPS = {
    "preprocess": "Preprocess",
    "train": "TrainXGBoost",
    "evaluate": "Evaluate",
    "condition": "AucAboveThreshold",
    "register": "RegisterModel",
    "fail": "AucBelowThreshold",
}
INFERENCE_STEPS = {
    "latest_model": "LatestApprovedModel",
    "prepare": "PrepareBatch",
    "model": "CreateModel",
    "transform": "BatchTransform",
    "drift_check": "CheckDataDrift",
    "drift_condition": "DriftFound",
    "drift_fail": "DataDriftDetected",
    # Too few rows to judge: a failure to notify, not drift (the retraining rule ignores it).
    "insufficient_data_condition": "TooLittleDataForDrift",
    "insufficient_data_fail": "InsufficientDataForDriftCheck",
}

# The live-drift pipeline (an endpoint's captured requests against the model's reference): its kind,
# the last part of its name (`mlops-dev[-<model>]-live-drift`; not `*inference`, which would make
# `<model>-live-inference` another model's, `<model>-live`, inference pipeline), and its steps: the
# inference pipeline's step names wherever it does the same thing, so one retraining rule and one
# gate serve both, and the drift fail step is the same step by name.
LIVE_DRIFT_PIPELINE_KIND = "live-drift"
LIVE_DRIFT_STEPS = {
    "latest_model": INFERENCE_STEPS["latest_model"],
    "capture": "ReadCapturedRequests",
    **{key: INFERENCE_STEPS[key] for key in ("drift_check", "drift_condition", "drift_fail",
                                             "insufficient_data_condition", "insufficient_data_fail")},
}
# The tests the live check plans per feature: clients send model-ready (imputed) rows, so their
# missing-value rate is not comparable with the raw reference's (ml/steps/drift_stats.py).
LIVE_DRIFT_TESTS = ("distribution", "out_of_domain")

# What the latest-approved-model Lambda returns (LambdaStep outputs).
LATEST_MODEL_OUTPUTS = (
    "ModelPackageArn",
    "ModelDataUrl",
    "ImageUri",
    "ReferenceDataUri",
    "ImputationUri",
)
# Customer metadata the training pipeline attaches to each registered package, read back
# by the Lambda so inference uses the reference and imputation of that very model.
METADATA_REFERENCE_URI = "reference_data_uri"
METADATA_IMPUTATION_URI = "imputation_uri"
# sha256 digests of what a version refers to, recorded at registration (the evaluate step
# computes them) and verified by the Lambda before inference uses a copy of those very bytes.
# Keyed by the Lambda output whose artifact they cover.
METADATA_DIGESTS = {"ModelDataUrl": "model_data_sha256", "ReferenceDataUri": "reference_data_sha256",
                    "ImputationUri": "imputation_sha256"}
# Where evaluation.json holds those digests (the register step reads them with JsonGet).
EVALUATION_DIGESTS_PATH = "artifacts"
# The tag the approve-model workflow puts, with the sha256 it checked as value, on exactly the
# object version of a version's ModelDataUrl whose digest matched `model_data_sha256` before it
# approved. Endpoints read a model archive only while its current version carries it, and only
# the registry's model approver role may set it (the registry bucket policy), so an archive
# overwritten after approval is untagged and fails closed.
VERIFIED_TAG = "mlops-verified"
# Where, in a workload's data bucket, the Lambda puts verified copies (only it may write there).
VERIFIED_MODELS_PREFIX = "verified-models/"

# The built-in XGBoost 3.x image, so local xgboost 3.x reads the model it writes.
XGBOOST_FRAMEWORK_VERSION = "3.0-5"
SKLEARN_FRAMEWORK_VERSION = "1.4-2"

# The one set of hyperparameters used locally and in the training pipeline. Chosen by
# repeated stratified 5-fold CV on the shipped data (bench/model_quality.py): shallow trees and
# a small step size; deeper or longer models lost AUC (few, coarse features, 961 rows).
XGB_HYPERPARAMETERS: dict[str, str] = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "num_round": "50",
    "max_depth": "2",
    "eta": "0.05",
    "subsample": "0.8",
    "seed": "42",
}
