"""The stack's models: `mlops-platform:models`, `modelOverrides` and `firstModel`.

The map of models is parsed and validated by `ml.models.parse_models` (one parser for the
program and the local tools), which reports every problem through the loader's collector, so a
bad model entry is listed with the other config problems before any resource is registered.

The per-stack keys of the single-model platform (`aucThreshold`, `inferenceSchedule`,
`retrainCooldownMinutes`, `firstTrainingRun` and the legacy `modelPackageGroupName`) stay valid:
they are every model's defaults here (`ModelDefaults`); a model's entry and the stack's
`modelOverrides` take precedence over them.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlops_facts.stack_config import PROJECT, Role
from mlops_platform import validators as v

if TYPE_CHECKING:
    from ml.models import ModelSpec
    from mlops_platform.config_loader import _Collector

OVERRIDES_KEY = f"{PROJECT}:modelOverrides"


def models(c: _Collector, role: Role | None, project_keys: Iterable[str] | None) -> tuple[ModelSpec, ...] | None:
    """Every model of the stack, the first model first; None (with problems recorded) if any is bad."""
    raw = c.structured("models", dict, required=True,
                       fix="Declare the platform's models in Pulumi.yaml (README, \"Onboard a model\").")
    overrides = c.structured("modelOverrides", dict, required=False,
                             fix="Set it in Pulumi.<stack>.yaml to {<model>: {aucThreshold: ..., ...}}.")
    first = c.text("firstModel", required=False, fix="")
    defaults = _defaults(c, role)
    _overrides_placement(c, role, overrides, project_keys)
    if raw is None or role is None:
        return None
    from ml.models import parse_models  # the parser is the ML package's: the local tools use it too

    before = len(c.problems)
    parsed = parse_models(raw, overrides=overrides if role != "registry" else None, defaults=defaults,
                          first_model=first, stack_role=role, fail=c.fail)
    return None if parsed is None or len(c.problems) > before else parsed


def _overrides_placement(c: _Collector, role: Role | None, overrides: Any, project_keys: Iterable[str] | None) -> None:
    """`modelOverrides` says what differs by account: it belongs in a workload stack's file."""
    if overrides is None:
        return
    if project_keys is not None and OVERRIDES_KEY in set(project_keys):
        c.fail(OVERRIDES_KEY, "is set in Pulumi.yaml, where it would apply to every stack alike: write those "
               "values into the models' entries under mlops-platform:models instead, and keep modelOverrides "
               "in Pulumi.dev.yaml or Pulumi.prod.yaml for what differs by account.")
    elif role == "registry":
        c.fail(OVERRIDES_KEY, "is read by the dev and prod stacks only: the registry trains and schedules nothing "
               "(it only holds each model's group). Remove it from Pulumi.registry.yaml.")


# Stand-ins for a per-stack key that is set but bad (its problem is already recorded): the models
# are still parsed, so their own problems are listed in the same run, but none of them is reported
# as "not set" because of it. No settings object is ever built from them (a problem exists).
_STAND_INS = {"inferenceSchedule": "rate(1 day)", "aucThreshold": 0.5, "retrainCooldownMinutes": 360,
              "modelPackageGroupName": "stand-in-for-a-bad-group-name"}


def _defaults(c: _Collector, role: Role | None) -> Any:
    """The per-stack keys as `ModelDefaults`, each None when unset."""
    from ml.models import ModelDefaults

    def given_but_bad(key: str, value: Any) -> Any:
        return _STAND_INS[key] if value is None and c.raw(f"{PROJECT}:{key}") is not None else value

    schedule = c.text("inferenceSchedule", required=False, fix="")
    if schedule is not None and (err := v.schedule_problem(schedule)):
        c.fail(f"{PROJECT}:inferenceSchedule", err)
        schedule = None
    threshold = c.number("aucThreshold", float, lambda x: 0 < x < 1, "a number between 0 and 1 "
                         "(exclusive), e.g. 0.85", required=False)
    cooldown = c.number("retrainCooldownMinutes", int, lambda x: 1 <= x <= 10080,
                        "a whole number of minutes from 1 to 10080 (a week)", required=False)
    # dev starts its first training run on deploy unless the stack says otherwise, as before.
    first_run = c.flag("firstTrainingRun", default=role == "dev")
    group = c.text("modelPackageGroupName", required=False, fix="")
    if group is not None and not v.SAGEMAKER_NAME.fullmatch(group):
        c.fail(f"{PROJECT}:modelPackageGroupName",
               f"{group!r} must be 1-63 letters, digits and hyphens, starting with a letter or digit.")
        group = None
    return ModelDefaults(group_name=given_but_bad("modelPackageGroupName", group),
                         auc_threshold=given_but_bad("aucThreshold", threshold),
                         inference_schedule=given_but_bad("inferenceSchedule", schedule),
                         retrain_cooldown_minutes=given_but_bad("retrainCooldownMinutes", cooldown),
                         first_training_run=first_run)
