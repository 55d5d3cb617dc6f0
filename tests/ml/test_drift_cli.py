"""`python -m ml drift` (ml.drift_cli.main): a JSON verdict on stdout, exit 0 with or without
drift, 3 when there is too little data to judge, 2 with a message naming the bad file (or the
model) for anything that is not the model's layout or an --out that cannot be written."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ml import datasets
from ml.drift_cli import main
from ml.models import load_project_models

SPECS = {spec.name: spec for spec in load_project_models()}
MAMMOGRAPHY = SPECS["mammography"]


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """Every model's seeded data sets (ml.datasets), written in its raw layout."""
    root = tmp_path_factory.mktemp("sets")
    return {name: datasets.write_datasets(spec, root / name) for name, spec in SPECS.items()}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def mammography(capsys, *argv):
    return run(capsys, "--model", "mammography", *argv)


CASES = [(model, batch) for model, spec in sorted(SPECS.items()) for batch in datasets.batch_names(spec)]


@pytest.mark.parametrize("model, batch", CASES)
def test_verdict_on_every_models_batches(capsys, sets, model, batch):
    code, out, err = run(capsys, "--model", model, "--reference", sets[model]["initial_train"],
                         "--batch", sets[model][batch])
    verdict = json.loads(out)
    drifted = batch != datasets.CLEAN_BATCH
    assert code == 0 and err == ""
    assert verdict["drift_detected"] is drifted, verdict["reasons"]
    assert verdict["verdict"] == ("drift" if drifted else "no_drift")
    assert set(verdict["features"]) == set(SPECS[model].schema.feature_names)
    shifted = datasets.shifted_feature(SPECS[model])
    if batch == f"batch_drift_{datasets.slug(shifted)}":
        assert shifted in verdict["drifted_features"]
    if not drifted:
        assert verdict["drifted_features"] == []


def test_the_model_may_be_left_out_only_when_there_is_one(capsys, sets):
    code, out, err = run(capsys, "--reference", sets["wdbc"]["initial_train"], "--batch", sets["wdbc"]["batch_clean"])
    assert code == 2 and out == "" and "pass --model NAME (one of mammography, wdbc)" in err
    code, _, err = run(capsys, "--model", "wdcb", "--reference", sets["wdbc"]["initial_train"],
                       "--batch", sets["wdbc"]["batch_clean"])
    assert code == 2 and "did you mean wdbc" in err


def test_a_file_of_another_model_is_refused_naming_it(capsys, sets):
    code, out, err = mammography(capsys, "--reference", sets["mammography"]["initial_train"],
                                 "--batch", sets["wdbc"]["batch_clean"])
    assert code == 2 and out == "" and str(sets["wdbc"]["batch_clean"]) in err


def test_out_writes_the_json_and_markdown_reports(capsys, sets, tmp_path):
    code, out, _ = mammography(capsys, "--reference", sets["mammography"]["initial_train"], "--batch",
                               sets["mammography"]["batch_drift_age"], "--out", tmp_path / "reports")
    assert code == 0
    assert json.loads((tmp_path / "reports" / "drift_report.json").read_text()) == json.loads(out)
    assert "DRIFT DETECTED" in (tmp_path / "reports" / "drift_report.md").read_text()


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("4,43,1,1\n", "4 columns, expected"),
    ("4,43,1,1,3\n4,forty-three,1,1,3\n", "line 2, column Age: 'forty-three' is not a number"),
])
def test_unreadable_or_malformed_batch_exits_2_naming_the_file(capsys, sets, tmp_path, content, message):
    batch = tmp_path / "batch.data"
    if content is not None:
        batch.write_text(content)
    code, out, err = mammography(capsys, "--reference", sets["mammography"]["initial_train"], "--batch", batch)
    assert code == 2 and out == ""
    assert str(batch) in err and message in err


def test_bad_arguments_exit_2_with_usage(capsys, sets):
    code, _, err = mammography(capsys, "--reference", sets["mammography"]["initial_train"])
    assert code == 2 and "--batch" in err


def test_runs_as_a_module(sets):
    done = subprocess.run([sys.executable, "-m", "ml.drift_cli", "--model", "wdbc", "--reference",
                           str(sets["wdbc"]["initial_train"]), "--batch", str(sets["wdbc"]["batch_clean"])],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["drift_detected"] is False


def head(path, rows: int, into):
    into.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:rows]))
    return into


@pytest.mark.parametrize("side", ["batch", "reference"])
def test_too_little_data_exits_3_with_its_own_verdict(capsys, sets, tmp_path, side):
    files = {"reference": sets["mammography"]["initial_train"], "batch": sets["mammography"]["batch_drift_age"]}
    files[side] = head(files[side], 1, tmp_path / "one-row.data")
    code, out, err = mammography(capsys, "--reference", files["reference"], "--batch", files["batch"])
    verdict = json.loads(out)
    assert code == 3 and err == ""
    assert verdict["verdict"] == "insufficient_data" and verdict["drift_detected"] is False
    assert f"{side} has 1 row, fewer than the 50 needed to judge drift" in verdict["reasons"]


def test_min_rows_lowers_the_bar(capsys, sets, tmp_path):
    batch = head(sets["mammography"]["batch_drift_age"], 20, tmp_path / "small.data")
    assert mammography(capsys, "--reference", sets["mammography"]["initial_train"], "--batch", batch)[0] == 3
    code, out, _ = mammography(capsys, "--reference", sets["mammography"]["initial_train"], "--batch", batch,
                               "--min-rows", 20)
    assert code == 0 and json.loads(out)["verdict"] in ("drift", "no_drift")


UNWRITABLE = "/sys/ml-drift-test"  # sysfs refuses new entries, even to root


def test_an_unwritable_out_exits_2_but_the_verdict_is_printed(capsys, sets, tmp_path):
    (tmp_path / "taken").write_text("a file")
    for out_dir in (tmp_path / "taken", UNWRITABLE):
        code, out, err = mammography(capsys, "--reference", sets["mammography"]["initial_train"], "--batch",
                                     sets["mammography"]["batch_drift_age"], "--out", out_dir)
        assert code == 2
        assert json.loads(out)["verdict"] == "drift"  # printed although the report was not written
        assert f"cannot write the drift reports to {out_dir}" in err and "pass --out with a" in err
        assert "Traceback" not in err
    assert (tmp_path / "taken").read_text() == "a file"
