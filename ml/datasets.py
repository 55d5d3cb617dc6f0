"""Seeded, reproducible data sets derived from a model's shipped data file, for any model.

Every set is written in the model's raw layout (its schema: columns in file order, header or
not, delimiter, first missing-value token; CRLF line endings, as the original UCI files), so
each one can stand in for data arriving in the data bucket. Files are read with the steps' own
reader (``ml/steps/tabular.py``): what the pipeline refuses, this refuses, naming the file, line
and column. Known typos stay as written (BI-RADS ``55``), so derived sets keep the file's quirks.
Duplicate rows are kept: they are genuine cases in the original data, not copying errors.

The rows are split once, stratified by the label with a fixed seed, into three disjoint parts:

- ``initial_train`` (70 %, with label): what the first training pipeline run learns from (the
  platform uploads it at first deploy, with ``batch_clean``).
- ``retrain_increment`` (15 %, with label): labelled cases that arrive later.
- a held-out pool (15 %), never seen by training, from which every inference batch is made,
  each without the label:

  - ``batch_clean``: the pool as is. Same population as training: no drift.
  - ``batch_drift_<feature>``: the model's first numeric feature shifted up by 0.8 of its
    standard deviation in the file (a whole number for an integer feature, else rounded to two
    significant digits), capped at the largest value in the file: the population moved (for
    the mammography model: every age 12 years higher, capped at 96).
  - ``batch_drift_<nominal features>``: the pool resampled with replacement, rows holding the
    last value of any nominal feature's domain six times as likely: the category mix changes
    (mammography: more irregular shapes and spiculated margins, as a referral clinic sees).
  - ``batch_drift_missing``: 35 % of every feature's values blanked: a new reporting tool that
    leaves fields empty.

  A model without a numeric (or a nominal) feature has no such batch. The drifts change the
  feature distributions the model sees, so a drift check against the training reference must
  find them.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ml import models, step_library
from ml.models import NOMINAL, NUMERIC, ModelSpec

SEED = 20070161
# Shares of the file held back from the initial training set.
INCREMENT_SHARE = 0.15
POOL_SHARE = 0.15
SHIFT_SD = 0.8
MIX_WEIGHT = 6.0
MISSING_SHARE = 0.35

LABELLED_SETS = ("initial_train", "retrain_increment")
CLEAN_BATCH = "batch_clean"
MISSING_BATCH = "batch_drift_missing"


def slug(name: str) -> str:
    """A column name as part of a data set or variant name: ``BI-RADS`` -> ``birads``, ``Age`` -> ``age``."""
    return re.sub(r"[^a-z0-9_]", "", name.lower())


def shifted_feature(spec: ModelSpec) -> str | None:
    """The feature the numeric-shift batch moves: the first numeric one, if any."""
    return next((f.name for f in spec.schema.features if f.kind == NUMERIC), None)


def mixed_features(spec: ModelSpec) -> tuple[str, ...]:
    """The features whose category mix the mix batch changes: the nominal ones."""
    return tuple(f.name for f in spec.schema.features if f.kind == NOMINAL)


def dataset_names(spec: ModelSpec) -> dict[str, str]:
    """Data set name -> file name, for this model (the names `python -m ml local` reports)."""
    names = [*LABELLED_SETS, CLEAN_BATCH]
    if (shifted := shifted_feature(spec)) is not None:
        names.append(f"batch_drift_{slug(shifted)}")
    if mixed := mixed_features(spec):
        names.append("batch_drift_" + "_".join(slug(n) for n in mixed))
    names.append(MISSING_BATCH)
    suffix = Path(spec.data_file).suffix or ".data"
    return {name: f"{name}{suffix}" for name in names}


def batch_names(spec: ModelSpec) -> tuple[str, ...]:
    return tuple(n for n in dataset_names(spec) if n.startswith("batch_"))


def data_path(spec: ModelSpec, root: Path = models.PROJECT_ROOT) -> Path:
    return Path(root) / spec.data_file


def read_data(spec: ModelSpec, path: str | Path | None = None, labelled: bool = False) -> pd.DataFrame:
    """A file in the model's raw layout as encoded float columns (NaN = missing; the label 1/0).

    The steps' reader and rules: every value inside its domain, whole numbers where the schema
    says so; ``labelled`` requires the label on every row. Aliased values stay as written. Raises
    FileNotFoundError or ValueError naming the file (and the line and column of a bad value).
    """
    path = data_path(spec) if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file; pass a labelled file in the {spec.name} model's "
                                f"layout ({', '.join(spec.schema.columns)})")
    tabular = step_library.tabular()
    schema = step_library.schema(spec)
    frame = tabular.read_file(path, schema, require_label=labelled, keep_alias_values=True)
    return frame.reset_index(drop=True)


def write_data(spec: ModelSpec, frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` (encoded, as read_data gives) in the model's raw layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return step_library.tabular().write_raw(frame, step_library.schema(spec), path)


def _shift(spec: ModelSpec, raw: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    name = shifted_feature(spec)
    feature = next(f for f in spec.schema.features if f.name == name)
    values = raw[name].dropna()
    step = SHIFT_SD * float(values.std())
    step = float(round(step)) if feature.integer else float(f"{step:.2g}")
    out = pool.copy()
    shifted = (out[name] + step).clip(upper=float(values.max()))
    # Ten significant digits: 17.99 + 2.8 is 20.79 in the file, not 20.790000000000003.
    out[name] = shifted.map(lambda v: v if np.isnan(v) else float(f"{v:.10g}"))
    return out


def _mix(spec: ModelSpec, pool: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    schema = step_library.schema(spec)
    chosen = np.zeros(len(pool), dtype=bool)
    for name in mixed_features(spec):
        last = schema.column(name).allowed[-1]  # the encoded value of the domain's last value
        chosen |= (pool[name] == last).to_numpy()
    weights = np.where(chosen, MIX_WEIGHT, 1.0)
    picks = rng.choice(len(pool), size=len(pool), replace=True, p=weights / weights.sum())
    return pool.iloc[np.sort(picks)].reset_index(drop=True)


def _blank(spec: ModelSpec, pool: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    out = pool.copy()
    for name in spec.schema.feature_names:
        mask = rng.random(len(out)) < MISSING_SHARE
        out.loc[mask, name] = np.nan
    return out


def derive_datasets(spec: ModelSpec, raw: pd.DataFrame, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Every set of ``dataset_names(spec)`` from the model's full labelled file (see the module doc).

    Deterministic for a given ``raw`` and ``seed``. Batches hold the features only (file order).
    """
    schema = spec.schema
    if sorted(raw.columns) != sorted(schema.columns):
        raise ValueError(f"derive_datasets needs every column of the {spec.name} model "
                         f"({', '.join(schema.columns)}), got {', '.join(map(str, raw.columns))}")
    if raw[schema.label.name].isna().any():
        raise ValueError(f"derive_datasets: every row needs a {schema.label.name} label")
    indexed = raw[list(schema.columns)].reset_index(drop=True)
    label = schema.label.name
    rest, pool = train_test_split(indexed, test_size=POOL_SHARE, stratify=indexed[label], random_state=seed)
    initial, increment = train_test_split(rest, test_size=INCREMENT_SHARE / (1 - POOL_SHARE),
                                          stratify=rest[label], random_state=seed)
    # Keep the file order within each set, so the sets read like excerpts of the original.
    initial, increment, pool = (part.sort_index() for part in (initial, increment, pool))
    batch_columns = [c for c in schema.columns if c != label]
    features = pool[batch_columns].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    sets = {"initial_train": initial.reset_index(drop=True), "retrain_increment": increment.reset_index(drop=True),
            CLEAN_BATCH: features}
    names = list(dataset_names(spec))
    if shifted_feature(spec) is not None:
        sets[names[3]] = _shift(spec, indexed, features)
    if mixed_features(spec):
        sets[names[-2]] = _mix(spec, features, rng)
    sets[MISSING_BATCH] = _blank(spec, features, rng)
    return {name: sets[name] for name in names}


def write_datasets(spec: ModelSpec, out_dir: str | Path, source: str | Path | None = None,
                   seed: int = SEED) -> dict[str, Path]:
    """Derive the sets from ``source`` (default: the model's data file) into ``out_dir``; name -> path."""
    sets = derive_datasets(spec, read_data(spec, source, labelled=True), seed=seed)
    files = dataset_names(spec)
    return {name: write_data(spec, sets[name], Path(out_dir) / files[name]) for name in files}


def seed_objects(spec: ModelSpec, source: str | Path | None = None) -> dict[str, bytes]:
    """What the platform uploads at a model's first deploy: ``initial_train`` and ``batch_clean``, as bytes."""
    import tempfile

    sets = derive_datasets(spec, read_data(spec, source, labelled=True))
    with tempfile.TemporaryDirectory() as tmp:
        return {name: write_data(spec, sets[name], Path(tmp) / name).read_bytes()
                for name in ("initial_train", CLEAN_BATCH)}
