"""`mlops-platform:models` and `modelOverrides` -> `ModelSpec`s, every problem reported at once.

Precedence, per value: `modelOverrides.<model>` (the stack file) > the `models` entry
(Pulumi.yaml) > the stack's own single-model key (`ModelDefaults`: aucThreshold,
inferenceSchedule, retrainCooldownMinutes, firstTrainingRun) > the built-in default below.
`hyperparameters` and `jobs` merge key by key in that order (an override may change one value).
Group names: the entry's `modelPackageGroupName`; else, for the first model, the stack's legacy
`modelPackageGroupName`; else `<model>-model-package`.

What each stack role needs: the registry creates groups only, so it needs names, groups and
schemas; values only workloads use fall back to built-in defaults there (each value given is
still checked: Pulumi.yaml is shared by every stack, so the registry's preview reports it too).
A workload must get `aucThreshold` and `inferenceSchedule` from some layer (as before models).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ml import model_checks as mc
from ml.model_checks import Report
from ml.model_hyperparameters import check_hyperparameters
from ml.model_jobs import parse_jobs
from ml.model_schema import parse_schema
from ml.models import (
    MAX_NAME_LENGTH,
    TIGHTEST_NAME,
    DataSchema,
    ModelDefaults,
    ModelSpec,
)
from ml.serving_config import Serving, parse_serving
from mlops_facts import stack_config
from mlops_facts.schedules import schedule_problem

MODELS_KEY = f"{stack_config.PROJECT}:models"
OVERRIDES_KEY = f"{stack_config.PROJECT}:modelOverrides"
FIRST_MODEL_KEY = f"{stack_config.PROJECT}:firstModel"
OVERRIDE_KEYS = ("aucThreshold", "inferenceSchedule", "retrainCooldownMinutes", "firstTrainingRun", "jobs",
                 "hyperparameters", "serving")
MODEL_KEYS = ("modelPackageGroupName", "dataFile", "schema", "compareWithout", *OVERRIDE_KEYS)
# The stack's own keys that are every model's defaults (ModelDefaults field -> config key).
DEFAULT_KEYS = {"aucThreshold": "auc_threshold", "inferenceSchedule": "inference_schedule",
                "retrainCooldownMinutes": "retrain_cooldown_minutes", "firstTrainingRun": "first_training_run"}

# Built-in defaults. The cool-down is the one the platform had before models (6 hours); the first
# training run starts on deploy in dev only. The registry (and the local tools, role "local") runs
# no pipelines: it gets placeholders for the values only workloads read.
DEFAULT_COOLDOWN_MINUTES = 360
PLACEHOLDERS = {"aucThreshold": 0.8, "inferenceSchedule": "rate(1 day)"}
# The steps score AUC on probabilities (evaluate thresholds them at 0.5): a binary logistic model.
DEFAULT_HYPERPARAMETERS = {"objective": "binary:logistic", "eval_metric": "auc"}

MODEL_NAME = re.compile(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*")
# SageMaker's model package group names (and AWS's 63-character limit on them).
GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


def parse(raw_models: Any, *, overrides: Any, defaults: ModelDefaults, first_model: Any, stack_role: str,
          fail: Any, root: Path) -> tuple[ModelSpec, ...] | None:
    """See `ml.models.parse_models`."""
    report = Report(fail)
    models = _decode(report, MODELS_KEY, raw_models, required=True)
    extra = _decode(report, OVERRIDES_KEY, overrides, required=False) or {}
    if extra and stack_role == "registry":
        report(OVERRIDES_KEY, "is read by the dev and prod stacks only (the registry runs no pipelines): remove it "
               "from the registry's stack file.")
    if models is None:
        return None
    names = [n for n in models if _model_name(report, n)]
    first = _first(report, first_model, names)
    for name in sorted(map(str, extra)):
        if name not in models:
            near = mc.closest(name, names)
            report(f"{OVERRIDES_KEY}.{name}", f"names no model of {MODELS_KEY} ({', '.join(sorted(names))})"
                   + (f": did you mean {near}?" if near else ": fix the name or remove the override."))
    specs = [_model(report, name, models[name], extra.get(name), defaults, stack_role, root, name == first)
             for name in sorted(names)]
    _unique_groups(report, [s for s in specs if s is not None])
    if report.count:
        return None
    done = [s for s in specs if s is not None]
    return tuple(sorted(done, key=lambda s: (not s.first, s.name)))


def _decode(report: Report, key: str, raw: Any, *, required: bool) -> Mapping[Any, Any] | None:
    if raw is None or raw == "":
        if required:
            report(key, "is required: declare at least one model (README, \"Onboard a model\").")
        return None
    try:
        value = stack_config.decode(raw, dict)
    except stack_config.ConfigValueError as err:
        report(key, f"{err}: write it as a map keyed by model name.")
        return None
    if required and not value:
        report(key, "is empty: declare at least one model (README, \"Onboard a model\").")
        return None
    return value


def _model_name(report: Report, name: Any) -> bool:
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        report(f"{MODELS_KEY}.{name}", "is not a usable model name: start with a lowercase letter, then lowercase "
               "letters, digits and single hyphens (it goes into resource names), e.g. wdbc or churn-v2.")
        return False
    if len(name) > MAX_NAME_LENGTH:
        report(f"{MODELS_KEY}.{name}", f"is {len(name)} characters; model names may have at most {MAX_NAME_LENGTH}, "
               f"or {TIGHTEST_NAME} would not fit. Choose a shorter name.")
        return False
    return True


def _first(report: Report, first_model: Any, names: list[str]) -> str | None:
    if first_model is None:
        if len(names) == 1:
            return names[0]
        if len(names) > 1:
            report(FIRST_MODEL_KEY, f"is required with more than one model: name the model that keeps the resource "
                   f"names the platform had before models were configurable (one of {', '.join(sorted(names))}).")
        return None
    if first_model not in names:
        near = mc.closest(str(first_model), names)
        report(FIRST_MODEL_KEY, f"{first_model!r} is not a model of {MODELS_KEY}"
               + (f": did you mean {near}?" if near else f": name one of {', '.join(sorted(names)) or 'them'}."))
        return None
    return str(first_model)


def _model(report: Report, name: str, raw: Any, override_raw: Any, defaults: ModelDefaults, stack_role: str,
           root: Path, first: bool) -> ModelSpec | None:
    key = f"{MODELS_KEY}.{name}"
    entry = mc.mapping(report, key, raw, "{dataFile: ..., schema: {...}, ...}")
    override = mc.mapping(report, f"{OVERRIDES_KEY}.{name}", override_raw, "{aucThreshold: \"0.9\"}") \
        if override_raw is not None else {}
    if entry is None or override is None:
        return None
    before = report.count
    mc.unknown_keys(report, key, entry, MODEL_KEYS)
    mc.unknown_keys(report, f"{OVERRIDES_KEY}.{name}", override, OVERRIDE_KEYS)
    group = _group(report, key, entry, defaults, name, first)
    data_file = _data_file(report, f"{key}.dataFile", entry.get("dataFile"), root)
    schema = parse_schema(report, f"{key}.schema", entry.get("schema"))
    layers = ((f"{OVERRIDES_KEY}.{name}", override), (key, entry))
    values = {k: _layered(report, layers, k, defaults, stack_role) for k in DEFAULT_KEYS}
    hyper = _hyperparameters(report, key, layers)
    jobs = parse_jobs(report, layers)
    compare = _compare_without(report, f"{key}.compareWithout", entry.get("compareWithout", []), schema)
    serving = _serving(report, layers)
    if report.count > before or group is None or data_file is None or schema is None or hyper is None \
            or jobs is None or compare is None or serving is None or any(v is None for v in values.values()):
        return None
    return ModelSpec(name=name, group_name=group, data_file=data_file, schema=schema, hyperparameters=hyper,
                     auc_threshold=values["aucThreshold"], inference_schedule=values["inferenceSchedule"],
                     retrain_cooldown_minutes=values["retrainCooldownMinutes"],
                     first_training_run=values["firstTrainingRun"], jobs=jobs, first=first,
                     compare_without=compare, serving=serving)


def _serving(report: Report, layers: tuple[tuple[str, Mapping[Any, Any]], ...]) -> Serving | None:
    """`serving`, merged key by key (an override may change one value, e.g. the instance type in prod),
    `autoscaling` too (an override of `max` keeps the entry's `min` and target)."""
    merged: dict[Any, Any] = {}
    where = layers[-1][0]
    for name, source in reversed(layers):
        given = source.get("serving")
        if given is None:
            continue
        if not isinstance(given, Mapping):
            return parse_serving(report, f"{name}.serving", given)
        scaling = (merged.get("autoscaling"), given.get("autoscaling"))
        merged.update(given)
        if all(isinstance(part, Mapping) for part in scaling):
            merged["autoscaling"] = {**scaling[0], **scaling[1]}  # type: ignore[dict-item]
        where = name
    return parse_serving(report, f"{where}.serving", merged or None)


def _group(report: Report, key: str, entry: Mapping[Any, Any], defaults: ModelDefaults, name: str,
           first: bool) -> str | None:
    group = entry.get("modelPackageGroupName")
    if group is None:
        return defaults.group_name if first and defaults.group_name else f"{name}-model-package"
    if not isinstance(group, str) or not GROUP_NAME.fullmatch(group):
        report(f"{key}.modelPackageGroupName", f"must be a SageMaker name (letters, digits and hyphens, at most 63 "
               f"characters, starting and ending with a letter or digit), got {group!r}; or remove it for "
               f"{name}-model-package.")
        return None
    return group


def _compare_without(report: Report, key: str, value: Any, schema: DataSchema | None) -> tuple[str, ...] | None:
    """Features the local tools also train without; each must be a feature, and one must remain."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(set(value)) != len(value):
        report(key, f"must list feature names, each once, e.g. [BI-RADS]; got {value!r}.")
        return None
    if schema is None:
        return tuple(value)
    unknown = [v for v in value if v not in schema.feature_names]
    for name in unknown:
        near = mc.closest(name, schema.feature_names)
        report(key, f"{name!r} is not a feature of this model" + (f": did you mean {near}?" if near else
               f" (its features: {', '.join(schema.feature_names)})."))
    if not unknown and value and len(value) == len(schema.feature_names):
        report(key, "lists every feature: a model without them would have nothing to learn from. List fewer.")
        return None
    return None if unknown else tuple(value)


def _unique_groups(report: Report, specs: list[ModelSpec]) -> None:
    owner: dict[str, str] = {}
    for spec in specs:
        if spec.group_name in owner:
            report(f"{MODELS_KEY}.{spec.name}.modelPackageGroupName",
                   f"{spec.group_name!r} is also model {owner[spec.group_name]!r}'s group: each model registers into "
                   "its own group (approvals and the latest approved version are per group). Give it another name.")
        owner.setdefault(spec.group_name, spec.name)


def _data_file(report: Report, key: str, value: Any, root: Path) -> str | None:
    if not isinstance(value, str) or not value:
        report(key, f"is required: the labelled data file, relative to the project root, e.g. data/my_model.csv; "
               f"got {value!r}.")
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        report(key, f"{value!r} must be a path inside the project, relative to its root with / separators (the "
               "deploy ships it from the repository), e.g. data/my_model.csv.")
        return None
    if not (root / value).is_file():
        report(key, f"{value!r} does not exist under {root}: add the file (data/README.md credits each data set) or "
               "fix the path.")
        return None
    return value


def _layered(report: Report, layers: tuple[tuple[str, Mapping[Any, Any]], ...], name: str, defaults: ModelDefaults,
             stack_role: str) -> Any:
    """The first layer's value of `name` (each given one checked), then the stack's, then the built-in."""
    found: list[Any] = []
    for where, source in layers:
        if name in source:
            found.append(_CHECKS[name](report, f"{where}.{name}", source[name]))
    if found:
        return found[0]
    stack_value = getattr(defaults, DEFAULT_KEYS[name])
    if stack_value is not None:
        return stack_value
    if name == "retrainCooldownMinutes":
        return DEFAULT_COOLDOWN_MINUTES
    if name == "firstTrainingRun":
        return stack_role == "dev"
    if stack_role not in stack_config.WORKLOAD_ROLES:
        return PLACEHOLDERS[name]
    report(f"{layers[1][0]}.{name}", f"is not set for the {stack_role} stack: set it in the models entry, in "
           f"{OVERRIDES_KEY}.<model>.{name} or as the stack's {stack_config.PROJECT}:{name} (every model's default).")
    return None


def _auc(report: Report, key: str, value: Any) -> float | None:
    return mc.number(report, key, value, whole=False, ok=lambda x: 0 < x < 1,
                     what="a number between 0 and 1 (exclusive), e.g. 0.85")


def _schedule(report: Report, key: str, value: Any) -> str | None:
    if not isinstance(value, str) or (problem := schedule_problem(value)):
        report(key, problem if isinstance(value, str) and problem else
               f"must be an EventBridge schedule such as cron(0 6 * * ? *) or rate(1 day), got {value!r}.")
        return None
    return value


def _cooldown(report: Report, key: str, value: Any) -> int | None:
    minutes = mc.number(report, key, value, whole=True, ok=lambda x: 1 <= x <= 10080,
                        what="a whole number of minutes from 1 to 10080 (a week)")
    return None if minutes is None else int(minutes)


_CHECKS = {"aucThreshold": _auc, "inferenceSchedule": _schedule, "retrainCooldownMinutes": _cooldown,
           "firstTrainingRun": mc.boolean}


def _hyperparameters(report: Report, key: str, layers: tuple[tuple[str, Mapping[Any, Any]], ...]) -> dict[str, str] | None:
    merged = dict(DEFAULT_HYPERPARAMETERS)
    before = report.count
    for where, source in reversed(layers):
        if "hyperparameters" in source:
            given = mc.mapping(report, f"{where}.hyperparameters", source["hyperparameters"],
                               '{num_round: "50", max_depth: "2"}')
            if given is not None:
                merged.update(check_hyperparameters(report, f"{where}.hyperparameters", given))
    if "num_round" not in merged:
        report(f"{key}.hyperparameters.num_round", "is required by the built-in XGBoost algorithm: set the number "
               "of boosting rounds, e.g. num_round: \"100\".")
    return merged if report.count == before else None
