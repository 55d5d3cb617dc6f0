"""The offline SageMaker SDK harness: builds definitions without calling AWS.

The SageMaker SDK is imported lazily (inside `offline_sdk`), so importing `ml.pipelines`
costs nothing to the Pulumi program until a definition is built. Every place where the SDK
would reach AWS while building a definition is closed here: the import-time client needs a
region, role validation is switched off, the SDK's config files and telemetry are replaced by
an explicit config, the boto session carries static placeholder credentials (so no credential
provider runs), and every S3 location is explicit (ml/pipelines/building_blocks.py).

Building many models' definitions in one process costs little more than building one: the
boto3 and SageMaker sessions are shared, and the SDK's repeated config validation and
throw-away local sessions are skipped (`_sdk_patches`), from ~2 s per model to ~0.1 s.
"""
from __future__ import annotations

import contextlib
import functools
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
_ACTIVE: list[str] = []  # the offline_sdk entries open (held under _ENV_LOCK)


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

            with contextlib.ExitStack() as patches:
                if not _ACTIVE:  # the outermost entry patches; nested ones (definition() in a build) find it done
                    for module, attr, value in _sdk_patches():
                        patches.enter_context(_patched(module, attr, value))
                _ACTIVE.append(region)
                patches.callback(_ACTIVE.pop)
                with warnings.catch_warnings(), _quiet_sdk_logs():
                    # Both are the intended behaviour here: nothing runs, the Lambda is not touched.
                    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
                    warnings.filterwarnings("ignore", message="Lambda function won't be updated")
                    yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@contextlib.contextmanager
def _patched(owner: Any, attr: str, value: Any) -> Iterator[None]:
    """`owner.attr = value` for the duration only (callers hold `_ENV_LOCK`)."""
    original = owner.__dict__[attr]
    setattr(owner, attr, value)
    try:
        yield
    finally:
        setattr(owner, attr, original)


def _sdk_patches() -> list[tuple[Any, str, Any]]:
    """Where the SDK repeats expensive work that cannot change a definition, and the stand-in.

    - Config validation: the SDK checks its config against a JSON schema (metaschema included)
      on every lookup and session: ~0.15 s each, dozens per pipeline. The config is our
      constant `SDK_CONFIG`: `_validate_once` validates each distinct config once per process.
    - `ProcessingStep` and `TransformStep` build a whole local-mode client (a boto3 session,
      clients and an S3 resource: ~0.2 s) only to read one method's name; `NameOnlyLocalClient`
      has the same methods and builds nothing.
    """
    from sagemaker.core.config import config as config_module
    from sagemaker.core.config.config_manager import SageMakerConfig
    from sagemaker.core.helper import session_helper
    from sagemaker.mlops.workflow import steps

    validate = _validate_once(config_module.validate_sagemaker_config)
    return [
        (SageMakerConfig, "validate_sagemaker_config",
         staticmethod(_validate_once(SageMakerConfig.__dict__["validate_sagemaker_config"].__func__))),
        (config_module, "validate_sagemaker_config", validate),
        (session_helper, "validate_sagemaker_config", validate),
        (steps, "LocalSagemakerClient", _name_only_local_client(steps.LocalSagemakerClient)),
    ]


_VALIDATED: set[tuple[str, str]] = set()  # (validator, config) pairs validated in this process


def _validate_once(validate):
    """`validate`, skipped for a config it already validated in this process (see `_sdk_patches`)."""
    name = f"{validate.__module__}.{validate.__qualname__}"

    def validate_once(config=None):
        key = (name, json.dumps(config, sort_keys=True, default=repr))
        if key not in _VALIDATED:
            validate(config)
            _VALIDATED.add(key)

    return validate_once


@functools.cache
def _name_only_local_client(base: type) -> type:
    class NameOnlyLocalClient(base):  # type: ignore[misc,valid-type]
        """The SDK's local-mode client without its session: the steps only read method names."""

        def __init__(self, sagemaker_session=None):
            self.sagemaker_session = sagemaker_session

    return NameOnlyLocalClient


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


@functools.cache
def _boto_session(region: str):
    """One boto3 session per region for every build in this process.

    Static placeholder credentials: nothing is signed (no request is made), and the credential
    chain (files, SSO, credential_process, container endpoint) never runs. Shared because a
    session caches the service models it parses: a fresh one per pipeline re-reads them (~0.4 s).
    """
    import boto3

    return boto3.Session(
        region_name=region,
        aws_access_key_id="offline-definition-build",
        aws_secret_access_key="offline-definition-build",
    )


def pipeline_session(settings: PipelineSettings):
    """A `PipelineSession` for `settings.region` that records requests instead of sending them.

    One per region, bucket and output prefix in a process, shared by every pipeline built
    there: making one creates a dozen boto3 clients (~0.12 s), and building is sequential
    (under `_ENV_LOCK`), so the only state the SDK keeps on it, the step being compiled
    (`context`), is set and cleared by each step in turn.
    """
    return _pipeline_session(settings.region, settings.data_bucket, settings.output_prefix)


@functools.lru_cache(maxsize=32)
def _pipeline_session(region: str, bucket: str, prefix: str):
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    with offline_sdk(region):
        return PipelineSession(
            boto_session=_boto_session(region),
            sagemaker_config=json.loads(json.dumps(SDK_CONFIG)),
            default_bucket=bucket,
            default_bucket_prefix=prefix,
        )


def canonical_json(definition: str) -> str:
    """The definition with sorted keys and no whitespace: one byte string per meaning."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
