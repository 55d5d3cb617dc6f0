"""The drift check step (ml/steps/drift_check.py), specified on the real UCI data.

Batches are drawn here from the shipped file with fixed seeds: random held-out batches are the
"clean" case, and each drift is a deliberate change of one batch. Evidently's data-drift preset,
the independent oracle for the verdicts, is in test_drift_check_evidently.py (it is not in the
scikit-learn image, where this file also runs).
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import contract
from ml.steps import drift_check as dc
from tests.ml.steps.drift_cases import DRIFTS, SCHEMA, check, drifted, split
from tests.ml.steps.step_inputs import mammography_document, with_library, with_schema

SCRIPT = contract.STEPS_DIR / contract.DRIFT_CHECK_SCRIPT
@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return dc.load_input(contract.DATA_FILE, SCHEMA)


def test_names_agree_with_the_contract():
    assert (dc.REPORT_JSON, SCRIPT.name) == (contract.DRIFT_REPORT_FILE, "drift_check.py")
    assert dc.VERDICT_INSUFFICIENT == contract.DRIFT_VERDICT_INSUFFICIENT_DATA


def test_script_and_its_library_import_only_stdlib_numpy_pandas_scipy():
    library = {Path(name).stem for name in contract.STEP_LIBRARY_MODULES}
    allowed = set(sys.stdlib_module_names) | {"numpy", "pandas", "scipy"} | library
    for path in [SCRIPT, *(contract.STEPS_DIR / name for name in contract.STEP_LIBRARY_MODULES)]:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert imported <= allowed, f"{path.name}: not in the scikit-learn image: {imported - allowed}"


def test_the_tests_are_planned_from_the_schema(data):
    reference, batch, _ = split(data, 11)
    result = check(reference, batch)
    assert result["planned_tests"] == 3 * len(SCHEMA.features) == 15
    assert result["per_test_alpha"] == 0.05 / 15
    kinds = {name: (f["kind"], f["distribution"]["test"]) for name, f in result["features"].items()}
    assert kinds == {"BI-RADS": ("categorical", "chi-square"), "Age": ("numeric", "kolmogorov-smirnov"),
                     "Shape": ("categorical", "chi-square"), "Margin": ("categorical", "chi-square"),
                     "Density": ("categorical", "chi-square")}
    assert result["features"]["Shape"]["out_of_domain"]["domain"] == [1, 2, 3, 4]
    assert result["features"]["Age"]["out_of_domain"]["domain"] == [1, 120]
    # A model with one feature fewer plans three tests fewer, and its Bonferroni divisor follows.
    document = mammography_document()
    document["features"] = [f for f in document["features"] if f["name"] != "Density"]
    document["columns"].remove("Density")
    smaller = dc.tabular.schema_from_document(document)
    fewer = dc.check_drift(reference.drop(columns="Density"), batch.drop(columns="Density"), smaller)
    assert fewer["planned_tests"] == 12 and "Density" not in fewer["features"]
    age = fewer["features"]["Age"]["distribution"]
    assert age["adjusted_p_value"] == pytest.approx(min(1, age["p_value"] * 12))


def test_reads_the_shipped_file_with_its_documented_missing_counts(data):
    assert list(data.columns) == list(contract.RAW_COLUMNS) and len(data) == 961
    assert data.isna().sum().tolist() == [2, 5, 31, 48, 76, 0]


@pytest.mark.parametrize("content, message", [
    (b"", "empty; it holds no data rows"),
    (b"5,67,3,5,3\r\n4,43,1,1\r\n", "line 2: 4 columns where the file has 5"),
    (b"5,67,3,5\r\n", "line 1: 4 columns, expected 6"),
    (b"5,67,3,5,3,1,9\n", "line 1: 7 columns"),
    (b"5,67,3,5,3\n4,forty,1,1,?\n", "line 2, column Age: 'forty' is not a number"),
    (b"BI-RADS,Age,Shape,Margin,Density,Severity\n5,67,3,5,3,1\n",
     "line 1, column BI-RADS: 'BI-RADS' is not one of the allowed values"),
    (b"5,inf,3,5,3\n", "not a finite number"),
    (b"5,,3,5,3\n", "line 1, column Age: empty; write a value, or '?' for a missing value"),
    (b"\xff\xfe\x00junk", "binary, not UTF-8 text"),
])
def test_malformed_files_are_rejected_naming_file_and_place(tmp_path, content, message):
    path = tmp_path / "batch.data"
    path.write_bytes(content)
    with pytest.raises(dc.InputError, match=re.escape(message)) as err:
        dc.load_input(path, SCHEMA)
    assert str(path) in str(err.value)


def test_out_of_domain_values_are_counted_not_refused(tmp_path):
    path = tmp_path / "batch.data"
    path.write_bytes(b"5,67,3,5,3\n7,130,9,5,3\n")
    assert dc.load_input(path, SCHEMA).iloc[1].tolist() == [7, 130, 9, 5, 3]


def test_a_directory_input_concatenates_its_files_and_rejects_mixed_layouts(tmp_path):
    (tmp_path / "a.csv").write_text("5,67,3,5,3\n")
    (tmp_path / "b.csv").write_text("4,43,1,1,?\n4,58,4,5,3\n")
    assert dc.load_input(tmp_path, SCHEMA)["Age"].tolist() == [67, 43, 58]
    (tmp_path / "c.csv").write_text("4,43,1,1,?,0\n")
    with pytest.raises(dc.InputError, match="files differ in their columns"):
        dc.load_input(tmp_path, SCHEMA)
    (tmp_path / "empty").mkdir()
    with pytest.raises(dc.InputError, match="no data files"):
        dc.load_input(tmp_path / "empty", SCHEMA)


def test_clean_held_out_batches_rarely_alarm(data):
    sizes = (50, 100, 200, 300)
    alarms = [check(*split(data, seed, sizes[seed % 4])[:2])["drift_detected"]
              for seed in range(200)]
    assert sum(alarms) / len(alarms) <= 0.05, f"{sum(alarms)} false alarms in 200 clean batches"


def test_a_few_cases_of_a_category_unseen_in_the_reference_are_not_drift(data):
    reference, batch, _ = split(data, 5)
    reference = reference[reference["BI-RADS"] != 0]
    batch.loc[:1, "BI-RADS"] = 0.0  # two cases; a per-cell chi-square would give p = 0
    result = check(reference, batch)
    assert result["features"]["BI-RADS"]["distribution"]["unseen_categories"] == [0]
    assert not result["drift_detected"], result["reasons"]


@pytest.mark.parametrize("name", DRIFTS)
def test_real_drifts_are_detected_on_the_right_feature_and_check(data, name):
    _, feature, kind = DRIFTS[name]
    for seed in range(10):
        result = check(*drifted(data, seed, name))
        assert result["drift_detected"], (name, seed, result["features"][feature])
        assert result["features"][feature][kind]["drift"], (name, seed)
        assert feature in result["drifted_features"]


@pytest.mark.parametrize("change, problem", [
    (lambda b: b.drop(columns="Margin"), "batch lacks columns ['Margin']"),
    (lambda b: b.assign(Extra=1.0), "batch has unexpected columns ['Extra']"),
    (lambda b: b.assign(Age=b["Age"].astype(object).where(b.index % 10 > 0, "n/a")),
     "batch column Age has 20 non-numeric values"),
    (lambda b: b.assign(Age=b["Age"].where(b.index % 10 > 0, np.inf)), "batch column Age has 20 non-numeric values"),
])
def test_schema_breaks_are_drift_whatever_the_statistics(data, change, problem):
    reference, batch, _ = split(data, 1)
    result = check(reference, change(batch))
    assert result["drift_detected"] and not result["schema"]["ok"]
    assert problem in result["schema"]["problems"] and problem in result["reasons"]


def test_label_in_the_batch_is_accepted_and_question_marks_count_as_missing(data):
    reference, _, _ = split(data, 2)
    batch = data.sample(200, random_state=2).astype(str).replace("nan", "?")  # text, as read
    result = check(reference, batch)
    assert result["schema"]["ok"] and result["batch_rows"] == 200
    assert result["features"]["Density"]["missing"]["batch_count"] == batch["Density"].eq("?").sum()


def test_unusable_reference_or_alpha_raise_clear_errors(data):
    reference, batch, _ = split(data, 3)
    with pytest.raises(ValueError, match=r"missing \['Shape'\]"):
        check(reference.drop(columns="Shape"), batch)
    with pytest.raises(ValueError, match="reference column Age has 1 non-numeric"):
        check(reference.astype(object).assign(Age=["x"] + [50] * (len(reference) - 1)), batch)
    with pytest.raises(ValueError, match="batch has no rows"):
        check(reference, batch.iloc[:0])
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        check(reference, batch, alpha=5)


def test_reports_are_strict_json_for_jsonget_and_readable_markdown(data, tmp_path):
    result = check(*drifted(data, 4, "ten years older"))
    dc.write_reports(result, tmp_path / "a")
    dc.write_reports(check(*drifted(data, 4, "ten years older")), tmp_path / "b")

    def no_nan(name):
        raise AssertionError(f"{name} is not JSON")
    text = (tmp_path / "a" / dc.REPORT_JSON).read_text()
    report = json.loads(text, parse_constant=no_nan)
    assert report["drift_detected"] is True and report["drifted_features"] == ["Age"]
    assert text == (tmp_path / "b" / dc.REPORT_JSON).read_text()  # deterministic
    markdown = (tmp_path / "a" / dc.REPORT_MD).read_text()
    assert markdown.startswith("# Data drift report: DRIFT DETECTED\n\nModel: mammography\n")
    assert "| Age | distribution | kolmogorov-smirnov |" in markdown


def _processing_dirs(base, batch_lines):
    (with_schema(base) / "input" / "reference").mkdir(parents=True)
    (base / "input" / "batch").mkdir(parents=True)
    shutil.copy(contract.DATA_FILE, base / "input" / "reference" / "reference.data")
    (base / "input" / "batch" / "part-00000").write_text("".join(batch_lines))


def test_script_runs_alone_under_the_processing_contract(tmp_path):
    code = tmp_path / "code" / SCRIPT.name  # as SageMaker stages it: the file alone
    code.parent.mkdir()
    shutil.copy(SCRIPT, code)
    lines = contract.DATA_FILE.read_text().splitlines(keepends=True)
    _processing_dirs(tmp_path / "clean", [",".join(line.split(",")[:5]) + "\n" for line in lines[::5]])
    _processing_dirs(tmp_path / "junk", lines[:10] + ["4,old,1,1,3,0\n"])
    for job in ("clean", "junk"):  # the library ships as the job's own input
        with_library(tmp_path / job)
    run = [sys.executable, "-I", str(code), "--base-dir"]
    clean = subprocess.run([*run, str(tmp_path / "clean")], capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stderr
    report = json.loads((tmp_path / "clean/output/drift" / dc.REPORT_JSON).read_text())
    assert report["drift_detected"] is False and report["batch_rows"] == 193
    junk = subprocess.run([*run, str(tmp_path / "junk")], capture_output=True, text=True, timeout=60)
    assert junk.returncode == 2 and "line 11, column Age: 'old' is not a number" in junk.stderr
    assert not (tmp_path / "junk" / "output").exists()


@pytest.mark.parametrize("batch_rows, reference_rows, verdict", [
    (1, None, "insufficient_data"),
    (dc.MIN_ROWS - 1, None, "insufficient_data"),
    (dc.MIN_ROWS, None, "no_drift"),
    (200, dc.MIN_ROWS - 1, "insufficient_data"),
])
def test_too_few_rows_on_either_side_cannot_be_judged(data, batch_rows, reference_rows, verdict):
    reference, batch, _ = split(data, 7)
    result = check(reference.iloc[:reference_rows], batch.iloc[:batch_rows])
    assert result["verdict"] == verdict
    assert result["drift_detected"] is False and result["minimum_rows"] == dc.MIN_ROWS
    if verdict == "insufficient_data":
        assert result["features"] == {} and result["drifted_features"] == []
        assert any(f"fewer than the {dc.MIN_ROWS} needed to judge drift" in r for r in result["reasons"])


def test_a_tiny_drifted_batch_is_not_called_drift_or_clean(data):
    reference, batch = drifted(data, 0, "ten years older", "more spiculated margins")
    assert check(reference, batch)["verdict"] == "drift"
    assert check(reference, batch.iloc[:5])["verdict"] == "insufficient_data"
    assert check(reference, batch.iloc[:5], min_rows=5)["verdict"] in ("drift", "no_drift")


def test_a_broken_schema_is_drift_at_any_size(data):
    reference, batch, _ = split(data, 8)
    result = check(reference, batch.iloc[:3].drop(columns="Margin"))
    assert result["verdict"] == "drift" and result["drift_detected"] is True
    assert "batch lacks columns ['Margin']" in result["reasons"]


def test_min_rows_must_be_a_positive_whole_number(data):
    reference, batch, _ = split(data, 9)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="min_rows must be a whole number of at least 1"):
            check(reference, batch, min_rows=bad)


def test_the_verdicts_and_their_report_headlines(data, tmp_path):
    reference, batch, _ = split(data, 10)
    dc.write_reports(check(reference, batch.iloc[:3]), tmp_path)
    report = json.loads((tmp_path / dc.REPORT_JSON).read_text())
    assert list(report)[:2] == ["verdict", "drift_detected"]
    markdown = (tmp_path / dc.REPORT_MD).read_text()
    assert markdown.startswith("# Data drift report: CANNOT JUDGE, too little data")
    assert "batch has 3 rows, fewer than the 50 needed to judge drift" in markdown
    assert set(dc.HEADLINES) == {dc.VERDICT_DRIFT, dc.VERDICT_NO_DRIFT, dc.VERDICT_INSUFFICIENT}
    assert dc.VERDICT_INSUFFICIENT == contract.DRIFT_VERDICT_INSUFFICIENT_DATA


def test_the_script_reports_too_little_data_and_still_succeeds(tmp_path):
    lines = contract.DATA_FILE.read_text().splitlines(keepends=True)
    _processing_dirs(tmp_path, lines[:3])
    run = subprocess.run([sys.executable, "-I", str(SCRIPT), "--base-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr  # the pipeline's condition steps decide, not the exit
    assert run.stdout.startswith("verdict=insufficient_data; drift_detected=False")
    report = json.loads((tmp_path / "output" / "drift" / dc.REPORT_JSON).read_text())
    assert report["verdict"] == contract.DRIFT_VERDICT_INSUFFICIENT_DATA
    lowered = subprocess.run([sys.executable, "-I", str(SCRIPT), "--base-dir", str(tmp_path),
                              "--min-rows", "3"], capture_output=True, text=True, timeout=60)
    assert lowered.returncode == 0 and lowered.stdout.startswith("verdict=no_drift")


# --- A subset of the tests (the live check of an endpoint's captured requests) --------------------
LIVE = ("distribution", "out_of_domain")


def _imputed(batch: pd.DataFrame) -> pd.DataFrame:
    """The batch as a client sends it to an endpoint: every missing value imputed (the mode)."""
    return batch.fillna({c: batch[c].mode().iloc[0] for c in batch.columns})


def test_a_subset_plans_fewer_tests_and_bonferroni_follows(data):
    reference, batch, _ = split(data, 12)
    result = check(reference, batch, tests=LIVE)
    assert result["planned_tests"] == 2 * len(SCHEMA.features) == 10 and result["per_test_alpha"] == 0.05 / 10
    assert result["tests"] == list(LIVE)
    for feature in result["features"].values():
        assert "missing" not in feature and set(LIVE) <= set(feature)
        for name in LIVE:
            test = feature[name]
            assert test["p_value"] is None or test["adjusted_p_value"] == pytest.approx(min(1, test["p_value"] * 10))
    # The order given does not matter; an unknown or empty set is refused.
    assert check(reference, batch, tests=tuple(reversed(LIVE))) == result
    for bad in (("distribution", "missing_rate"), (), "distribution"):
        with pytest.raises(ValueError, match="tests must"):
            check(reference, batch, tests=bad)


def test_the_batch_path_plans_all_three_tests_and_its_report_is_unchanged(data, tmp_path):
    reference, batch, _ = split(data, 13)
    default = check(reference, batch)
    assert default == check(reference, batch, tests=("distribution", "missing", "out_of_domain"))
    assert "tests" not in default and default["planned_tests"] == 15
    assert all(set(f) >= {"distribution", "missing", "out_of_domain"} for f in default["features"].values())
    dc.write_reports(default, tmp_path)
    assert "Tests planned" not in (tmp_path / dc.REPORT_MD).read_text()


def test_imputed_traffic_is_missing_value_drift_to_all_tests_and_clean_to_the_live_subset(data):
    # Why the live check leaves the missing-value test out: a clean batch, imputed as clients
    # send it, has no missing values at all while the raw reference has them.
    for seed in range(10):
        reference, batch, _ = split(data, seed)
        batch = _imputed(batch)
        assert "missing" in check(reference, batch)["features"]["Density"]["drifted_tests"], seed
        live = check(reference, batch, tests=LIVE)
        assert not live["drift_detected"], (seed, live["reasons"])


@pytest.mark.parametrize("name", [n for n, (_, _, kind) in DRIFTS.items() if kind in LIVE])
def test_the_live_subset_still_finds_real_drifts(data, name):
    _, feature, kind = DRIFTS[name]
    for seed in range(10):
        reference, batch = drifted(data, seed, name)
        result = check(reference, _imputed(batch), tests=LIVE)
        assert result["features"][feature][kind]["drift"], (name, seed)


def test_the_script_plans_the_tests_it_is_given_and_refuses_unknown_ones(tmp_path):
    lines = contract.DATA_FILE.read_text().splitlines(keepends=True)
    _processing_dirs(tmp_path, [",".join(line.split(",")[:5]) + "\n" for line in lines[::5]])
    run = [sys.executable, "-I", str(SCRIPT), "--base-dir", str(tmp_path)]
    live = subprocess.run([*run, "--tests", "distribution,out_of_domain"], capture_output=True, text=True, timeout=60)
    assert live.returncode == 0, live.stderr
    report = json.loads((tmp_path / "output" / "drift" / dc.REPORT_JSON).read_text())
    assert (report["planned_tests"], report["tests"]) == (10, ["distribution", "out_of_domain"])
    markdown = (tmp_path / "output" / "drift" / dc.REPORT_MD).read_text()
    assert "Tests planned: distribution, out_of_domain; not run: missing." in markdown
    assert "| missing |" not in markdown and "| out_of_domain |" in markdown
    bad = subprocess.run([*run, "--tests", "distribution,missingness"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "tests must name at least one of" in bad.stderr and "missingness" in bad.stderr
