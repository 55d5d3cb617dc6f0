"""Pieces shared by the training and inference pipeline builders.

The SageMaker SDK is imported lazily (inside `offline_sdk`), so importing `ml.pipelines`
costs nothing to the Pulumi program until a definition is built. Every place where the SDK
would reach AWS while building a definition is closed here (see FACTS.md, "SageMaker SDK v3"):
the import-time client needs a region, role validation is switched off, the SDK's config
files and telemetry are replaced by an explicit config, the boto session carries static
placeholder credentials (so no credential provider runs), and every S3 location is explicit.
"""
from __future__ import annotations

import contextlib
import logging
import json
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from ml.pipelines.settings import PipelineSettings

# The container contract of the step scripts (ml/steps): each runs as
# `python3 <script> --base-dir /opt/ml/processing`, reads <base>/input/<name> and writes
# <base>/output/<name>, one directory per processing input and output.
PROCESSING_BASE = "/opt/ml/processing"
BASE_DIR_ARGS = ["--base-dir", PROCESSING_BASE]
EVALUATION_FILE = "evaluation.json"
# SageMaker's model-quality metrics layout, so Studio shows the AUC of each registered version.
EVALUATION_AUC_PATH = "binary_classification_metrics.auc.value"
DRIFT_REPORT_FILE = "drift_report.json"
DRIFT_DETECTED_PATH = "drift_detected"
CSV = "text/csv"

# Pipeline parameter names: EventBridge targets and `start_pipeline_execution` use these.
PARAM_INPUT_DATA = "InputDataUri"
PARAM_BATCH_DATA = "BatchDataUri"
PARAM_PROCESSING_INSTANCE = "ProcessingInstanceType"
PARAM_TRAINING_INSTANCE = "TrainingInstanceType"
PARAM_TRANSFORM_INSTANCE = "TransformInstanceType"
PARAM_AUC_THRESHOLD = "AucThreshold"

# What the SDK is told instead of reading ~/.config/sagemaker or /etc/xdg/sagemaker (machine
# dependent, so not deterministic) and instead of sending usage telemetry.
SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
_ENV_LOCK = threading.RLock()  # re-entrant: definition() nests inside a build


@contextlib.contextmanager
def _quiet_sdk_logs() -> Iterator[None]:
    """The SDK logs every default it applies and field it pops at INFO/WARNING: expected while
    building, and noise in `pulumi up` diagnostics. Errors still show; levels are restored."""
    names = [n for n in logging.root.manager.loggerDict if n == "sagemaker" or n.startswith("sagemaker.")]
    loggers = [logging.getLogger(name) for name in sorted(names)]
    saved = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for log, level in zip(loggers, saved):
            log.setLevel(level)


@contextlib.contextmanager
def offline_sdk(region: str) -> Iterator[None]:
    """Environment in which the SageMaker SDK builds definitions without calling AWS.

    Sets, for the duration only: a default region (`sagemaker.serve` builds a boto3 client
    at import time and fails without one), IMDS off (no credential lookup on 169.254.169.254),
    role validation off (it calls IAM); the previous values are restored afterwards. The process
    environment is shared, so concurrent builds are serialized.
    """
    wanted = {
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        wanted["AWS_DEFAULT_REGION"] = region
    with _ENV_LOCK:
        saved = {key: os.environ.get(key) for key in wanted}
        os.environ.update(wanted)
        try:
            import sagemaker.mlops.workflow.pipeline  # noqa: F401  (import under the region)
            import sagemaker.serve.model_builder  # noqa: F401
            from sagemaker.core.config.config_manager import SageMakerConfig

            original = SageMakerConfig.__dict__["validate_sagemaker_config"]
            SageMakerConfig.validate_sagemaker_config = staticmethod(_validate_once(original.__func__))
            try:
                with warnings.catch_warnings(), _quiet_sdk_logs():
                    # Both are the intended behaviour here: nothing runs, the Lambda is not touched.
                    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
                    warnings.filterwarnings("ignore", message="Lambda function won't be updated")
                    yield
            finally:
                SageMakerConfig.validate_sagemaker_config = original
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _validate_once(validate):
    """`validate`, skipped for configs already validated in this build.

    The SDK checks its config against a JSON schema (metaschema included) on every config
    lookup: ~0.3 s each, ~40 lookups per pipeline. The config is our constant `SDK_CONFIG`,
    so one real validation per distinct config is enough.
    """
    seen: set[str] = set()

    def validate_once(config=None):
        key = json.dumps(config, sort_keys=True, default=repr)
        if key not in seen:
            validate(config)
            seen.add(key)

    return validate_once


def offline_pipeline(settings: PipelineSettings, **kwargs):
    """A `Pipeline` whose `definition()` always compiles inside `offline_sdk`.

    The SDK compiles steps lazily (job requests are produced when `definition()` runs), so
    the offline environment must also surround that call, not only the construction.
    """
    from sagemaker.mlops.workflow.pipeline import Pipeline

    class OfflinePipeline(Pipeline):
        """`Pipeline` that compiles its definition without calling AWS."""

        def definition(self) -> str:
            with offline_sdk(settings.region):
                return super().definition()

    return OfflinePipeline(**kwargs)


def pipeline_session(settings: PipelineSettings):
    """A `PipelineSession` for `settings.region` that records requests instead of sending them."""
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    # Static placeholder credentials: nothing is signed (no request is made), and the
    # credential chain (files, SSO, credential_process, container endpoint) never runs.
    boto_session = boto3.Session(
        region_name=settings.region,
        aws_access_key_id="offline-definition-build",
        aws_secret_access_key="offline-definition-build",
    )
    return PipelineSession(
        boto_session=boto_session,
        sagemaker_config=json.loads(json.dumps(SDK_CONFIG)),
        default_bucket=settings.data_bucket,
        default_bucket_prefix=settings.output_prefix,
    )


def output_uri(settings: PipelineSettings, pipeline_name: str, step: str, name: str, *, model: bool = False):
    """`s3://<bucket>/<prefix>/<pipeline>/<execution id>/<step>/<name>`, resolved at run time.

    Per-execution locations: a run never overwrites another run's artifacts, and the
    definition holds no timestamp or random suffix. `model`: the training pipeline's
    outputs, which go where every account the model is approved for can read them.
    """
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join

    return Join(
        on="/",
        values=[
            "s3:/",
            settings.model_bucket if model else settings.data_bucket,
            settings.model_prefix if model else settings.output_prefix,
            pipeline_name,
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            step,
            name,
        ],
    )


def processor(settings, session, instance_type, image_uri, job: str, *, model: bool = False):
    """A script processor with the platform's encryption, limits, tags and network; with
    `model`, its outputs are encrypted with the model artifacts' key."""
    from sagemaker.core.processing import ScriptProcessor

    return ScriptProcessor(
        role=settings.role_arn,
        image_uri=image_uri,
        command=["python3"],
        instance_type=instance_type,
        instance_count=settings.processing_instance_count,
        volume_size_in_gb=settings.volume_size_gb,
        volume_kms_key=settings.kms_key_arn,
        output_kms_key=settings.model_kms_key_arn if model else settings.kms_key_arn,
        max_runtime_in_seconds=settings.processing_max_runtime_seconds,
        base_job_name=job,
        sagemaker_session=session,
        tags=job_tags(settings),
        network_config=processing_network(settings),
    )


def run_script(settings, session, *, pipeline_name: str, step: str, job: str, script: str, instance_type,
               image_uri: str, inputs: dict[str, object], outputs: tuple[str, ...], model: bool = False):
    """The step arguments of one of our scripts on a processor: inputs mounted at
    input/<name>, outputs uploaded from output/<name> to this execution's prefix (with
    `model`, the model artifacts' location and key), run with the base-dir contract."""
    return processor(settings, session, instance_type, image_uri, job, model=model).run(
        code=settings.script_uris[script],
        inputs=[s3_input(name, source, name) for name, source in inputs.items()],
        outputs=[s3_output(settings, pipeline_name, step, out, model=model) for out in outputs],
        arguments=list(BASE_DIR_ARGS),
    )


def s3_input(name: str, source, subdir: str):
    """A File-mode S3 input mounted at PROCESSING_BASE/input/<subdir> (the scripts' layout)."""
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source,
            local_path=f"{PROCESSING_BASE}/input/{subdir}",
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        ),
    )


def s3_output(settings, pipeline_name: str, step: str, name: str, *, model: bool = False):
    """An end-of-job upload of PROCESSING_BASE/output/<name> to this execution's prefix."""
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=output_uri(settings, pipeline_name, step, name, model=model),
            local_path=f"{PROCESSING_BASE}/output/{name}",
            s3_upload_mode="EndOfJob",
        ),
    )


def job_retry_policies() -> list:
    """Retries for steps that start SageMaker jobs: throttling, service faults, capacity."""
    from sagemaker.mlops.workflow.retry import (
        SageMakerJobExceptionTypeEnum,
        SageMakerJobStepRetryPolicy,
    )

    return [
        *step_retry_policies(),
        SageMakerJobStepRetryPolicy(
            exception_types=[
                SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT,
                SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
            ],
            interval_seconds=60,
            backoff_rate=2.0,
            max_attempts=3,
        ),
    ]


def step_retry_policies() -> list:
    """Retries on throttling and service faults of the Pipelines service itself."""
    from sagemaker.mlops.workflow.retry import StepExceptionTypeEnum, StepRetryPolicy

    return [
        StepRetryPolicy(
            exception_types=[StepExceptionTypeEnum.THROTTLING, StepExceptionTypeEnum.SERVICE_FAULT],
            interval_seconds=10,
            backoff_rate=2.0,
            max_attempts=5,
        )
    ]


def cache_config(settings: PipelineSettings):
    """Step caching for deterministic steps, or None when `cache_expire_after` is None."""
    if settings.cache_expire_after is None:
        return None
    from sagemaker.mlops.workflow.steps import CacheConfig

    return CacheConfig(enable_caching=True, expire_after=settings.cache_expire_after)


def job_tags(settings: PipelineSettings) -> list[dict[str, str]] | None:
    """Cost-allocation tags in the request shape every job API takes; None when there are none."""
    return [{"Key": key, "Value": value} for key, value in settings.tags.items()] or None


def processing_network(settings: PipelineSettings):
    """`NetworkConfig` for processing jobs; None (absent) when neither VPC nor isolation is set."""
    if not (settings.network_isolation or settings.vpc_enabled):
        return None
    from sagemaker.core.network import NetworkConfig

    return NetworkConfig(
        enable_network_isolation=settings.network_isolation,
        security_group_ids=list(settings.security_group_ids) or None,
        subnets=list(settings.subnets) or None,
        encrypt_inter_container_traffic=True,
    )


def networking(settings: PipelineSettings):
    """`Networking` for training jobs and models; None when neither VPC nor isolation is set."""
    if not (settings.network_isolation or settings.vpc_enabled):
        return None
    from sagemaker.core.training.configs import Networking

    return Networking(
        enable_network_isolation=settings.network_isolation,
        security_group_ids=list(settings.security_group_ids) or None,
        subnets=list(settings.subnets) or None,
        enable_inter_container_traffic_encryption=True,
    )


def experiment_config(settings: PipelineSettings):
    """Experiment named by settings (default: the pipeline's name), one trial per execution.

    Explicit because the SDK's default is silently dropped outside some regions.
    """
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.mlops.workflow.pipeline_experiment_config import PipelineExperimentConfig

    return PipelineExperimentConfig(
        experiment_name=settings.experiment_name or ExecutionVariables.PIPELINE_NAME,
        trial_name=ExecutionVariables.PIPELINE_EXECUTION_ID,
    )


def canonical_json(definition: str) -> str:
    """The definition with sorted keys and no whitespace: one byte string per meaning."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
