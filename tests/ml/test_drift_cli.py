"""`python -m ml drift` (ml.drift_cli.main): a JSON verdict on stdout, exit 0 with or without
drift, 3 when there is too little data to judge, 2 with a message naming the bad file for
anything that is not the raw UCI layout or an --out that cannot be written."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ml import contract, datasets
from ml.drift_cli import main


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """The project's seeded data sets (ml.datasets), written as raw UCI files."""
    return datasets.write_datasets(tmp_path_factory.mktemp("sets"))


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("batch, drifted, feature", [
    ("batch_clean", False, None),
    ("batch_drift_age", True, "Age"),
    ("batch_drift_shape_margin", True, "Shape"),
    ("batch_drift_missing", True, "Density"),
])
def test_verdict_on_the_project_batches(capsys, sets, batch, drifted, feature):
    code, out, err = run(capsys, "--reference", sets["initial_train"], "--batch", sets[batch])
    verdict = json.loads(out)
    assert code == 0 and err == ""
    assert verdict["drift_detected"] is drifted, verdict["reasons"]
    assert verdict["verdict"] == ("drift" if drifted else "no_drift")
    assert set(verdict["features"]) == set(contract.FEATURES)
    assert (feature in verdict["drifted_features"]) if feature else verdict["drifted_features"] == []


def test_out_writes_the_json_and_markdown_reports(capsys, sets, tmp_path):
    code, out, _ = run(capsys, "--reference", sets["initial_train"], "--batch",
                       sets["batch_drift_age"], "--out", tmp_path / "reports")
    assert code == 0
    assert json.loads((tmp_path / "reports" / "drift_report.json").read_text()) == json.loads(out)
    assert "DRIFT DETECTED" in (tmp_path / "reports" / "drift_report.md").read_text()


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("4,43,1,1\n", "4 columns, expected 5"),
    ("4,43,1,1,3\n4,forty-three,1,1,3\n", "line 2, column Age: 'forty-three' is not a number"),
])
def test_unreadable_or_malformed_batch_exits_2_naming_the_file(capsys, tmp_path, content, message):
    batch = tmp_path / "batch.data"
    if content is not None:
        batch.write_text(content)
    code, out, err = run(capsys, "--reference", contract.DATA_FILE, "--batch", batch)
    assert code == 2 and out == ""
    assert str(batch) in err and message in err


def test_bad_arguments_exit_2_with_usage(capsys):
    code, _, err = run(capsys, "--reference", contract.DATA_FILE)
    assert code == 2 and "--batch" in err


def test_runs_as_a_module(sets):
    done = subprocess.run([sys.executable, "-m", "ml.drift_cli", "--reference",
                           str(sets["initial_train"]), "--batch", str(sets["batch_clean"])],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["drift_detected"] is False


def head(path, rows: int, into):
    into.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:rows]))
    return into


@pytest.mark.parametrize("side", ["batch", "reference"])
def test_too_little_data_exits_3_with_its_own_verdict(capsys, sets, tmp_path, side):
    files = {"reference": sets["initial_train"], "batch": sets["batch_drift_age"]}
    files[side] = head(files[side], 1, tmp_path / "one-row.data")
    code, out, err = run(capsys, "--reference", files["reference"], "--batch", files["batch"])
    verdict = json.loads(out)
    assert code == 3 and err == ""
    assert verdict["verdict"] == "insufficient_data" and verdict["drift_detected"] is False
    assert f"{side} has 1 row, fewer than the 50 needed to judge drift" in verdict["reasons"]


def test_min_rows_lowers_the_bar(capsys, sets, tmp_path):
    batch = head(sets["batch_drift_age"], 20, tmp_path / "small.data")
    assert run(capsys, "--reference", sets["initial_train"], "--batch", batch)[0] == 3
    code, out, _ = run(capsys, "--reference", sets["initial_train"], "--batch", batch, "--min-rows", 20)
    assert code == 0 and json.loads(out)["verdict"] in ("drift", "no_drift")


UNWRITABLE = "/sys/ml-drift-test"  # sysfs refuses new entries, even to root


def test_an_unwritable_out_exits_2_but_the_verdict_is_printed(capsys, sets, tmp_path):
    (tmp_path / "taken").write_text("a file")
    for out_dir in (tmp_path / "taken", UNWRITABLE):
        code, out, err = run(capsys, "--reference", sets["initial_train"], "--batch",
                             sets["batch_drift_age"], "--out", out_dir)
        assert code == 2
        assert json.loads(out)["verdict"] == "drift"  # printed although the report was not written
        assert f"cannot write the drift reports to {out_dir}" in err and "pass --out with a" in err
        assert "Traceback" not in err
    assert (tmp_path / "taken").read_text() == "a file"
