"""Everything a pipeline definition depends on, validated before any SageMaker code runs.

The definitions are pure functions of a `PipelineSettings`: same settings, same bytes. The
checks here catch the mistakes that would otherwise surface only as a failed pipeline
execution in the cloud (a role name instead of an ARN, a key alias, a bucket URI instead of a
bucket name, a registry group given by name where cross-account registration needs the ARN).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ml import contract
from ml.pipelines import checks
from ml.pipelines.checks import check as _check

if TYPE_CHECKING:
    from ml.models import ModelSpec

REQUIRED_SCRIPTS = (
    contract.PREPROCESS_SCRIPT,
    contract.PREPARE_BATCH_SCRIPT,
    contract.EVALUATE_SCRIPT,
    contract.DRIFT_CHECK_SCRIPT,
    contract.CAPTURE_BATCH_SCRIPT,
)
JOB_KINDS = ("processing", "training", "transform")
# The longest job the platform accepts: SageMaker's own ceiling is 28 days, but a pipeline
# job that runs longer than a day on this data set is a bug, and a bounded bill is a feature.
MAX_RUNTIME_CEILING = 24 * 3600
# SageMaker's limit on one batch-transform request (ModelClientConfig.InvocationsTimeoutInSeconds).
MAX_INVOCATION_TIMEOUT = 3600


@dataclass(frozen=True)
class PipelineSettings:
    """Inputs of the training and inference pipeline definitions of one model in one workload stack.

    Only the first thirteen fields are required; the rest have defaults suited to small tabular
    data (the smallest instances are plenty). `settings_for_model` fills the model's own fields
    (hyperparameters, threshold, sizing) from its `ModelSpec`. Mappings are frozen (read-only,
    sorted) on construction, so a settings object can be shared and always yields the same
    definition.
    """

    region: str
    account_id: str
    training_pipeline_name: str
    inference_pipeline_name: str
    role_arn: str
    data_bucket: str
    kms_key_arn: str
    model_package_group_arn: str
    script_uris: Mapping[str, str]
    latest_model_lambda_arn: str
    # The model's XGBoost hyperparameters (text values, as the training API takes them).
    hyperparameters: Mapping[str, str]
    # The model's schema document (ml/models.py `DataSchema.document`), content-addressed: every
    # processing step mounts it at contract.SCHEMA_INPUT_DIR.
    schema_uri: str
    # The steps' shared modules (contract.STEP_LIBRARY_MODULES), all in one content-addressed
    # directory: every processing step mounts it at contract.STEP_LIBRARY_INPUT_DIR.
    library_uris: Mapping[str, str]

    processing_instance_type: str = "ml.m5.large"
    processing_instance_count: int = 1
    training_instance_type: str = "ml.m5.large"
    training_instance_count: int = 1
    transform_instance_type: str = "ml.m5.large"
    transform_instance_count: int = 1
    volume_size_gb: int = 30
    auc_threshold: float = 0.8
    processing_max_runtime_seconds: int = 3600
    training_max_runtime_seconds: int = 3600
    # Invocation timeout of one batch-transform request (transform jobs have no job-level
    # maximum runtime in the SageMaker API; this and the retry count bound them instead).
    transform_invocation_timeout_seconds: int = 600
    subnets: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    network_isolation: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    # None: the experiment is named after the pipeline (SageMaker's own convention).
    experiment_name: str | None = None
    # Step caching window (ISO 8601 duration) for the deterministic training steps; None: off.
    cache_expire_after: str | None = "P7D"
    # S3 key prefix (under the data bucket) of every pipeline output; each pipeline writes
    # under its own name below it, so models never share an output location.
    output_prefix: str = "pipelines"
    # A prefix: every file under it is training data (the initial set and each labelled
    # increment landed since), so a retraining learns from all of it. Per model
    # (`ModelNames.training_data_prefix`): the first model keeps the platform's original one.
    training_data_key: str = contract.TRAINING_DATA_PREFIX
    batch_data_key: str = contract.BATCH_DATA_PREFIX
    # Where the training pipeline writes everything a registered model refers to (its
    # splits, model.tar.gz, evaluation, imputation, drift reference), and the key it is
    # encrypted with: the central registry's artifacts bucket and key, so that every account
    # the model is approved for can read it. None: the data bucket and key (one account).
    artifacts_bucket: str | None = None
    artifacts_kms_key_arn: str | None = None
    artifacts_prefix: str = "models"
    # The live-drift pipeline of a model an endpoint serves (ml/pipelines/live_drift.py): its name,
    # where the endpoint's data capture writes in the data bucket (`ModelNames.capture_prefix`), and
    # how many hours of captured requests each run judges. None: no endpoint, no live pipeline.
    live_drift_pipeline_name: str | None = None
    capture_data_key: str | None = None
    capture_window_hours: int = 24

    def __post_init__(self) -> None:
        """Validate every field; raise ValueError naming the field and the expected shape."""
        _check(checks.REGION, self.region, "region", "eu-west-1")
        _check(checks.ACCOUNT, self.account_id, "account_id", "123456789012 (12 digits)")
        for attr in ("training_pipeline_name", "inference_pipeline_name"):
            _check(checks.PIPELINE_NAME, getattr(self, attr), attr, "mlops-dev-training (letters, digits, hyphens)")
        if self.training_pipeline_name == self.inference_pipeline_name:
            raise ValueError(
                "training_pipeline_name and inference_pipeline_name must differ, "
                f"both are {self.training_pipeline_name!r}"
            )
        _check(checks.ROLE_ARN, self.role_arn, "role_arn", "arn:aws:iam::123456789012:role/sagemaker-execution")
        self._check_account("role_arn", self.role_arn.split(":")[4])
        _check(checks.BUCKET, self.data_bucket, "data_bucket", "mlops-dev-data (a bucket name, not an s3:// URI)")
        _check(checks.KMS_KEY_ARN, self.kms_key_arn, "kms_key_arn",
               "arn:aws:kms:eu-west-1:123456789012:key/<key-id> (a key ARN, not an alias)")
        self._check_region("kms_key_arn", self.kms_key_arn)
        _check(checks.GROUP_ARN, self.model_package_group_arn, "model_package_group_arn",
               "arn:aws:sagemaker:eu-west-1:210987654321:model-package-group/mammography "
               "(the ARN: the group lives in the registry account)")
        self._check_region("model_package_group_arn", self.model_package_group_arn)
        _check(checks.LAMBDA_ARN, self.latest_model_lambda_arn, "latest_model_lambda_arn",
               "arn:aws:lambda:eu-west-1:123456789012:function:latest-approved-model")
        self._check_region("latest_model_lambda_arn", self.latest_model_lambda_arn)
        self._check_code()
        self._check_compute()
        self._check_network()
        self._check_tags()
        if self.experiment_name is not None:
            _check(checks.EXPERIMENT_NAME, self.experiment_name, "experiment_name", "mammography-dev")
        if self.cache_expire_after is not None:
            _check(checks.ISO_DURATION, self.cache_expire_after, "cache_expire_after", "P7D (ISO 8601 duration)")
        self._check_artifacts()
        for attr in ("output_prefix", "training_data_key", "batch_data_key", "artifacts_prefix"):
            checks.relative_key(getattr(self, attr), attr)
        checks.live_drift(self.live_drift_pipeline_name, self.capture_data_key, self.capture_window_hours,
                          (self.training_pipeline_name, self.inference_pipeline_name))

    def _check_account(self, attr: str, account: str) -> None:
        if account != self.account_id:
            raise ValueError(f"{attr} belongs to account {account}, expected account_id {self.account_id}")

    def _check_region(self, attr: str, arn: str) -> None:
        region = arn.split(":")[3]
        if region != self.region:
            raise ValueError(f"{attr} is in region {region}, expected region {self.region}: {arn}")

    def _freeze(self, attr: str, value: Any) -> None:
        object.__setattr__(self, attr, value)

    def _check_code(self) -> None:
        """Scripts, shared modules, schema and hyperparameters: what the jobs run, and on what."""
        self._freeze("script_uris", checks.named_uris(self.script_uris, "script_uris", REQUIRED_SCRIPTS,
                                                       "s3://bucket/code/<sha>/{name}"))
        self._freeze("library_uris", checks.library_uris(self.library_uris))
        checks.schema_uri(self.schema_uri)
        self._freeze("hyperparameters", checks.hyperparameters(self.hyperparameters))

    def _check_compute(self) -> None:
        for kind in JOB_KINDS:
            _check(checks.INSTANCE_TYPE, getattr(self, f"{kind}_instance_type"), f"{kind}_instance_type",
                   "ml.m5.large")
            checks.count(getattr(self, f"{kind}_instance_count"), f"{kind}_instance_count", 10)
        checks.count(self.volume_size_gb, "volume_size_gb", 512)
        threshold = self.auc_threshold
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 < threshold < 1:
            raise ValueError(f"auc_threshold must be a number strictly between 0 and 1, got {threshold!r}")
        for attr in ("processing_max_runtime_seconds", "training_max_runtime_seconds"):
            checks.bounded_int(getattr(self, attr), attr, 60, MAX_RUNTIME_CEILING)
        checks.bounded_int(self.transform_invocation_timeout_seconds, "transform_invocation_timeout_seconds",
                           60, MAX_INVOCATION_TIMEOUT)

    def _check_network(self) -> None:
        self._freeze("subnets", tuple(self.subnets))
        self._freeze("security_group_ids", tuple(self.security_group_ids))
        for subnet in self.subnets:
            _check(checks.SUBNET, subnet, "subnets[]", "subnet-0123456789abcdef0")
        for group in self.security_group_ids:
            _check(checks.SECURITY_GROUP, group, "security_group_ids[]", "sg-0123456789abcdef0")
        if bool(self.subnets) != bool(self.security_group_ids):
            raise ValueError(
                "subnets and security_group_ids go together: give both for a VPC, or neither; "
                f"got subnets={list(self.subnets)} security_group_ids={list(self.security_group_ids)}"
            )
        if not isinstance(self.network_isolation, bool):
            raise ValueError(f"network_isolation must be a bool, got {self.network_isolation!r}")

    def _check_artifacts(self) -> None:
        if (self.artifacts_bucket is None) != (self.artifacts_kms_key_arn is None):
            raise ValueError("artifacts_bucket and artifacts_kms_key_arn go together: set both "
                             "(the registry's artifacts bucket and key) or neither")
        if self.artifacts_bucket is not None:
            _check(checks.BUCKET, self.artifacts_bucket, "artifacts_bucket", "mlops-registry-artifacts (a bucket name)")
            _check(checks.KMS_KEY_ARN, self.artifacts_kms_key_arn, "artifacts_kms_key_arn",
                   "arn:aws:kms:eu-west-1:210987654321:key/<key-id> (the registry's key ARN)")
            self._check_region("artifacts_kms_key_arn", self.artifacts_kms_key_arn or "")

    def _check_tags(self) -> None:
        if not isinstance(self.tags, Mapping):
            raise ValueError(f"tags must be a mapping of key to value, got {type(self.tags).__name__}")
        if len(self.tags) > 40:
            raise ValueError(f"tags: at most 40 (SageMaker allows 50, the SDK adds its own), got {len(self.tags)}")
        for key, value in self.tags.items():
            _check(checks.TAG_KEY, key, "tag key", "cost-center (1-128 chars, not starting with aws:)")
            _check(checks.TAG_VALUE, value, f"tags[{key!r}]", "mlops (0-256 chars)")
        self._freeze("tags", checks.frozen(self.tags))

    @property
    def vpc_enabled(self) -> bool:
        """True when jobs run inside the configured VPC subnets."""
        return bool(self.subnets)

    @property
    def library_dir_uri(self) -> str:
        """The directory of the shared modules (`library_uris`), as one S3 prefix ending in '/'."""
        return next(iter(self.library_uris.values())).rsplit("/", 1)[0] + "/"

    @property
    def pipeline_outputs_uri(self) -> str:
        """The S3 prefix every pipeline output lives under."""
        return f"s3://{self.data_bucket}/{self.output_prefix}"

    @property
    def model_bucket(self) -> str:
        """Bucket of the training pipeline's outputs (see `artifacts_bucket`)."""
        return self.artifacts_bucket or self.data_bucket

    @property
    def model_prefix(self) -> str:
        return self.artifacts_prefix if self.artifacts_bucket else self.output_prefix

    @property
    def model_kms_key_arn(self) -> str:
        """Key of the training pipeline's outputs; job volumes always use `kms_key_arn`."""
        return self.artifacts_kms_key_arn or self.kms_key_arn

    @property
    def training_data_uri(self) -> str:
        """Default of the training pipeline's input-data parameter."""
        return f"s3://{self.data_bucket}/{self.training_data_key}"

    @property
    def batch_data_uri(self) -> str:
        """Default of the inference pipeline's batch-data parameter."""
        return f"s3://{self.data_bucket}/{self.batch_data_key}"

    @property
    def capture_data_uri(self) -> str | None:
        """Default of the live-drift pipeline's capture parameter; None without an endpoint."""
        return None if self.capture_data_key is None else f"s3://{self.data_bucket}/{self.capture_data_key}"


def model_fields(model: ModelSpec) -> dict[str, Any]:
    """The `PipelineSettings` fields a model decides: hyperparameters, AUC threshold, and per job
    kind its instance type, count and time limit.

    Transform jobs have no job-level time limit in the SageMaker API (CreateTransformJob has no
    StoppingCondition): a transform's `max_runtime_seconds` bounds each batch request instead
    (`transform_invocation_timeout_seconds`, at most an hour, SageMaker's limit).
    """
    jobs = model.jobs
    if jobs["transform"].max_runtime_seconds > MAX_INVOCATION_TIMEOUT:
        raise ValueError(
            f"mlops-platform:models.{model.name}.jobs.transform.maxRuntimeSeconds is "
            f"{jobs['transform'].max_runtime_seconds}: a transform job has no job-level time limit in "
            "SageMaker, so this bounds each batch request, and SageMaker allows at most "
            f"{MAX_INVOCATION_TIMEOUT} seconds; set it to {MAX_INVOCATION_TIMEOUT} or less")
    return {
        "hyperparameters": dict(model.hyperparameters),
        "auc_threshold": model.auc_threshold,
        "processing_instance_type": jobs["processing"].instance_type,
        "processing_instance_count": jobs["processing"].instance_count,
        "processing_max_runtime_seconds": jobs["processing"].max_runtime_seconds,
        "training_instance_type": jobs["training"].instance_type,
        "training_instance_count": jobs["training"].instance_count,
        "training_max_runtime_seconds": jobs["training"].max_runtime_seconds,
        "transform_instance_type": jobs["transform"].instance_type,
        "transform_instance_count": jobs["transform"].instance_count,
        "transform_invocation_timeout_seconds": jobs["transform"].max_runtime_seconds,
    }


def settings_for_model(model: ModelSpec, **fields: Any) -> PipelineSettings:
    """`PipelineSettings` of `model`: its own fields (`model_fields`) plus the stack's `fields`
    (names, ARNs, URIs, prefixes, network, tags). A stack field may not restate a model field."""
    own = model_fields(model)
    clash = sorted(set(own) & set(fields))
    if clash:
        raise ValueError(f"settings_for_model: {clash} come from model {model.name!r}; "
                         "change them in its configuration, not here")
    return PipelineSettings(**own, **fields)
