"""Sample `PipelineSettings` shared by the pipeline tests and the offline-build script."""
from __future__ import annotations

from ml import contract
from ml.pipelines.settings import PipelineSettings

REGION = "eu-west-1"
ACCOUNT = "111122223333"
REGISTRY_ACCOUNT = "210987654321"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{REGISTRY_ACCOUNT}:model-package-group/mammography"
LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:latest-approved-model"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlops-dev-sagemaker-execution"
BUCKET = "mlops-dev-data-111122223333"
# The mammography model's, as Pulumi.yaml configures them (and the platform used before models
# were configurable).
HYPERPARAMETERS = {"objective": "binary:logistic", "eval_metric": "auc", "num_round": "50", "max_depth": "2",
                   "eta": "0.05", "subsample": "0.8", "seed": "42"}
SCRIPTS = (contract.PREPROCESS_SCRIPT, contract.PREPARE_BATCH_SCRIPT,
           contract.EVALUATE_SCRIPT, contract.DRIFT_CHECK_SCRIPT, contract.CAPTURE_BATCH_SCRIPT)


def script_uris(digest: str = "0123456789abcdef") -> dict[str, str]:
    """Content-addressed URIs of the step scripts (one made-up digest for all)."""
    return {name: f"s3://{BUCKET}/code/steps/{digest}/{name}" for name in SCRIPTS}


SCHEMA_URI = f"s3://{BUCKET}/{contract.SCHEMAS_PREFIX}/00112233445566ff/{contract.SCHEMA_FILE}"


def library_uris(digest: str = "fedcba9876543210") -> dict[str, str]:
    """Content-addressed URIs of the steps' shared modules (one directory, as packaging makes them)."""
    return {name: f"s3://{BUCKET}/code/steps/{digest}/{name}" for name in contract.STEP_LIBRARY_MODULES}


def sample_settings(**overrides) -> PipelineSettings:
    """Valid settings of a dev workload stack; keyword arguments replace fields."""
    fields = dict(
        region=REGION,
        account_id=ACCOUNT,
        training_pipeline_name="mlops-dev-training",
        inference_pipeline_name="mlops-dev-inference",
        role_arn=ROLE_ARN,
        data_bucket=BUCKET,
        kms_key_arn=KMS_KEY,
        model_package_group_arn=GROUP_ARN,
        script_uris=script_uris(),
        latest_model_lambda_arn=LAMBDA_ARN,
        hyperparameters=dict(HYPERPARAMETERS),
        schema_uri=SCHEMA_URI,
        library_uris=library_uris(),
        tags={"project": "mlops-platform", "cost-center": "ml-research", "stack": "dev"},
    )
    fields.update(overrides)
    return PipelineSettings(**fields)


VPC = dict(subnets=("subnet-0123456789abcdef0", "subnet-0fedcba9876543210"),
           security_group_ids=("sg-0123456789abcdef0",))


REGISTRY_BUCKET = "mlops-registry-artifacts-210987654321-eu-west-1"
REGISTRY_KEY = f"arn:aws:kms:{REGION}:{REGISTRY_ACCOUNT}:key/9876fedc-12ab-34cd-56ef-1234567890ab"
# The platform's shape: the training pipeline writes into the registry's artifacts bucket.
CENTRAL = dict(artifacts_bucket=REGISTRY_BUCKET, artifacts_kms_key_arn=REGISTRY_KEY, artifacts_prefix="models/dev")

# A model an endpoint serves: its live-drift pipeline and the capture prefix its endpoint writes to.
LIVE = dict(live_drift_pipeline_name="mlops-dev-live-drift", capture_data_key="capture/mammography/")
