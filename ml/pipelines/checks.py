"""The shapes `PipelineSettings` accepts, one check each, every message naming the field.

Kept apart from settings.py so that the settings read as a list of fields; each check raises
ValueError with the field, the value and an example of what fits.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from ml import contract
from mlops_facts import regions as facts_regions

PARTITION = r"arn:aws(?:-cn|-us-gov)?"
REGION = re.compile(f"^{facts_regions.REGION.pattern}$")  # the one region pattern (mlops_facts)
ACCOUNT = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(PARTITION + r":iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
KMS_KEY_ARN = re.compile(PARTITION + r":kms:[a-z0-9-]+:\d{12}:key/[a-zA-Z0-9-]{1,128}$")
GROUP_ARN = re.compile(
    PARTITION + r":sagemaker:[a-z0-9-]+:\d{12}:model-package-group/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
)
LAMBDA_ARN = re.compile(PARTITION + r":lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64}$")
PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+$")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
EXPERIMENT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}$")
# AWS tag rules; `aws:` keys are reserved by AWS and rejected by every tagging API.
TAG_KEY = re.compile(r"^(?!aws:)[\w.:/=+\-@ ]{1,128}$")
TAG_VALUE = re.compile(r"^[\w.:/=+\-@ ]{0,256}$")
# CreateTrainingJob's HyperParameters: at most 100 pairs, keys up to 256 and values up to
# 2,500 characters (SageMaker API reference); the built-in XGBoost requires num_round.
HYPERPARAMETER_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,256}$")
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_VALUE = 2500
REQUIRED_HYPERPARAMETERS = ("num_round",)


def check(pattern: re.Pattern[str], value: object, what: str, example: str) -> None:
    """Raise ValueError unless `value` is a string matching `pattern`."""
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"{what} must look like {example!r}, got {value!r}")


def frozen(value: Mapping) -> Mapping:
    """A read-only, key-sorted copy: later changes to the caller's dict cannot leak in."""
    return MappingProxyType(dict(sorted(value.items())))


def named_uris(value: object, what: str, names: tuple[str, ...], example: str) -> Mapping[str, str]:
    """A mapping of exactly `names` to s3:// URIs, each ending with its own name (the container
    finds a script or module by file name); returned frozen."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must map file name to s3:// URI, got {type(value).__name__}")
    missing = [name for name in names if name not in value]
    unknown = sorted(set(value) - set(names))
    if missing or unknown:
        raise ValueError(f"{what} must have exactly {list(names)}; missing {missing}, unknown {unknown}")
    for name, uri in value.items():
        check(S3_URI, uri, f"{what}[{name!r}]", example.format(name=name))
        if not uri.endswith("/" + name):
            raise ValueError(f"{what}[{name!r}] must end with /{name} (the container finds it by name): {uri}")
    return frozen(value)


def library_uris(value: object) -> Mapping[str, str]:
    """The steps' shared modules: one processing input ships them all, so they share a directory."""
    uris = named_uris(value, "library_uris", contract.STEP_LIBRARY_MODULES, "s3://bucket/code/steps/<sha>/{name}")
    directories = sorted({uri.rsplit("/", 1)[0] for uri in uris.values()})
    if len(directories) != 1:
        raise ValueError("library_uris must all lie in one directory (one processing input ships them "
                         f"together, ml/packaging.py `library_uris`), got directories {directories}")
    return uris


def schema_uri(value: object) -> None:
    check(S3_URI, value, "schema_uri", f"s3://bucket/{contract.SCHEMAS_PREFIX}/<sha>/{contract.SCHEMA_FILE}")
    assert isinstance(value, str)
    if not value.endswith("/" + contract.SCHEMA_FILE):
        raise ValueError(f"schema_uri must end with /{contract.SCHEMA_FILE} (the steps read that file): {value}")


def hyperparameters(value: object) -> Mapping[str, str]:
    """XGBoost's hyperparameters as the training job takes them: text keys and values; frozen."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"hyperparameters must be a non-empty mapping of name to text value, got {value!r}")
    if len(value) > MAX_HYPERPARAMETERS:
        raise ValueError(f"hyperparameters: at most {MAX_HYPERPARAMETERS} (SageMaker's limit), got {len(value)}")
    for key, text in value.items():
        check(HYPERPARAMETER_KEY, key, "hyperparameter name", "max_depth (letters, digits, _ . : -)")
        if not isinstance(text, str) or not 0 < len(text) <= MAX_HYPERPARAMETER_VALUE:
            raise ValueError(f"hyperparameters[{key!r}] must be text of 1 to {MAX_HYPERPARAMETER_VALUE} "
                             f"characters (the training API takes strings: write \"50\", not 50), got {text!r}")
    missing = [key for key in REQUIRED_HYPERPARAMETERS if key not in value]
    if missing:
        raise ValueError(f"hyperparameters must set {missing} (the built-in XGBoost algorithm requires it)")
    return frozen(value)


def relative_key(value: object, what: str) -> None:
    if not isinstance(value, str) or not value or value.startswith("/") or "//" in value:
        raise ValueError(f"{what} must be a relative S3 key such as 'pipelines', got {value!r}")


def count(value: object, what: str, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise ValueError(f"{what} must be an integer from 1 to {high}, got {value!r}")


def bounded_int(value: object, what: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{what} must be an integer from {low} to {high}, got {value!r}")


# The live check's window: up to 31 days of captured requests (0: every request under the prefix).
MAX_CAPTURE_WINDOW_HOURS = 31 * 24


def live_drift(pipeline_name: object, capture_key: object, window_hours: object, others: tuple[str, ...]) -> None:
    """The live-drift pipeline's fields: a name and a capture prefix together (or neither: the model
    has no endpoint), a name of its own, a relative prefix, a bounded window."""
    if (pipeline_name is None) != (capture_key is None):
        raise ValueError("live_drift_pipeline_name and capture_data_key go together: set both for a model "
                         f"an endpoint serves, or neither; got {pipeline_name!r} and {capture_key!r}")
    bounded_int(window_hours, "capture_window_hours", 0, MAX_CAPTURE_WINDOW_HOURS)
    if pipeline_name is None:
        return
    check(PIPELINE_NAME, pipeline_name, "live_drift_pipeline_name", "mlops-dev-live-drift (letters, digits, hyphens)")
    if str(pipeline_name).lower() in {o.lower() for o in others}:
        raise ValueError(f"live_drift_pipeline_name must differ from the training and inference pipelines' names, "
                         f"got {pipeline_name!r}")
    relative_key(capture_key, "capture_data_key")
