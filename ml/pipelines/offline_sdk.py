"""The offline SageMaker SDK harness: builds definitions without calling AWS.

The SageMaker SDK is imported lazily (inside `offline_sdk`), so importing `ml.pipelines`
costs nothing to the Pulumi program until a definition is built. Every place where the SDK
would reach AWS while building a definition is closed here: the import-time client needs a
region, role validation is switched off, the SDK's config files and telemetry are replaced by
an explicit config, the boto session carries static placeholder credentials (so no credential
provider runs), and every S3 location is explicit (ml/pipelines/building_blocks.py).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from ml.pipelines.settings import PipelineSettings

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
        for log, level in zip(loggers, saved, strict=True):
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


def canonical_json(definition: str) -> str:
    """The definition with sorted keys and no whitespace: one byte string per meaning."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
