"""Everything a pipeline definition depends on, validated before any SageMaker code runs.

The definitions are pure functions of a `PipelineSettings`: same settings, same bytes. The
checks here catch the mistakes that would otherwise surface only as a failed pipeline
execution in the cloud (a role name instead of an ARN, a key alias, a bucket URI instead of a
bucket name, a registry group given by name where cross-account registration needs the ARN).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ml import contract
from mlops_facts import regions as facts_regions

REQUIRED_SCRIPTS = (
    contract.PREPROCESS_SCRIPT,
    contract.PREPARE_BATCH_SCRIPT,
    contract.EVALUATE_SCRIPT,
    contract.DRIFT_CHECK_SCRIPT,
)

_PARTITION = r"arn:aws(?:-cn|-us-gov)?"
_REGION = re.compile(f"^{facts_regions.REGION.pattern}$")  # the one region pattern (mlops_facts)
_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(_PARTITION + r":iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_KMS_KEY_ARN = re.compile(_PARTITION + r":kms:[a-z0-9-]+:\d{12}:key/[a-zA-Z0-9-]{1,128}$")
_GROUP_ARN = re.compile(
    _PARTITION + r":sagemaker:[a-z0-9-]+:\d{12}:model-package-group/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
)
_LAMBDA_ARN = re.compile(_PARTITION + r":lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64}$")
_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
_EXPERIMENT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}$")
# AWS tag rules; `aws:` keys are reserved by AWS and rejected by every tagging API.
_TAG_KEY = re.compile(r"^(?!aws:)[\w.:/=+\-@ ]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w.:/=+\-@ ]{0,256}$")
# The longest job the platform accepts: SageMaker's own ceiling is 28 days, but a pipeline
# job that runs longer than a day on this data set is a bug, and a bounded bill is a feature.
MAX_RUNTIME_CEILING = 24 * 3600


def _check(pattern: re.Pattern[str], value: object, what: str, example: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{what} must look like {example!r}, got {value!r}")


@dataclass(frozen=True)
class PipelineSettings:
    """Inputs of the training and inference pipeline definitions of one workload stack.

    Only the first ten fields are required; the rest have defaults suited to this data set
    (961 rows: the smallest instances are plenty). Mappings are frozen (read-only, sorted) on
    construction, so a settings object can be shared and always yields the same definition.
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
    # S3 key prefix (under the data bucket) of every pipeline output.
    output_prefix: str = "pipelines"
    # A prefix: every file under it is training data (the initial set and each labelled
    # increment landed since), so a retraining learns from all of it.
    training_data_key: str = contract.TRAINING_DATA_PREFIX
    batch_data_key: str = contract.BATCH_DATA_PREFIX
    # Where the training pipeline writes everything a registered model refers to (its
    # splits, model.tar.gz, evaluation, imputation, drift reference), and the key it is
    # encrypted with: the central registry's artifacts bucket and key, so that every account
    # the model is approved for can read it. None: the data bucket and key (one account).
    artifacts_bucket: str | None = None
    artifacts_kms_key_arn: str | None = None
    artifacts_prefix: str = "models"

    def __post_init__(self) -> None:
        """Validate every field; raise ValueError naming the field and the expected shape."""
        _check(_REGION, self.region, "region", "eu-west-1")
        _check(_ACCOUNT, self.account_id, "account_id", "123456789012 (12 digits)")
        for attr in ("training_pipeline_name", "inference_pipeline_name"):
            _check(_PIPELINE_NAME, getattr(self, attr), attr, "mlops-dev-training (letters, digits, hyphens)")
        if self.training_pipeline_name == self.inference_pipeline_name:
            raise ValueError(
                "training_pipeline_name and inference_pipeline_name must differ, "
                f"both are {self.training_pipeline_name!r}"
            )
        _check(_ROLE_ARN, self.role_arn, "role_arn", "arn:aws:iam::123456789012:role/sagemaker-execution")
        self._check_account("role_arn", self.role_arn.split(":")[4])
        _check(_BUCKET, self.data_bucket, "data_bucket", "mlops-dev-data (a bucket name, not an s3:// URI)")
        _check(_KMS_KEY_ARN, self.kms_key_arn, "kms_key_arn",
               "arn:aws:kms:eu-west-1:123456789012:key/<key-id> (a key ARN, not an alias)")
        self._check_region("kms_key_arn", self.kms_key_arn)
        _check(_GROUP_ARN, self.model_package_group_arn, "model_package_group_arn",
               "arn:aws:sagemaker:eu-west-1:210987654321:model-package-group/mammography "
               "(the ARN: the group lives in the registry account)")
        self._check_region("model_package_group_arn", self.model_package_group_arn)
        _check(_LAMBDA_ARN, self.latest_model_lambda_arn, "latest_model_lambda_arn",
               "arn:aws:lambda:eu-west-1:123456789012:function:latest-approved-model")
        self._check_region("latest_model_lambda_arn", self.latest_model_lambda_arn)
        self._check_scripts()
        self._check_compute()
        self._check_network()
        self._check_tags()
        if self.experiment_name is not None:
            _check(_EXPERIMENT_NAME, self.experiment_name, "experiment_name", "mammography-dev")
        if self.cache_expire_after is not None:
            _check(_ISO_DURATION, self.cache_expire_after, "cache_expire_after", "P7D (ISO 8601 duration)")
        self._check_artifacts()
        for attr in ("output_prefix", "training_data_key", "batch_data_key", "artifacts_prefix"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value or value.startswith("/") or "//" in value:
                raise ValueError(f"{attr} must be a relative S3 key such as 'pipelines', got {value!r}")

    def _check_account(self, attr: str, account: str) -> None:
        if account != self.account_id:
            raise ValueError(f"{attr} belongs to account {account}, expected account_id {self.account_id}")

    def _check_region(self, attr: str, arn: str) -> None:
        region = arn.split(":")[3]
        if region != self.region:
            raise ValueError(f"{attr} is in region {region}, expected region {self.region}: {arn}")

    def _check_scripts(self) -> None:
        if not isinstance(self.script_uris, Mapping):
            raise ValueError(f"script_uris must map script name to s3:// URI, got {type(self.script_uris).__name__}")
        missing = [name for name in REQUIRED_SCRIPTS if name not in self.script_uris]
        unknown = sorted(set(self.script_uris) - set(REQUIRED_SCRIPTS))
        if missing or unknown:
            raise ValueError(
                f"script_uris must have exactly {list(REQUIRED_SCRIPTS)}; missing {missing}, unknown {unknown}"
            )
        for name, uri in self.script_uris.items():
            _check(_S3_URI, uri, f"script_uris[{name!r}]", f"s3://bucket/code/<sha>/{name}")
            if not uri.endswith("/" + name):
                raise ValueError(f"script_uris[{name!r}] must end with /{name} (the container runs it by name): {uri}")
        object.__setattr__(self, "script_uris", MappingProxyType(dict(sorted(self.script_uris.items()))))

    def _check_compute(self) -> None:
        for kind in ("processing", "training", "transform"):
            _check(_INSTANCE_TYPE, getattr(self, f"{kind}_instance_type"), f"{kind}_instance_type", "ml.m5.large")
            count = getattr(self, f"{kind}_instance_count")
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10:
                raise ValueError(f"{kind}_instance_count must be an integer from 1 to 10, got {count!r}")
        if not isinstance(self.volume_size_gb, int) or not 1 <= self.volume_size_gb <= 512:
            raise ValueError(f"volume_size_gb must be an integer from 1 to 512, got {self.volume_size_gb!r}")
        threshold = self.auc_threshold
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 < threshold < 1:
            raise ValueError(f"auc_threshold must be a number strictly between 0 and 1, got {threshold!r}")
        for attr in ("processing_max_runtime_seconds", "training_max_runtime_seconds",
                     "transform_invocation_timeout_seconds"):
            value = getattr(self, attr)
            if not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= MAX_RUNTIME_CEILING:
                raise ValueError(f"{attr} must be an integer from 60 to {MAX_RUNTIME_CEILING}, got {value!r}")
        if self.transform_invocation_timeout_seconds > 3600:
            raise ValueError(
                "transform_invocation_timeout_seconds must be at most 3600 (SageMaker's limit), "
                f"got {self.transform_invocation_timeout_seconds}"
            )

    def _check_network(self) -> None:
        object.__setattr__(self, "subnets", tuple(self.subnets))
        object.__setattr__(self, "security_group_ids", tuple(self.security_group_ids))
        for subnet in self.subnets:
            _check(_SUBNET, subnet, "subnets[]", "subnet-0123456789abcdef0")
        for group in self.security_group_ids:
            _check(_SECURITY_GROUP, group, "security_group_ids[]", "sg-0123456789abcdef0")
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
            _check(_BUCKET, self.artifacts_bucket, "artifacts_bucket", "mlops-registry-artifacts (a bucket name)")
            _check(_KMS_KEY_ARN, self.artifacts_kms_key_arn, "artifacts_kms_key_arn",
                   "arn:aws:kms:eu-west-1:210987654321:key/<key-id> (the registry's key ARN)")
            self._check_region("artifacts_kms_key_arn", self.artifacts_kms_key_arn or "")

    def _check_tags(self) -> None:
        if not isinstance(self.tags, Mapping):
            raise ValueError(f"tags must be a mapping of key to value, got {type(self.tags).__name__}")
        if len(self.tags) > 40:
            raise ValueError(f"tags: at most 40 (SageMaker allows 50, the SDK adds its own), got {len(self.tags)}")
        for key, value in self.tags.items():
            _check(_TAG_KEY, key, "tag key", "cost-center (1-128 chars, not starting with aws:)")
            _check(_TAG_VALUE, value, f"tags[{key!r}]", "mlops (0-256 chars)")
        object.__setattr__(self, "tags", MappingProxyType(dict(sorted(self.tags.items()))))

    @property
    def vpc_enabled(self) -> bool:
        """True when jobs run inside the configured VPC subnets."""
        return bool(self.subnets)

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
