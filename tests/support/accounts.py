"""The example accounts of the stack files and the workload roles the registry trusts."""
from __future__ import annotations

DEV, PROD, REG = "222222222222", "333333333333", "111111111111"
TRAINING = [f"arn:aws:iam::{DEV}:role/mlops-dev-sagemaker-execution",
            f"arn:aws:iam::{PROD}:role/mlops-prod-sagemaker-execution"]
LOOKUPS = [f"arn:aws:iam::{DEV}:role/mlops-dev-model-lookup-lambda",
           f"arn:aws:iam::{PROD}:role/mlops-prod-model-lookup-lambda"]
CONSUMERS = sorted(TRAINING + LOOKUPS)
