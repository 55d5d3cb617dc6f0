"""ml/steps/prepare_batch.py: a raw batch becomes exactly what the model was trained on."""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ml import contract
from ml.steps import prepare_batch, preprocess
from tests.ml.steps.step_inputs import LOANS, mammography_schema, with_schema

SCRIPT = contract.STEPS_DIR / contract.PREPARE_BATCH_SCRIPT
IMPUTATION = {"features": list(mammography_schema().feature_names),
              "values": {"BI-RADS": 4, "Age": 57.5, "Shape": 4, "Margin": 1, "Density": 3}}


def layout(base: Path, batch: bytes, imputation: dict = IMPUTATION, schema: dict | None = None) -> Path:
    (base / "input" / "batch").mkdir(parents=True)
    (base / "input" / "batch" / "batch.data").write_bytes(batch)
    (base / "input" / "imputation").mkdir(parents=True)
    (base / "input" / "imputation" / "imputation.json").write_text(json.dumps(imputation))
    return with_schema(base, schema)


def prepared(base: Path) -> list[str]:
    return (base / "output" / "batch" / "batch.csv").read_text().splitlines()


def test_it_reads_what_preprocess_writes_with_the_same_reader():
    assert preprocess.OUTPUT_FILES["imputation"] == prepare_batch.IMPUTATION_FILE
    # A row must be cleaned for inference exactly as for training: one library, one module object.
    assert prepare_batch.tabular is preprocess.tabular


def test_script_imports_only_what_the_sklearn_image_has():
    tree = ast.parse(SCRIPT.read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert roots - sys.stdlib_module_names <= {"numpy", "pandas", "tabular"}


def test_fills_missing_values_keeps_order_and_drops_the_label(tmp_path):
    base = layout(tmp_path, b"5,67,3,5,3,1\r\n?,?,?,?,?,0\r\n55,46,4,3,3,1\r\n0,20,1,1,?,0\r\n")
    result = subprocess.run([sys.executable, str(SCRIPT), "--base-dir", str(base)],
                            capture_output=True, text=True, cwd=base, timeout=120)
    assert result.returncode == 0, result.stderr
    assert prepared(base) == ["5,67,3,5,3", "4,57.5,4,1,3", "5,46,4,3,3", "0,20,1,1,3"]


def test_unlabelled_batches_give_the_same_rows(tmp_path):
    labelled = layout(tmp_path / "a", b"5,67,3,5,3,1\r\n4,?,1,?,3,0\r\n")
    unlabelled = layout(tmp_path / "b", b"5,67,3,5,3\r\n4,?,1,?,3\r\n")
    assert prepare_batch.main(["--base-dir", str(labelled)]) == 0
    assert prepare_batch.main(["--base-dir", str(unlabelled)]) == 0
    assert prepared(labelled) == prepared(unlabelled) == ["5,67,3,5,3", "4,57.5,1,1,3"]


def test_column_order_follows_the_imputation_features(tmp_path):
    without = {"features": ["Age", "Shape", "Margin", "Density"],
               "values": {"Age": 60, "Shape": 2, "Margin": 1, "Density": 3}}
    base = layout(tmp_path, b"5,?,3,5,3\r\n", without)
    assert prepare_batch.main(["--base-dir", str(base)]) == 0
    assert prepared(base) == ["60,3,5,3"]


def test_the_training_reference_prepares_to_the_training_csv(tmp_path):
    pre = tmp_path / "pre"
    (with_schema(pre) / "input" / "data").mkdir(parents=True)
    shutil.copy(contract.DATA_FILE, pre / "input" / "data")
    assert preprocess.main(["--base-dir", str(pre)]) == 0
    out = {n: pre / preprocess.OUTPUT_DIRS[n] / preprocess.OUTPUT_FILES[n]
           for n in preprocess.OUTPUT_DIRS}
    base = layout(tmp_path / "prep", out["reference"].read_bytes(),
                  json.loads(out["imputation"].read_text()))
    assert prepare_batch.main(["--base-dir", str(base)]) == 0
    train = pd.read_csv(out["train"], header=None).iloc[:, 1:]
    ready = pd.read_csv(base / "output" / "batch" / "batch.csv", header=None)
    assert (ready.to_numpy() == train.to_numpy()).all()


@pytest.mark.parametrize("batch, imputation, message", [
    (b"5,67,3,5\r\n", IMPUTATION, "line 1: 4 columns, expected 6 (BI-RADS, Age, Shape, Margin, Density, "
                                   "Severity) or 5 (BI-RADS, Age, Shape, Margin, Density)"),
    (b"5,67,x,5,3\r\n", IMPUTATION, "line 1, column Shape: 'x' is not one of the allowed values 1, 2, 3, 4"),
    (b"5,67,3,9,3\r\n", IMPUTATION, "line 1, column Margin: '9' is not one of the allowed values 1, 2, 3, 4, 5"),
    (b"5,67,3,5,3,2\r\n", IMPUTATION, "line 1, column Severity: '2' is not one of the allowed values 0, 1"),
    (b"5,67,3,5,3\r\n", {"features": ["Size"], "values": {"Size": 1}}, "'features' must list"),
    (b"5,67,3,5,3\r\n", {"features": ["Age"], "values": {}}, "no numeric imputation value"),
    (b"5,67,3,5,3\r\n", {"features": ["Age"], "values": {"Age": True}}, "no numeric imputation value"),
])
def test_bad_input_fails_with_a_clear_message(tmp_path, capsys, batch, imputation, message):
    base = layout(tmp_path, batch, imputation)
    assert prepare_batch.main(["--base-dir", str(base)]) == 2
    assert message in capsys.readouterr().err


def test_missing_imputation_names_the_file_to_pass(tmp_path, capsys):
    base = layout(tmp_path, b"5,67,3,5,3\r\n")
    (base / "input" / "imputation" / "imputation.json").unlink()
    assert prepare_batch.main(["--base-dir", str(base)]) == 2
    assert "imputation.json written by the model's preprocess step" in capsys.readouterr().err


def loans_batch(base: Path, text: str, encodings: dict) -> Path:
    imputation = {"features": ["region", "income", "grade"], "values": {"region": 0, "income": 50000.5, "grade": 1},
                  "encodings": encodings}
    return layout(base, text.encode(), imputation, LOANS)


def test_text_values_become_their_position_in_the_domain_as_in_training(tmp_path):
    base = loans_batch(tmp_path, "region;income;grade;dependents;band\r\neast;1200.5;high;2;3\r\n"
                                 "N;NA;NA;0;1\r\n", {"region": ["north", "south", "east", "west"],
                                                      "grade": ["low", "mid", "high"]})
    assert prepare_batch.main(["--base-dir", str(base)]) == 0
    assert prepared(base) == ["2,1200.5,2", "0,50000.5,1"]  # 'N' is an alias of north


def test_a_reordered_text_domain_is_refused_but_an_appended_value_is_not(tmp_path, capsys):
    rows = "region;income;grade;dependents;band\r\neast;1200.5;high;2;3\r\n"
    trained = {"region": ["north", "south", "east", "west"], "grade": ["low", "high", "mid"]}
    assert prepare_batch.main(["--base-dir", str(loans_batch(tmp_path / "a", rows, trained))]) == 2
    assert ("grade was trained with its values in the order ['low', 'high', 'mid'], the schema now lists "
            "['low', 'mid', 'high']") in capsys.readouterr().err
    fewer = {"region": ["north", "south", "east"], "grade": ["low", "mid", "high"]}
    assert prepare_batch.main(["--base-dir", str(loans_batch(tmp_path / "b", rows, fewer))]) == 0
