"""Evidently's data-drift preset (0.7) as an independent oracle for the drift check's verdicts.

Runs in the project's environment only: Evidently is not in the scikit-learn image the drift
check runs in (tests/ml/steps/images), so the oracle lives apart from the step's own tests.
"""
from __future__ import annotations

import pandas as pd
import pytest

from ml import contract
from ml.steps import drift_check as dc
from tests.ml.steps.drift_cases import DRIFTS, SCHEMA, check, drifted, split


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return dc.load_input(contract.DATA_FILE, SCHEMA)


# --- Evidently (0.7) as an oracle ------------------------------------------------------
# Evidently's preset tests each column at p < 0.05 with no multiple-testing control and calls
# the dataset drifted when half the columns drift. So verdicts are compared where both rules
# mean the same thing: dataset level for clean and broadly drifted batches, column level for a
# single drifted feature. Missingness and schema are ours only (Evidently drops missing values).


def evidently_verdict(reference, batch):
    """Evidently's DataDriftPreset with its defaults: (dataset drift, set of drifted columns)."""
    from evidently import DataDefinition, Dataset, Report  # ~4 s import: only these tests pay
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=[f.name for f in SCHEMA.features if not f.categorical],
                                categorical_columns=[f.name for f in SCHEMA.features if f.categorical])

    def dataset(frame):
        return Dataset.from_pandas(frame[list(SCHEMA.feature_names)], data_definition=definition)
    metrics = Report([DataDriftPreset()]).run(dataset(batch), dataset(reference)).dict()["metrics"]
    share = next(m["value"]["share"] for m in metrics if "DriftedColumnsCount" in m["config"]["type"])
    columns = {m["config"]["column"] for m in metrics if m["config"]["type"].endswith("ValueDrift")
               and m["value"] < m["config"]["threshold"]}
    return share >= 0.5, columns


# Evidently's chi-square divides by a zero expected count when the batch holds a category the
# reference lacks (then p = 0): the sparse-cell case our pooling avoids. Not a test failure.
evidently_warning = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")


@evidently_warning
def test_evidently_agrees_that_clean_batches_have_not_drifted(data):
    verdicts = [(check(r, b)["drift_detected"], evidently_verdict(r, b)[0])
                for r, b, _ in (split(data, seed) for seed in range(12))]
    agree = sum(not ours and not theirs for ours, theirs in verdicts)
    assert agree >= 11, f"agreement on clean batches: {agree}/12 ({verdicts})"


@evidently_warning
@pytest.mark.parametrize("name", ["ten years older", "more round shapes",
                                  "more spiculated margins", "BI-RADS 0 (rare in reference) frequent"])
def test_evidently_flags_the_same_drifted_feature(data, name):
    feature = DRIFTS[name][1]
    agree = 0
    for seed in range(3):
        reference, batch = drifted(data, seed, name)
        ours = check(reference, batch)
        agree += ours["drift_detected"] and feature in ours["drifted_features"] \
            and feature in evidently_verdict(reference, batch)[1]
    assert agree == 3, f"{name}: agreement {agree}/3"


@evidently_warning
def test_evidently_agrees_on_broad_drift_at_dataset_level(data):
    names = ("ten years older", "more round shapes", "more spiculated margins")
    verdicts = [(check(r, b)["drift_detected"], evidently_verdict(r, b)[0])
                for r, b in (drifted(data, seed, *names) for seed in range(3))]
    assert verdicts == [(True, True)] * 3
