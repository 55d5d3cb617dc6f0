"""Checks a model's XGBoost hyperparameters before a training job would refuse them.

The built-in algorithm takes every hyperparameter as text and rejects names it does not know, so
a typo (`max_dept`) fails the first training run hours after the deploy; the steps score AUC on
probabilities, so the objective must be `binary:logistic`. Names are the algorithm's documented
ones (AWS, "XGBoost hyperparameters"); ranges are XGBoost's own for the common numeric ones.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ml.model_checks import Report, closest

OBJECTIVE = "binary:logistic"
KNOWN = (
    "num_round", "alpha", "base_score", "booster", "colsample_bylevel", "colsample_bynode", "colsample_bytree",
    "deterministic_histogram", "early_stopping_rounds", "eta", "eval_metric", "gamma", "grow_policy",
    "interaction_constraints", "lambda", "lambda_bias", "max_bin", "max_delta_step", "max_depth", "max_leaves",
    "min_child_weight", "monotone_constraints", "normalize_type", "nthread", "objective", "one_drop",
    "process_type", "rate_drop", "refresh_leaf", "sample_type", "scale_pos_weight", "seed",
    "single_precision_histogram", "sketch_eps", "skip_drop", "subsample", "tree_method",
    "tweedie_variance_power", "updater", "use_dask_gpu_training", "verbosity",
)
# Known names the platform refuses, and why.
REFUSED = {
    "num_class": "is for multi-class objectives; the platform trains binary classifiers (objective "
                 f"{OBJECTIVE}): remove it",
    "csv_weights": "makes the algorithm read the second CSV column as weights, but the steps write only the "
                   "label and the features: remove it",
}
# name -> (whole number?, smallest, largest, lower bound open?)
_RANGES: dict[str, tuple[bool, float, float, bool]] = {
    "num_round": (True, 1, 100_000, False),
    "early_stopping_rounds": (True, 1, 100_000, False),
    "max_depth": (True, 0, 64, False),
    "max_leaves": (True, 0, 1 << 31, False),
    "max_bin": (True, 2, 1 << 31, False),
    "seed": (True, 0, (1 << 31) - 1, False),
    "nthread": (True, 1, 1024, False),
    "eta": (False, 0, 1, True),
    "subsample": (False, 0, 1, True),
    "colsample_bytree": (False, 0, 1, True),
    "colsample_bylevel": (False, 0, 1, True),
    "colsample_bynode": (False, 0, 1, True),
    "base_score": (False, 0, 1, True),
    "gamma": (False, 0, math.inf, False),
    "alpha": (False, 0, math.inf, False),
    "lambda": (False, 0, math.inf, False),
    "min_child_weight": (False, 0, math.inf, False),
    "max_delta_step": (False, 0, math.inf, False),
    "scale_pos_weight": (False, 0, math.inf, True),
}


def check_hyperparameters(report: Report, key: str, given: Mapping[Any, Any]) -> dict[str, str]:
    """The entries of `given` that are fine (as text); a problem reported for each other one."""
    good: dict[str, str] = {}
    for name, value in given.items():
        where = f"{key}.{name}"
        if name in REFUSED:
            report(where, f"{REFUSED[name]}.")
        elif name not in KNOWN:
            near = closest(str(name), KNOWN)
            report(where, "is not a hyperparameter of SageMaker's built-in XGBoost algorithm (it would refuse the "
                   f"training job): {f'did you mean {near}?' if near else 'see AWS, XGBoost hyperparameters.'}")
        elif not isinstance(value, str) or not value.strip():
            hint = f'quote it: {name}: "{value}"' if isinstance(value, int | float) and not isinstance(value, bool) \
                else "give the value as text"
            report(where, f"must be text, as SageMaker passes hyperparameters ({hint}), got {value!r}.")
        elif (problem := _value_problem(name, value)) is not None:
            report(where, problem)
        else:
            good[name] = value
    return good


def _value_problem(name: str, value: str) -> str | None:
    if name == "objective" and value != OBJECTIVE:
        return (f"must be {OBJECTIVE!r}, got {value!r}: the evaluate step scores the AUC of probabilities and "
                "the batch predictions are probabilities of the positive class.")
    if name not in _RANGES:
        return None
    whole, low, high, open_low = _RANGES[name]
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number > high or number < low or (open_low and number == low):
        shape = "a whole number" if whole else "a number"
        bounds = f"{'above' if open_low else 'from'} {low:g}" + ("" if math.isinf(high) else f" to {high:g}")
        return f"must be {shape} {bounds}, got {value!r}."
    return None
