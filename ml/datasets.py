"""Seeded, reproducible data sets derived from the shipped UCI Mammographic Mass file.

Every set is written in the raw UCI layout (no header, ``?`` for missing, CRLF line endings,
columns of ``contract.RAW_COLUMNS``), so each one can stand in for data arriving in the data
bucket. Duplicate rows are kept: the original file has 272 of them and they are genuine cases
(few distinct values per column), not copying errors.

The 961 rows are split once, stratified by Severity with a fixed seed, into three disjoint parts:

- ``initial_train`` (70 %, with label): what the first training pipeline run learns from.
- ``retrain_increment`` (15 %, with label): labelled cases that arrive later; retraining reads
  ``initial_train`` and ``retrain_increment`` together.
- a held-out pool (15 %), never seen by training, from which every inference batch is made:

  - ``batch_clean``: the pool as is, label removed. Same population as training: no drift.
  - ``batch_drift_age``: the pool with every age 12 years higher (capped at the oldest age in
    the data, 96): the programme moved to an older population.
  - ``batch_drift_shape_margin``: the pool resampled with replacement, rows with an irregular
    shape (4) or an ill-defined/spiculated margin (4, 5) six times as likely: a referral
    clinic that sees more suspicious masses, so the category mix changes.
  - ``batch_drift_missing``: the pool with 35 % of Age, Shape, Margin and Density values blanked
    (``?``): a new reporting tool that leaves fields empty.

The drifts change the feature distributions the model sees, not just a label, so a drift check
comparing the batch with the training reference must find them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ml import contract
from ml.steps import preprocess

SEED = 20070161
# Share of the 961 rows held back from the initial training set.
INCREMENT_SHARE = 0.15
POOL_SHARE = 0.15
AGE_SHIFT_YEARS = 12
MAX_AGE = 96
SUSPICIOUS_WEIGHT = 6.0
MISSING_SHARE = 0.35
MISSING_COLUMNS = ("Age", "Shape", "Margin", "Density")

# Data set name -> file name. Names are what `python -m ml local` and the README refer to.
DATASET_FILES = {
    "initial_train": "initial_train.data",
    "retrain_increment": "retrain_increment.data",
    "batch_clean": "batch_clean.data",
    "batch_drift_age": "batch_drift_age.data",
    "batch_drift_shape_margin": "batch_drift_shape_margin.data",
    "batch_drift_missing": "batch_drift_missing.data",
}
LABELLED_SETS = ("initial_train", "retrain_increment")
BATCHES = tuple(name for name in DATASET_FILES if name.startswith("batch_"))


def read_raw(path: str | Path = contract.DATA_FILE, labelled: bool = False) -> pd.DataFrame:
    """Read a file in the raw UCI layout into a frame of nullable integers.

    The training pipeline's own reader and rules (``ml/steps/preprocess.py``), so what this
    accepts, the pipeline accepts: 6 columns (with Severity) or 5 (an unlabelled batch), ``?``
    is missing (<NA>), values inside the documented domains, whole numbers only (BI-RADS 5.5 is
    refused, not rounded); ``labelled`` requires Severity on every row. Known typos stay as
    written (BI-RADS 55), so derived sets keep the file's quirks. Raises ValueError naming the
    file (and the line and column of a bad value).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file; pass a file in the raw UCI layout")
    frame = preprocess.read_raw_file(path, require_label=labelled, fix_typos=False)
    return frame.reset_index(drop=True).astype("Int64")


def write_raw(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` in the raw UCI layout (no header, ``?``, CRLF), as the original file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.astype("Int64").to_csv(
        path, header=False, index=False, na_rep="?", lineterminator="\r\n"
    )
    return path


def _shift_age(pool: pd.DataFrame) -> pd.DataFrame:
    out = pool.copy()
    out["Age"] = (out["Age"] + AGE_SHIFT_YEARS).clip(upper=MAX_AGE)
    return out


def _suspicious_mix(pool: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    suspicious = (pool["Shape"] == 4).fillna(False) | pool["Margin"].isin([4, 5]).fillna(False)
    weights = np.where(suspicious.to_numpy(dtype=bool), SUSPICIOUS_WEIGHT, 1.0)
    picks = rng.choice(len(pool), size=len(pool), replace=True, p=weights / weights.sum())
    return pool.iloc[np.sort(picks)].reset_index(drop=True)


def _blank_values(pool: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    out = pool.copy()
    for column in MISSING_COLUMNS:
        mask = rng.random(len(out)) < MISSING_SHARE
        out.loc[mask, column] = pd.NA
    return out


def derive_datasets(raw: pd.DataFrame, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Derive every set of DATASET_FILES from the full labelled file (see the module doc).

    Deterministic for a given ``raw`` and ``seed``. Batches have the 5 feature columns only.
    """
    if list(raw.columns) != list(contract.RAW_COLUMNS):
        raise ValueError(
            f"derive_datasets needs the labelled raw layout {contract.RAW_COLUMNS}, "
            f"got columns {list(raw.columns)}"
        )
    if raw[contract.LABEL].isna().any():
        raise ValueError("derive_datasets: every row needs a Severity label (0 or 1)")
    indexed = raw.reset_index(drop=True)
    labels = indexed[contract.LABEL]
    rest, pool = train_test_split(
        indexed, test_size=POOL_SHARE, stratify=labels, random_state=seed
    )
    initial, increment = train_test_split(
        rest,
        test_size=INCREMENT_SHARE / (1 - POOL_SHARE),
        stratify=rest[contract.LABEL],
        random_state=seed,
    )
    # Keep the file order within each set, so the sets read like excerpts of the original.
    initial, increment, pool = (part.sort_index() for part in (initial, increment, pool))
    features = pool[list(contract.FEATURES)].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    return {
        "initial_train": initial.reset_index(drop=True),
        "retrain_increment": increment.reset_index(drop=True),
        "batch_clean": features,
        "batch_drift_age": _shift_age(features),
        "batch_drift_shape_margin": _suspicious_mix(features, rng),
        "batch_drift_missing": _blank_values(features, rng),
    }


def write_datasets(
    out_dir: str | Path, source: str | Path = contract.DATA_FILE, seed: int = SEED
) -> dict[str, Path]:
    """Derive the sets from ``source`` and write them to ``out_dir``; returns name -> path."""
    sets = derive_datasets(read_raw(source, labelled=True), seed=seed)
    out_dir = Path(out_dir)
    return {name: write_raw(sets[name], out_dir / DATASET_FILES[name]) for name in DATASET_FILES}
