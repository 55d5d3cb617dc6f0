"""Model quality and drift-check figures for every model of Pulumi.yaml. Prints numbers; asserts nothing.

    python bench/model_quality.py [--model NAME] [--repeats 5] [--drift-seeds 200]

Model: repeated stratified 5-fold CV (the same splits for every row of a model), each fold handled
as the pipeline does (the steps' reader and rules, imputation fitted on the training folds only,
the model's hyperparameters from Pulumi.yaml, AUC on probabilities):
  every feature | without the model's `compareWithout` features | each of those alone (its value
  as the score; mammography: BI-RADS, the radiologists' ranking) | "the seeds' way" (imputer
  fitted on all rows before splitting, AUC of 0/1 predictions: what the project started from).
The mammography hyperparameters were tuned with a different CV seed (7) than the one reported (2026).

Drift: for each seed, a stratified 70/30 split of the model's file; the 70 % are the reference
(the training features, as the pipeline keeps them), batches of n distinct rows are drawn from
the 30 %, as they are (clean: the false-alarm rate) and with each shift DEFINED HERE per model
(the detection rate), and judged by the pipeline's drift check (ml/steps/drift_check.py).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ml import datasets, local_xgboost, model_selection, step_library  # noqa: E402
from ml.models import ModelSpec  # noqa: E402
from ml.steps import drift_check, preprocess  # noqa: E402

CV_SEED = 2026
# The smallest the check judges (drift_check.MIN_ROWS) up to what the smallest held-out pool holds.
BATCH_SIZES = (50, 100, 150)
# A batch kind: (held-out pool, batch size, rng) -> a batch. Drawn without replacement, so a batch
# holds distinct cases as a real one does (duplicates would inflate every test's power).
Draw = Callable[[pd.DataFrame, int, np.random.Generator], pd.DataFrame]


def clean(pool: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pool.iloc[np.sort(rng.choice(len(pool), n, replace=False))].reset_index(drop=True)


def _add(column: str, amount: float) -> Draw:
    def draw(pool: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        out = clean(pool, n, rng)
        out[column] = out[column] + amount
        return out
    return draw


def _scale(column: str, factor: float) -> Draw:
    def draw(pool: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        out = clean(pool, n, rng)
        out[column] = out[column] * factor
        return out
    return draw


def _recode(column: str, value: float, share: float) -> Draw:
    """A clean batch with ``share`` of the other cases' ``column`` set to ``value``: the category mix
    changes, nothing else (a resampled mix would run out of such cases in a small pool)."""
    def draw(pool: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        out = clean(pool, n, rng)
        others = np.flatnonzero((out[column] != value).to_numpy() & out[column].notna().to_numpy())
        chosen = rng.choice(others, int(round(share * len(others))), replace=False)
        out.loc[chosen, column] = value
        return out
    return draw


# The shifts each model's drift check must find; a model without an entry gets clean batches only.
SHIFTS: dict[str, dict[str, Draw]] = {
    "mammography": {
        "Age +12 years": _add("Age", 12),
        "Margin: 15% of the others read as spiculated (5)": _recode("Margin", 5, 0.15),
    },
    "wdbc": {
        "radius_mean +10% (a size feature)": _scale("radius_mean", 1.10),
        "texture_mean +10% (gray-level spread)": _scale("texture_mean", 1.10),
    },
}


def load(spec: ModelSpec) -> tuple[pd.DataFrame, Any]:
    """The model's labelled file as the training step reads it (aliases applied), and its schema."""
    schema = step_library.schema(spec)
    return preprocess.read_input_dir(datasets.data_path(spec), schema), schema


def _fit_predict(spec: ModelSpec, schema, train: pd.DataFrame, test: pd.DataFrame, features: tuple[str, ...],
                 imputation_source: pd.DataFrame) -> np.ndarray:
    imputation = preprocess.fit_imputation(imputation_source, features, schema)
    params, rounds, _ = local_xgboost.booster_params(dict(spec.hyperparameters))
    x_train = preprocess.apply_imputation(train, imputation).to_numpy(np.float32)
    x_test = preprocess.apply_imputation(test, imputation).to_numpy(np.float32)
    booster = xgb.train(params, xgb.DMatrix(x_train, label=train[schema.label.name]), rounds)
    return booster.predict(xgb.DMatrix(x_test))


def model_quality(spec: ModelSpec, repeats: int) -> dict[str, list[float]]:
    """Per-fold test AUCs for each way of scoring."""
    data, schema = load(spec)
    labels = data[schema.label.name].astype(int)
    every = schema.feature_names
    without = tuple(f for f in every if f not in spec.compare_without)
    scores: dict[str, list[float]] = {"every feature": []}
    if spec.compare_without:
        scores[f"without {', '.join(spec.compare_without)}"] = []
        scores.update({f"{f} alone": [] for f in spec.compare_without})
    scores["seeds' way (0/1, leaky)"] = []
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=CV_SEED)
    for train_idx, test_idx in folds.split(data, labels):
        train, test, y = data.iloc[train_idx], data.iloc[test_idx], labels.iloc[test_idx]
        scores["every feature"].append(roc_auc_score(y, _fit_predict(spec, schema, train, test, every, train)))
        if spec.compare_without:
            scores[f"without {', '.join(spec.compare_without)}"].append(
                roc_auc_score(y, _fit_predict(spec, schema, train, test, without, train)))
        for feature in spec.compare_without:
            alone = preprocess.apply_imputation(test, preprocess.fit_imputation(train, (feature,), schema))[feature]
            scores[f"{feature} alone"].append(roc_auc_score(y, alone))
        leaky = _fit_predict(spec, schema, train, test, every, data)
        scores["seeds' way (0/1, leaky)"].append(roc_auc_score(y, leaky.round()))
    return scores


def drift_rates(spec: ModelSpec, seeds: int, sizes: tuple[int, ...]) -> dict[tuple[str, int], float]:
    """(batch kind, batch size) -> share of seeds on which the check flagged drift."""
    data, schema = load(spec)
    label = schema.label.name
    kinds: dict[str, Draw] = {"clean": clean, **SHIFTS.get(spec.name, {})}
    flagged = dict.fromkeys(((kind, n) for kind in kinds for n in sizes), 0)
    features = list(schema.feature_names)
    for seed in range(seeds):
        reference, held_out = train_test_split(data, test_size=0.3, stratify=data[label], random_state=seed)
        rng = np.random.default_rng(seed)
        for n in sizes:
            for kind, draw in kinds.items():
                verdict = drift_check.check_drift(reference[features], draw(held_out[features], n, rng), schema)
                flagged[(kind, n)] += bool(verdict["drift_detected"])
    return {key: count / seeds for key, count in flagged.items()}


def _print_quality(spec: ModelSpec, repeats: int) -> None:
    start = time.perf_counter()
    scores = model_quality(spec, repeats)
    print(f"\n{spec.name}: test AUC, {repeats}x5 stratified CV (seed {CV_SEED}), "
          f"hyperparameters {dict(spec.hyperparameters)}")
    print(f"{'scoring':<30} {'mean':>6} {'std':>6} {'min':>6} {'max':>6}")
    for name, values in scores.items():
        v = np.array(values)
        print(f"{name:<30} {v.mean():6.4f} {v.std():6.4f} {v.min():6.4f} {v.max():6.4f}")
    print(f"({time.perf_counter() - start:.1f}s)")


def _print_drift(spec: ModelSpec, seeds: int) -> None:
    start = time.perf_counter()
    rates = drift_rates(spec, seeds, BATCH_SIZES)
    print(f"\n{spec.name}: drift check flags, share of {seeds} seeds (reference: 70% of the file; "
          "batches drawn from the other 30%)")
    rows = {f"{kind} ({'false alarms' if kind == 'clean' else 'detected'})": kind
            for kind in dict.fromkeys(k for k, _ in rates)}
    width = max(len(label) for label in rows)
    print(f"{'batch':<{width}} " + " ".join(f"{f'n={n}':>7}" for n in BATCH_SIZES))
    for label, kind in rows.items():
        print(f"{label:<{width}} " + " ".join(f"{rates[(kind, n)]:7.3f}" for n in BATCH_SIZES))
    print(f"({time.perf_counter() - start:.1f}s)")


def main(argv: list[str] | None = None) -> int:
    """Print the model-quality table and the drift rates of every model (or --model)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="one model of Pulumi.yaml (default: every model)")
    parser.add_argument("--repeats", type=int, default=5, help="CV repeats (5 folds each)")
    parser.add_argument("--drift-seeds", type=int, default=200)
    args = parser.parse_args(argv)
    for spec in model_selection.select(args.model):
        _print_quality(spec, args.repeats)
        _print_drift(spec, args.drift_seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
