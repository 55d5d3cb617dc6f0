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


def test_a_second_run_replaces_its_own_files_only_and_gives_the_same_summary(local_run, tmp_path):
    out = local_run[0]
    before = (out / "summary.json").read_bytes()
    (out / "notes.txt").write_text("mine")
    (out / "datasets" / "customers.csv").write_text("id,name\n1,Ada\n")
    assert ml("local", "--out", str(out), cwd=tmp_path).returncode == 0
    assert (out / "summary.json").read_bytes() == before
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "datasets" / "customers.csv").read_text() == "id,name\n1,Ada\n"
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no staging directory left behind


def test_a_foreign_non_empty_directory_is_left_alone(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["local", "--out", str(tmp_path)]) == 2
    assert "pass --out with a new or empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_reported_case_a_users_datasets_beside_a_summary_are_never_deleted(tmp_path, capsys):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "customers.csv").write_text("id,name\n1,Ada\n")
    (tmp_path / "summary.json").write_text('{"quarter": 3}')
    assert main(["local", "--out", str(tmp_path)]) == 2
    assert f"{tmp_path} is not empty and holds no .ml-local.json" in capsys.readouterr().err
    assert (tmp_path / "datasets" / "customers.csv").read_text() == "id,name\n1,Ada\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datasets", "summary.json"]


@pytest.mark.parametrize("content, message", [
    (b"5,67,3,5,3,1\r\n5.5,60,4,5,3,1\r\n", "line 2, column BI-RADS: '5.5' is not an integer"),
    (b"", "empty; it holds no data rows"),
    (b"\x00\x01\x02binary", "binary, not UTF-8 comma-separated text"),
    (b"5,67,3,5,3\r\n", "5 columns, expected 6"),
])
@pytest.mark.parametrize("command", ["local", "datasets"])
def test_bad_data_is_refused_naming_the_file_before_anything_is_written(tmp_path, capsys, command,
                                                                         content, message):
    data = tmp_path / "masses.data"
    data.write_bytes(content)
    assert main([command, "--data", str(data), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert f"{data}: " in error and message in error
    assert [p.name for p in tmp_path.iterdir()] == ["masses.data"]


UNWRITABLE = "/sys/ml-local-test"  # sysfs refuses new entries, even to root


@pytest.mark.parametrize("command", ["local", "datasets"])
def test_an_unwritable_out_exits_2_with_the_path_and_the_fix(tmp_path, capsys, command):
    (tmp_path / "taken").write_text("a file")
    for out in (tmp_path / "taken", tmp_path / "taken" / "below", UNWRITABLE):
        assert main([command, "--out", str(out)]) == 2
        error = capsys.readouterr().err
        assert str(out) in error and "pass --out with a" in error and "Traceback" not in error
    assert (tmp_path / "taken").read_text() == "a file"


def test_a_run_that_fails_half_way_leaves_nothing_behind(tmp_path, monkeypatch):
    from ml import local, output_dir

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C during the first evaluation
    monkeypatch.setattr(local.evaluate, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        local.run_local(tmp_path / "out", log=lambda message: None)
    assert list(tmp_path.iterdir()) == []  # no half-written output, no staging directory
    assert output_dir.claim(tmp_path / "out").previous == frozenset()  # nothing blocks a rerun


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
