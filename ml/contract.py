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
}

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
