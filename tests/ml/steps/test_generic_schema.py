"""A third model nobody wrote code for runs through all four steps: only its schema document and
its data differ (step_inputs.LOANS: text-valued nominal and ordinal features with an alias, a
text label in the middle of the row with its positive class, a header row, 'NA' for missing,
';' between fields)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import local_xgboost
from ml.steps import drift_check, evaluate, prepare_batch, preprocess
from tests.ml.steps.step_inputs import LOANS, loans_file, loans_rows, with_schema

HYPERPARAMETERS = {"objective": "binary:logistic", "eval_metric": "auc", "num_round": "40",
                   "max_depth": "3", "eta": "0.1", "seed": "7"}


def out(base: Path, name: str) -> Path:
    return base / preprocess.OUTPUT_DIRS[name] / preprocess.OUTPUT_FILES[name]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """preprocess -> train -> evaluate on 3,000 labelled applications in two files."""
    root = tmp_path_factory.mktemp("loans")
    pre = with_schema(root / "pre", LOANS)
    table = loans_rows(3000, seed=1)
    loans_file(pre / "input" / "data" / "2024" / "part-1.csv", table[:1800])
    loans_file(pre / "input" / "data" / "2025" / "part-2.csv", table[1800:])
    assert preprocess.main(["--base-dir", str(pre)]) == 0
    model = local_xgboost.train(out(pre, "train"), out(pre, "validation"), root / "model", HYPERPARAMETERS)
    ev = with_schema(root / "evaluate", LOANS)
    for channel, source in (("model", model), ("test", out(pre, "test")),
                            ("imputation", out(pre, "imputation")), ("reference", out(pre, "reference"))):
        (ev / "input" / channel).mkdir(parents=True)
        shutil.copy(source, ev / "input" / channel)
    assert evaluate.main(["--base-dir", str(ev)]) == 0
    return root


def test_preprocess_encodes_text_values_and_the_label_by_the_schema(trained):
    pre = trained / "pre"
    train = pd.read_csv(out(pre, "train"), header=None)
    assert set(train[0]) == {0, 1}  # 1 = default, the positive class
    assert train.shape[1] == 1 + 5 and train.notna().all().all()
    assert set(train[1]) <= {0, 1, 2, 3} and set(train[3]) <= {0, 1, 2}  # region, grade: positions
    assert set(train[5]) <= {1, 2, 3, 4, 5}  # band: a numeric-valued ordinal keeps its values
    imputation = json.loads(out(pre, "imputation").read_text())
    assert imputation["features"] == ["region", "income", "grade", "dependents", "band"]
    assert imputation["strategy"]["income"] == "median" and imputation["strategy"]["grade"] == "most_frequent"
    assert imputation["encodings"] == {"region": ["north", "south", "east", "west"], "grade": ["low", "mid", "high"]}
    assert imputation["aliases"] == {"region": {"N": "north"}}


def test_the_reference_is_the_models_own_raw_layout(trained):
    reference = out(trained / "pre", "reference").read_bytes()
    lines = reference.split(b"\r\n")
    assert lines[0] == b"region;income;grade;dependents;band"  # its header, without the label
    assert b";NA;" in reference and b"north" in reference and b"N;" not in reference  # the alias resolved
    assert len(lines) - 2 == json.loads(out(trained / "pre", "imputation").read_text())["fitted_on_rows"]


def test_evaluate_scores_the_positive_class(trained):
    report = json.loads((trained / "evaluate" / "output" / "evaluation" / "evaluation.json").read_text())
    assert report["model"] == "loans"
    assert report["label"] == {"name": "outcome", "positive": "default", "negative": "repaid"}
    assert report["binary_classification_metrics"]["auc"]["value"] > 0.7  # the generator's signal is learned


def test_prepare_batch_prepares_rows_exactly_as_training_did(trained):
    prep = with_schema(trained / "prep-reference", LOANS)
    (prep / "input" / "batch").mkdir(parents=True)
    (prep / "input" / "imputation").mkdir(parents=True)
    shutil.copy(out(trained / "pre", "reference"), prep / "input" / "batch")  # a batch without labels
    shutil.copy(out(trained / "pre", "imputation"), prep / "input" / "imputation")
    assert prepare_batch.main(["--base-dir", str(prep)]) == 0
    ready = pd.read_csv(prep / "output" / "batch" / "batch.csv", header=None)
    train = pd.read_csv(out(trained / "pre", "train"), header=None).iloc[:, 1:]
    assert np.array_equal(ready.to_numpy(), train.to_numpy())


def drift(trained: Path, name: str, batch: list[list[str]]) -> dict:
    job = with_schema(trained / name, LOANS)
    loans_file(job / "input" / "batch" / "batch.csv", batch, labelled=False)
    (job / "input" / "reference").mkdir(parents=True)
    shutil.copy(out(trained / "pre", "reference"), job / "input" / "reference")
    assert drift_check.main(["--base-dir", str(job)]) == 0
    return json.loads((job / "output" / "drift" / drift_check.REPORT_JSON).read_text())


def test_the_drift_check_plans_its_tests_from_the_schema_and_finds_real_drift(trained):
    clean = drift(trained, "drift-clean", loans_rows(800, seed=21, labelled=False))
    assert clean["verdict"] == "no_drift" and clean["planned_tests"] == 15
    assert {n: f["distribution"]["test"] for n, f in clean["features"].items()} == {
        "region": "chi-square", "income": "kolmogorov-smirnov", "grade": "chi-square",
        "dependents": "kolmogorov-smirnov", "band": "chi-square"}
    assert set(clean["features"]["grade"]["distribution"]["reference_share"]) == {"low", "mid", "high"}
    east = drift(trained, "drift-east", loans_rows(800, seed=22, labelled=False, east_share=0.6))
    assert east["verdict"] == "drift" and east["drifted_features"] == ["region"]
    richer = drift(trained, "drift-income", loans_rows(800, seed=23, labelled=False, income_shift=15000))
    assert richer["drifted_features"] == ["income"]


def test_unknown_text_values_are_out_of_domain_for_the_drift_check(trained):
    batch = loans_rows(800, seed=24, labelled=False)
    for row in batch[::10]:
        row[0] = "moon"  # 10% of regions nobody configured
    report = drift(trained, "drift-moon", batch)
    region = report["features"]["region"]
    assert region["out_of_domain"]["drift"] and region["out_of_domain"]["batch_count"] == 80
    assert region["out_of_domain"]["domain"] == ["north", "south", "east", "west"]
