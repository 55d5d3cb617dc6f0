"""The mammography drift cases shared by the drift check's own tests and the Evidently oracle:
seeded reference/batch splits of the real data and the drifts each test must flag."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ml.steps import drift_check as dc
from tests.ml.steps.step_inputs import mammography_schema

SCHEMA = mammography_schema()
LABEL = SCHEMA.label.name


def check(reference: pd.DataFrame, batch: pd.DataFrame, **options) -> dict:
    """The mammography model's drift check."""
    return dc.check_drift(reference, batch, SCHEMA, **options)


def split(data: pd.DataFrame, seed: int, size: int = 200):
    """Disjoint random reference (with label) and batch (features only), plus the seeded rng."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    reference = data.iloc[order[size:]].reset_index(drop=True)
    batch = data.iloc[order[:size]].drop(columns=LABEL).reset_index(drop=True)
    return reference, batch, rng


def _set(column, value, share):
    def drift(batch, rng):
        batch.loc[rng.random(len(batch)) < share, column] = value
    return drift


def _older(batch, rng):
    batch["Age"] = batch["Age"] + 10


# name -> (change made to the batch, feature and check that must flag it)
DRIFTS = {
    "ten years older": (_older, "Age", "distribution"),
    "more round shapes": (_set("Shape", 1.0, 0.4), "Shape", "distribution"),
    "more spiculated margins": (_set("Margin", 5.0, 0.4), "Margin", "distribution"),
    "BI-RADS 0 (rare in reference) frequent": (_set("BI-RADS", 0.0, 0.15), "BI-RADS", "distribution"),
    "density often missing": (_set("Density", np.nan, 0.4), "Density", "missing"),
    "age often missing": (_set("Age", np.nan, 0.2), "Age", "missing"),
    "shape 7 (out of domain) in 5% of rows": (_set("Shape", 7.0, 0.05), "Shape", "out_of_domain"),
}


def drifted(data, seed, *names):
    reference, batch, rng = split(data, seed)
    for name in names:
        DRIFTS[name][0](batch, rng)
    return reference, batch
