"""`python -m ml local` and the `python -m ml` commands, end to end in a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml import datasets
from ml.__main__ import main


def ml(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=180)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("local")
    result = ml("local", "--out", str(root / "out"), cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "out", result


def test_auc_with_without_and_birads_alone_are_sane(local_run):
    summary = json.loads((local_run[0] / "summary.json").read_text())
    auc = summary["auc"]
    assert set(auc) == {"with_birads", "without_birads", "birads_only"}
    assert auc["with_birads"] > 0.85
    assert 0.75 < auc["without_birads"] < auc["with_birads"]
    assert 0.75 < auc["birads_only"] < auc["with_birads"]


def test_clean_batch_passes_and_every_drifted_batch_is_caught(local_run):
    drift = json.loads((local_run[0] / "summary.json").read_text())["drift"]
    assert drift == {"batch_clean": False, "batch_drift_age": True,
                     "batch_drift_shape_margin": True, "batch_drift_missing": True}


def test_artifacts_are_written_where_the_steps_write_them(local_run):
    out = local_run[0]
    for variant in ("with_birads", "without_birads"):
        assert (out / variant / "train" / "model.tar.gz").is_file()
        assert (out / variant / "evaluate" / "output" / "evaluation" / "evaluation.json").is_file()
        assert (out / variant / "evaluate" / "output" / "evaluation" / "roc_curve.svg").is_file()
    for name in datasets.BATCHES:
        batch = out / "batches" / name
        rows = len((out / "datasets" / datasets.DATASET_FILES[name]).read_bytes().splitlines())
        assert len((batch / "predictions.csv").read_text().splitlines()) == rows
        assert (batch / "drift" / "drift_report.json").is_file()


def test_progress_and_summary_table_are_printed(local_run):
    stdout = local_run[1].stdout
    assert "[1/5" in stdout and "[5/5" in stdout
    assert "with_birads" in stdout and "batch_drift_age" in stdout


def test_a_second_run_reuses_the_directory_and_gives_the_same_summary(local_run, tmp_path):
    out = local_run[0]
    before = (out / "summary.json").read_bytes()
    assert ml("local", "--out", str(out), cwd=tmp_path).returncode == 0
    assert (out / "summary.json").read_bytes() == before


def test_a_foreign_non_empty_directory_is_left_alone(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["local", "--out", str(tmp_path)]) == 2
    assert "pass --out with a new or empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_drift_command_is_routed_to_the_drift_cli(local_run, tmp_path):
    reference = local_run[0] / "with_birads" / "preprocess" / "output" / "reference"
    batch = local_run[0] / "datasets" / datasets.DATASET_FILES["batch_drift_age"]
    result = ml("drift", "--reference", str(reference / "reference.data"), "--batch", str(batch),
                cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["drift_detected"] is True


def test_unknown_command_shows_usage(capsys):
    assert main(["bogus"]) == 2
    error = capsys.readouterr().err
    assert "unknown command 'bogus'" in error and "local" in error
