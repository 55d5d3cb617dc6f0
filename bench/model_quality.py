"""Model quality and drift-check figures on the shipped data. Prints numbers; asserts nothing.

    python bench/model_quality.py [--repeats 5] [--drift-seeds 200]

Model: repeated stratified 5-fold CV (the same splits for every column), each fold handled as
the pipeline does (imputation fitted on the training folds only, contract.XGB_HYPERPARAMETERS,
AUC on probabilities):
  with BI-RADS | without BI-RADS | BI-RADS alone (the radiologists' ranking) |
  "the seeds' way" (imputer fitted on all rows before splitting, AUC of 0/1 predictions).
The hyperparameters were tuned with a different CV seed (7) than the one reported here (2026).

Drift (when ml/steps/drift_check.py exists): for many seeds, ml.datasets derives a fresh
training set and held-out pool; the drift check compares the clean batch and each drifted
batch with the training features: false-alarm rate and detection rate per drift.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold

from ml import contract, datasets, local_xgboost
from ml.steps import preprocess

CV_SEED = 2026


def _fit_predict(train: pd.DataFrame, test: pd.DataFrame, features: tuple[str, ...],
                 imputation_source: pd.DataFrame) -> np.ndarray:
    imputation = preprocess.fit_imputation(imputation_source, features)
    params, rounds, _ = local_xgboost.booster_params(contract.XGB_HYPERPARAMETERS)
    x_train = preprocess.apply_imputation(train, imputation).to_numpy(np.float32)
    x_test = preprocess.apply_imputation(test, imputation).to_numpy(np.float32)
    booster = xgb.train(params, xgb.DMatrix(x_train, label=train[contract.LABEL]), rounds)
    return booster.predict(xgb.DMatrix(x_test))


def model_quality(data: pd.DataFrame, repeats: int) -> dict[str, list[float]]:
    """Per-fold test AUCs for the four ways of scoring."""
    labels = data[contract.LABEL].astype(int)
    without = tuple(f for f in contract.FEATURES if f != "BI-RADS")
    scores: dict[str, list[float]] = {"with BI-RADS": [], "without BI-RADS": [],
                                      "BI-RADS alone": [], "seeds' way (0/1, leaky)": []}
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=repeats, random_state=CV_SEED)
    for train_idx, test_idx in folds.split(data, labels):
        train, test = data.iloc[train_idx], data.iloc[test_idx]
        y = labels.iloc[test_idx]
        scores["with BI-RADS"].append(roc_auc_score(
            y, _fit_predict(train, test, contract.FEATURES, train)))
        scores["without BI-RADS"].append(roc_auc_score(
            y, _fit_predict(train, test, without, train)))
        birads = preprocess.apply_imputation(
            test, preprocess.fit_imputation(train, ("BI-RADS",)))["BI-RADS"]
        scores["BI-RADS alone"].append(roc_auc_score(y, birads))
        leaky = _fit_predict(train, test, contract.FEATURES, data)
        scores["seeds' way (0/1, leaky)"].append(roc_auc_score(y, leaky.round()))
    return scores


def drift_rates(raw: pd.DataFrame, seeds: int, drift) -> dict[str, float]:
    """Share of seeds on which each batch is flagged (clean: the false-alarm rate)."""
    flagged = {name: 0 for name in datasets.BATCHES}
    for seed in range(seeds):
        sets = datasets.derive_datasets(raw, seed=seed)
        reference = sets["initial_train"][list(contract.FEATURES)].astype(float)
        for name in datasets.BATCHES:
            verdict = drift.check_drift(reference, sets[name].astype(float))
            flagged[name] += bool(verdict["drift_detected"])
    return {name: count / seeds for name, count in flagged.items()}


def main(argv: list[str] | None = None) -> int:
    """Print the model-quality table and, when the drift check exists, the drift rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="CV repeats (5 folds each)")
    parser.add_argument("--drift-seeds", type=int, default=200)
    args = parser.parse_args(argv)

    data = preprocess.read_raw_file(contract.DATA_FILE, require_label=True)
    start = time.perf_counter()
    scores = model_quality(data, args.repeats)
    print(f"Test AUC, {args.repeats}x5 stratified CV (seed {CV_SEED}), {len(data)} rows, "
          f"hyperparameters {contract.XGB_HYPERPARAMETERS}")
    print(f"{'scoring':<26} {'mean':>6} {'std':>6} {'min':>6} {'max':>6}")
    for name, values in scores.items():
        v = np.array(values)
        print(f"{name:<26} {v.mean():6.4f} {v.std():6.4f} {v.min():6.4f} {v.max():6.4f}")
    print(f"({time.perf_counter() - start:.1f}s)")

    try:
        drift = importlib.import_module("ml.steps.drift_check")
    except ModuleNotFoundError:
        print("\nml/steps/drift_check.py not found: drift figures skipped")
        return 0
    start = time.perf_counter()
    raw = datasets.read_raw()
    rates = drift_rates(raw, args.drift_seeds, drift)
    rows = len(datasets.derive_datasets(raw)["batch_clean"])
    print(f"\nDrift check over {args.drift_seeds} seeded derivations "
          f"(reference: initial_train features; batches of {rows} rows)")
    for name, rate in rates.items():
        label = "false-alarm rate" if name == "batch_clean" else "detection rate"
        print(f"{name:<26} {label:<17} {rate:6.3f}")
    print(f"({time.perf_counter() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
