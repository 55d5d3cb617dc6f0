"""The platform's models, as configuration: what each model is, how its data looks, how it trains.

A model is an entry of the `mlops-platform:models` map in `Pulumi.yaml` (keyed by a short model
name), optionally overridden per stack in `mlops-platform:modelOverrides`. Everything about a
model that used to be code (features, label, data rules, hyperparameters, thresholds, sizing)
lives here, parsed and validated once into the typed objects below. The step scripts never see
these objects: they read the schema *document* (`DataSchema.document()`), a JSON file shipped
with each job under a content-addressed key like the scripts.

Standard library only: the Pulumi program (which must not import pandas to build an IAM
document), the step tooling and the local runner all use it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ml.serving_config import Serving

# Feature kinds. numeric: a range [low, high] (optionally whole numbers only), tested with KS;
# ordinal and nominal: a list of allowed values (ordinal in their order), tested with chi-square.
NUMERIC, ORDINAL, NOMINAL = "numeric", "ordinal", "nominal"
FEATURE_KINDS = (NUMERIC, ORDINAL, NOMINAL)
# Job kinds with their own instance type, count and maximum runtime.
JOB_KINDS = ("processing", "training", "transform")
# Version of the schema document the steps read; a step refuses a document of another version.
SCHEMA_FORMAT = 1
# Where Pulumi.yaml is; `dataFile` paths are relative to it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

Value = int | float | str


@dataclass(frozen=True)
class Feature:
    """One input column of a model."""

    name: str
    kind: str  # one of FEATURE_KINDS
    # numeric: (low, high), inclusive; ordinal/nominal: the allowed values, in order.
    domain: tuple[Value, ...]
    integer: bool = False  # numeric only: a value with a fraction is out of domain
    # Raw text -> value, applied before the domain check (BI-RADS "55" -> 5: a known typo).
    aliases: Mapping[str, Value] = field(default_factory=dict)

    @property
    def categorical(self) -> bool:
        return self.kind != NUMERIC


@dataclass(frozen=True)
class Label:
    """The label column: two values, one of them the positive class (scored as 1)."""

    name: str
    domain: tuple[Value, Value]
    positive: Value


@dataclass(frozen=True)
class DataSchema:
    """How a model's raw data files look: columns in file order, missing-value tokens, header.

    A training file has every column of `columns`; a batch file has them all, or all but the
    label (the label's position is then simply left out).
    """

    columns: tuple[str, ...]  # file order; features and the label
    features: tuple[Feature, ...]  # in the model's (and the transform CSV's) order
    label: Label
    missing: tuple[str, ...] = ("?", "")  # text read as a missing value
    header: bool = False  # the first non-blank line names the columns
    delimiter: str = ","

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def document(self, model: str) -> dict:
        """The JSON document the step scripts read (format SCHEMA_FORMAT)."""
        return {
            "format": SCHEMA_FORMAT,
            "model": model,
            "columns": list(self.columns),
            "missing": list(self.missing),
            "header": self.header,
            "delimiter": self.delimiter,
            "label": {"name": self.label.name, "domain": list(self.label.domain),
                      "positive": self.label.positive},
            "features": [
                {"name": f.name, "kind": f.kind, "domain": list(f.domain), "integer": f.integer,
                 "aliases": dict(sorted(f.aliases.items()))}
                for f in self.features
            ],
        }

    def document_bytes(self, model: str) -> bytes:
        """Canonical bytes of `document`: the same schema always has the same content key."""
        return (json.dumps(self.document(model), sort_keys=True, indent=1) + "\n").encode()


@dataclass(frozen=True)
class JobSizing:
    """Instances and time limit of one job kind."""

    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    max_runtime_seconds: int = 3600


@dataclass(frozen=True)
class ModelSpec:
    """One model of the platform, fully resolved for one stack (overrides applied)."""

    name: str  # short: it goes into resource names (see MAX_NAME_LENGTH)
    group_name: str  # its model package group in the central registry
    data_file: str  # the labelled data file, relative to the project root
    schema: DataSchema
    hyperparameters: Mapping[str, str]
    auc_threshold: float
    inference_schedule: str
    retrain_cooldown_minutes: int
    first_training_run: bool
    jobs: Mapping[str, JobSizing]  # one per JOB_KINDS
    # The model the platform ran before models were configurable: it keeps those resource
    # names, data prefixes and URNs (set on exactly one model of a stack).
    first: bool = False
    # Features the local tools also train without, each also scored alone (`compareWithout`):
    # the mammography model's BI-RADS, the radiologists' own verdict. No resource depends on it.
    compare_without: tuple[str, ...] = ()
    # Batch, a real-time endpoint, or both, and the endpoint's size and rollout (ml/serving_config.py).
    serving: Serving = field(default_factory=Serving)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hyperparameters", MappingProxyType(dict(sorted(self.hyperparameters.items()))))
        object.__setattr__(self, "jobs", MappingProxyType(dict(self.jobs)))


# --- Configuration -------------------------------------------------------------------------------

# A model's name goes into the names of its resources (naming.ModelNames: `mlops-<stack>-<model>`
# for every model but the first), so it may be at most as long as the tightest AWS limit below
# leaves room for. Each row: the stack roles that create the resource per model, the suffix after
# the model name (platform/mlops_platform/components: model_lifecycle.py, retrain_on_drift.py,
# pipelines.py), AWS's limit on that kind of name, and what it is. Per stack, not per model (so
# they do not bound it): IAM roles and policies (scoped by prefix), the retraining lease table,
# the registry's one model-package-state rule, buckets and keys.
DERIVED_NAMES: tuple[tuple[tuple[str, ...], str, int, str], ...] = (
    (("dev", "prod"), "-latest-approved-model", 64, "Lambda function name (the model lookup)"),
    (("dev", "prod"), "-retrain-gate", 64, "Lambda function name (the retraining gate)"),
    (("dev", "prod"), "-inference-schedule", 64, "EventBridge rule name"),
    (("dev", "prod"), "-inference-failed", 64, "EventBridge rule name"),
    (("dev", "prod"), "-training-failed", 64, "EventBridge rule name"),
    (("dev", "prod"), "-drift-detected", 64, "EventBridge rule name"),
    # A model an endpoint serves: its live-drift pipeline (ml/pipelines/live_drift.py) and schedule.
    (("dev", "prod"), "-live-drift-schedule", 64, "EventBridge rule name"),
    (("dev", "prod"), "-live-drift", 120, "SageMaker experiment name"),
    # SageMaker names each pipeline's experiment after the pipeline (limit 120, pipelines 256).
    (("dev", "prod"), "-inference", 120, "SageMaker experiment name"),
    (("dev", "prod"), "-training", 256, "SageMaker pipeline name"),
)


def _room(roles: tuple[str, ...], suffix: str, limit: int) -> int:
    return min(limit - len(f"mlops-{role}-") - len(suffix) for role in roles)


# 64 - len("mlops-prod-") - len("-latest-approved-model") = 31.
MAX_NAME_LENGTH = min(_room(roles, suffix, limit) for roles, suffix, limit, _ in DERIVED_NAMES)
TIGHTEST_NAME = next(f"mlops-{roles[-1]}-<model>{suffix} ({what}, at most {limit} characters)"
                     for roles, suffix, limit, what in DERIVED_NAMES if _room(roles, suffix, limit) == MAX_NAME_LENGTH)


@dataclass(frozen=True)
class ModelDefaults:
    """A stack's own single-model keys, every model's defaults (None: the stack does not set it).

    `aucThreshold`, `inferenceSchedule`, `retrainCooldownMinutes`, `firstTrainingRun` as the
    config loader read and checked them; `modelPackageGroupName` (legacy) is the *first* model's
    default group name only.
    """

    auc_threshold: float | None = None
    inference_schedule: str | None = None
    retrain_cooldown_minutes: int | None = None
    first_training_run: bool | None = None
    group_name: str | None = None


class ModelConfigError(ValueError):
    """The models configuration is wrong; `problems` lists every problem as `key: message`."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("the models configuration has problems:\n  " + "\n  ".join(self.problems))


def parse_models(raw_models: object, *, overrides: object = None, defaults: ModelDefaults,
                 first_model: str | None, stack_role: str, fail: Callable[[str, str], None],
                 root: Path | None = None) -> tuple[ModelSpec, ...] | None:
    """Every model of one stack, resolved and checked (ml/model_config.py says how).

    `raw_models` is `mlops-platform:models` and `overrides` `mlops-platform:modelOverrides` as the
    engine passes them (JSON text) or already structured; `first_model` is `mlops-platform:firstModel`;
    `root` the project root that `dataFile` paths are relative to (default: this repository).
    Reports every problem through `fail(config_key, message_with_fix)` and returns None if there
    was any; else the models, the first model first (`first=True`), then by name.
    """
    from ml import model_config  # it builds on the types above

    return model_config.parse(raw_models, overrides=overrides, defaults=defaults, first_model=first_model,
                              stack_role=stack_role, fail=fail, root=root or PROJECT_ROOT)


def load_project_models(root: Path = PROJECT_ROOT, *, stack_role: str = "local") -> tuple[ModelSpec, ...]:
    """The project-level models of `root/Pulumi.yaml` (no stack file), for the local tools.

    Values only a workload stack sets (aucThreshold, inferenceSchedule) are placeholders unless
    `stack_role` is dev or prod (then they must be in the entries).
    Raises ModelConfigError listing every problem (a missing or unreadable Pulumi.yaml too).
    """
    import yaml  # only the local tools read YAML themselves; the program gets config from the engine

    path = Path(root) / "Pulumi.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ModelConfigError([f"{path}: cannot be read as YAML ({err}); run from the project root or pass it"]) \
            from err
    config = data.get("config") if isinstance(data, dict) else None
    config = config if isinstance(config, dict) else {}

    def value(name: str) -> object:
        entry = config.get(f"mlops-platform:{name}")
        return entry.get("value") if isinstance(entry, dict) and "value" in entry else entry

    problems: list[str] = []
    first = value("firstModel")
    models = parse_models(value("models"), defaults=ModelDefaults(), stack_role=stack_role,
                          first_model=first if isinstance(first, str) else None,
                          fail=lambda key, message: problems.append(f"{key}: {message}"), root=Path(root))
    if models is None:
        raise ModelConfigError(problems)
    return models
