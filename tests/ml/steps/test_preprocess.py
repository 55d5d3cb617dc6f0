"""ml/steps/preprocess.py: run as the processing job runs it, on the real data."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ml import contract
from ml.steps import preprocess
from tests.ml.steps.step_inputs import mammography_schema, with_library, with_schema

SCRIPT = contract.STEPS_DIR / contract.PREPROCESS_SCRIPT
ALLOWED_IMPORTS = {"numpy", "pandas", "sklearn"}
FEATURES = mammography_schema().feature_names


def run_step(base: Path, *args: str) -> subprocess.CompletedProcess:
    """The script alone, as the container runs it (cwd elsewhere, no ml on the command line)."""
    return subprocess.run([sys.executable, str(SCRIPT), "--base-dir", str(base), *args],
                          capture_output=True, text=True, cwd=base, timeout=120)


def with_input(tmp_path: Path, content: bytes | None = None) -> Path:
    data = tmp_path / "input" / "data"
    data.mkdir(parents=True)
    (data / "masses.data").write_bytes(content or contract.DATA_FILE.read_bytes())
    return with_schema(tmp_path)


def output(base: Path, name: str) -> Path:
    return base / preprocess.OUTPUT_DIRS[name] / preprocess.OUTPUT_FILES[name]


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    base = with_input(tmp_path_factory.mktemp("preprocess"))
    result = run_step(base)
    assert result.returncode == 0, result.stderr
    return base


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    return roots | {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 0}


def test_script_imports_only_what_the_sklearn_image_has_and_the_shared_library():
    library = {Path(name).stem for name in contract.STEP_LIBRARY_MODULES}
    assert imported_roots(SCRIPT) - sys.stdlib_module_names <= ALLOWED_IMPORTS | library
    for name in contract.STEP_LIBRARY_MODULES:  # the library itself: numpy, pandas (and scipy for drift)
        assert imported_roots(contract.STEPS_DIR / name) - sys.stdlib_module_names <= \
            {"numpy", "pandas", "scipy"} | library, name


def test_splits_are_stratified_complete_and_model_ready(processed):
    parts = {n: pd.read_csv(output(processed, n), header=None)
             for n in ("train", "validation", "test")}
    assert [len(parts[n]) for n in ("train", "validation", "test")] == [672, 144, 145]
    for frame in parts.values():
        assert frame.shape[1] == 1 + len(FEATURES)
        assert frame.notna().all().all()
        assert set(frame[0]) == {0, 1}
        assert abs(frame[0].mean() - 445 / 961) < 0.01
    birads = pd.concat(p[1] for p in parts.values())
    # 55 was a typo for 5; 0 and 6 are real BI-RADS categories and stay.
    assert 55 not in set(birads) and {0, 6} <= set(birads)
    assert first_line(output(processed, "train")).count(",") == 5  # label + 5, no header


def first_line(path: Path) -> str:
    return path.read_text().splitlines()[0]


def test_imputation_is_fitted_on_the_training_split_only(processed):
    imputation = json.loads(output(processed, "imputation").read_text())
    reference = pd.read_csv(output(processed, "reference"), header=None, na_values="?")
    reference.columns = list(FEATURES)
    assert imputation["fitted_on_rows"] == len(reference) == 672
    assert reference.isna().sum().sum() > 0  # the drift baseline keeps missing values
    values = imputation["values"]
    assert values["Age"] == reference["Age"].median()
    for column in ("BI-RADS", "Shape", "Margin", "Density"):
        assert values[column] == reference[column].mode().min()
    # The training CSV is exactly the reference with those values filled in.
    train = pd.read_csv(output(processed, "train"), header=None).iloc[:, 1:]
    filled = reference.fillna(values).replace({"BI-RADS": {55: 5}})
    assert (train.to_numpy() == filled.to_numpy()).all()


def test_reference_is_the_raw_layout(processed):
    raw = output(processed, "reference").read_bytes()
    assert raw.endswith(b"\r\n") and b"?" in raw
    assert raw.split(b"\r\n")[0].count(b",") == 4


def test_an_excluded_feature_leaves_the_model_only(tmp_path):
    base = with_input(tmp_path)
    assert preprocess.main(["--base-dir", str(base), "--exclude-feature", "BI-RADS"]) == 0
    train = pd.read_csv(output(base, "train"), header=None)
    imputation = json.loads(output(base, "imputation").read_text())
    assert train.shape[1] == 5
    assert imputation["features"] == ["Age", "Shape", "Margin", "Density"]
    assert first_line(output(base, "reference")).count(",") == 4  # the drift reference keeps it


def test_several_features_can_be_excluded_but_not_all_and_not_unknown_ones(tmp_path, capsys):
    base = with_input(tmp_path)
    assert preprocess.main(["--base-dir", str(base), "--exclude-feature", "BI-RADS",
                            "--exclude-feature", "Density"]) == 0
    assert json.loads(output(base, "imputation").read_text())["features"] == ["Age", "Shape", "Margin"]
    assert preprocess.main(["--base-dir", str(base), "--exclude-feature", "Birads"]) == 2
    assert "--exclude-feature Birads: not a feature of model 'mammography'; its features are BI-RADS, Age" \
        in capsys.readouterr().err
    every = [arg for name in FEATURES for arg in ("--exclude-feature", name)]
    assert preprocess.main(["--base-dir", str(base), *every]) == 2
    assert "leaves model 'mammography' no feature" in capsys.readouterr().err


def test_same_input_same_bytes(processed, tmp_path):
    again = with_input(tmp_path)
    assert run_step(again).returncode == 0
    for name in preprocess.OUTPUT_DIRS:
        assert output(again, name).read_bytes() == output(processed, name).read_bytes()


def test_every_file_in_the_input_channel_is_read(tmp_path):
    base = with_input(tmp_path)
    (base / "input" / "data" / "increment.data").write_bytes(b"4,50,1,1,3,0\r\n" * 20)
    assert preprocess.main(["--base-dir", str(base)]) == 0
    total = sum(len(pd.read_csv(output(base, n), header=None))
                for n in ("train", "validation", "test"))
    assert total == 981


@pytest.mark.parametrize("row, message", [
    (b"4,50,7,1,3,0", "line 2, column Shape: '7' is not one of the allowed values 1, 2, 3, 4"),
    (b"4,50,1,1,3,?", "line 2, column Severity: missing; a training row needs its Severity (0, 1)"),
    (b"4,fifty,1,1,3,0", "line 2, column Age: 'fifty' is not a number"),
    (b"4,50.5,1,1,3,0", "line 2, column Age: '50.5' is not a whole number"),
    (b"4,121,1,1,3,0", "line 2, column Age: 121 is outside the allowed range 1..120"),
    (b"4,50,1,1,3", "line 2: 5 columns where the file has 6"),
    (b"", "no data files"),
])
def test_bad_rows_fail_with_the_file_line_and_fix(tmp_path, capsys, row, message):
    if row:
        with_input(tmp_path, b"5,67,3,5,3,1\r\n" + row + b"\r\n")
    else:
        (with_schema(tmp_path) / "input" / "data").mkdir(parents=True)
    assert preprocess.main(["--base-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert message in error and str(tmp_path) in error


def test_a_bad_file_fails_the_job_with_a_message_on_stderr(tmp_path):
    base = with_input(tmp_path, b"5,67,3,5,3\r\n")
    result = run_step(base)
    assert result.returncode == 2
    assert "masses.data: line 1: 5 columns, expected 6 (BI-RADS, Age, Shape, Margin, Density, Severity)" \
        in result.stderr


def test_a_missing_or_foreign_schema_is_refused_before_any_data_is_read(tmp_path, capsys):
    base = with_input(tmp_path)
    (base / contract.SCHEMA_INPUT_DIR / contract.SCHEMA_FILE).unlink()
    assert preprocess.main(["--base-dir", str(base)]) == 2
    assert "no schema document; pass the model's schema.json" in capsys.readouterr().err
    with_schema(base, {"format": 2, "model": "mammography"})
    assert preprocess.main(["--base-dir", str(base)]) == 2
    assert "format 2, but this step reads schema format 1" in capsys.readouterr().err


def test_the_script_runs_alone_with_the_library_as_its_own_input(tmp_path):
    code = tmp_path / "code" / SCRIPT.name  # as SageMaker stages it: the script alone
    code.parent.mkdir()
    code.write_bytes(SCRIPT.read_bytes())
    base = with_input(tmp_path / "job")
    lone = subprocess.run([sys.executable, "-I", str(code), "--base-dir", str(base)],
                          capture_output=True, text=True, timeout=120)
    assert lone.returncode == 1 and "No module named 'tabular'" in lone.stderr
    with_library(base)
    shipped = subprocess.run([sys.executable, "-I", str(code), "--base-dir", str(base)],
                             capture_output=True, text=True, timeout=120)
    assert shipped.returncode == 0, shipped.stderr
    assert output(base, "train").is_file()

