"""Building blocks of the pipeline steps: where outputs go, how our scripts run on a
processor, and the settings every job carries (encryption, limits, tags, network, retries,
caching). Each returns SDK objects; the step functions in training.py and inference.py put
them together. Call them inside `offline_sdk` (ml/pipelines/offline_sdk.py).
"""
from __future__ import annotations

from ml import contract
from ml.pipelines.settings import PipelineSettings

BASE_DIR_ARGS = ["--base-dir", contract.PROCESSING_BASE]
CSV = "text/csv"
# The processing inputs every step script gets beside its data (ml/contract.py): the model's
# schema document and the steps' shared modules, by input name -> directory under input/.
SCHEMA_INPUT = "schema"
LIBRARY_INPUT = "lib"
SHARED_INPUT_DIRS = {SCHEMA_INPUT: contract.SCHEMA_INPUT_DIR, LIBRARY_INPUT: contract.STEP_LIBRARY_INPUT_DIR}


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
               image_uri: str, inputs: dict[str, object], outputs: tuple[str, ...], model: bool = False,
               arguments: tuple = ()):
    """The step arguments of one of our scripts on a processor: inputs mounted at
    input/<name>, outputs uploaded from output/<name> to this execution's prefix (with
    `model`, the model artifacts' location and key), run with the base-dir contract and then
    `arguments` (text or pipeline variables). Every script also gets the model's schema and the
    shared modules (`shared_inputs`)."""
    return processor(settings, session, instance_type, image_uri, job, model=model).run(
        code=settings.script_uris[script],
        inputs=[*(s3_input(name, source, f"input/{name}") for name, source in inputs.items()),
                *shared_inputs(settings)],
        outputs=[s3_output(settings, pipeline_name, step, out, model=model) for out in outputs],
        arguments=[*BASE_DIR_ARGS, *arguments],
    )


def shared_inputs(settings: PipelineSettings) -> list:
    """The schema document (one file) and the shared modules' directory, mounted where the
    scripts look for them (contract.SCHEMA_INPUT_DIR, contract.STEP_LIBRARY_INPUT_DIR)."""
    sources = {SCHEMA_INPUT: settings.schema_uri, LIBRARY_INPUT: settings.library_dir_uri}
    return [s3_input(name, sources[name], directory) for name, directory in SHARED_INPUT_DIRS.items()]


def s3_input(name: str, source, directory: str):
    """A File-mode S3 input mounted at <processing base>/<directory> (the scripts' layout)."""
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source,
            local_path=f"{contract.PROCESSING_BASE}/{directory}",
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        ),
    )


def s3_output(settings, pipeline_name: str, step: str, name: str, *, model: bool = False):
    """An end-of-job upload of <processing base>/output/<name> to this execution's prefix."""
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=output_uri(settings, pipeline_name, step, name, model=model),
            local_path=f"{contract.PROCESSING_BASE}/output/{name}",
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
