"""`python -m ml local` and the `python -m ml` commands, end to end in a subprocess, for every model."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml import datasets
from ml.__main__ import main
from ml.models import load_project_models

SPECS = {spec.name: spec for spec in load_project_models()}


def ml(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("local")
    result = ml("local", "--out", str(root / "out"), cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "out", result


def _summary(out: Path, model: str) -> dict:
    return json.loads((out / model / "summary.json").read_text())


def test_every_model_runs_and_gets_its_own_folder(local_run):
    out = local_run[0]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(SPECS)
    for name in SPECS:
        assert _summary(out, name)["model"] == name


def test_mammography_auc_with_without_and_birads_alone_are_sane(local_run):
    auc = _summary(local_run[0], "mammography")["auc"]
    assert set(auc) == {"with_birads", "without_birads", "birads_only"}
    assert auc["with_birads"] > 0.85
    assert 0.75 < auc["without_birads"] < auc["with_birads"]
    assert 0.75 < auc["birads_only"] < auc["with_birads"]


def test_wdbc_learns_its_diagnosis(local_run):
    summary = _summary(local_run[0], "wdbc")
    assert set(summary["auc"]) == {"all_features"} and summary["auc"]["all_features"] > 0.95
    assert summary["hyperparameters"] == dict(SPECS["wdbc"].hyperparameters)


@pytest.mark.parametrize("model", sorted(SPECS))
def test_clean_batch_passes_and_every_drifted_batch_is_caught(local_run, model):
    drift = _summary(local_run[0], model)["drift"]
    assert drift == {name: name != datasets.CLEAN_BATCH for name in datasets.batch_names(SPECS[model])}


@pytest.mark.parametrize("model", sorted(SPECS))
def test_artifacts_are_written_where_the_steps_write_them(local_run, model):
    out, spec = local_run[0] / model, SPECS[model]
    names = datasets.dataset_names(spec)
    for variant in json.loads((out / "summary.json").read_text())["metrics"]:
        assert (out / variant / "train" / "model.tar.gz").is_file()
        assert (out / variant / "preprocess" / "input" / "schema" / "schema.json").read_bytes() == \
            spec.schema.document_bytes(model)
        assert (out / variant / "evaluate" / "output" / "evaluation" / "evaluation.json").is_file()
        assert (out / variant / "evaluate" / "output" / "evaluation" / "roc_curve.svg").is_file()
    for name in datasets.batch_names(spec):
        batch = out / "batches" / name
        rows = len((out / "datasets" / names[name]).read_bytes().splitlines()) - spec.schema.header
        assert len((batch / "predictions.csv").read_text().splitlines()) == rows
        assert (batch / "drift" / "output" / "drift" / "drift_report.json").is_file()


def test_progress_and_summary_tables_are_printed(local_run):
    stdout = local_run[1].stdout
    assert "[1/5" in stdout and "[5/5" in stdout and "mammography: " in stdout and "wdbc: " in stdout
    assert "with_birads" in stdout and "batch_drift_age" in stdout and "batch_drift_radius_mean" in stdout


def test_a_second_run_replaces_its_own_files_only_and_gives_the_same_summaries(local_run, tmp_path):
    out = local_run[0]
    before = {name: (out / name / "summary.json").read_bytes() for name in SPECS}
    (out / "notes.txt").write_text("mine")
    (out / "mammography" / "datasets" / "customers.csv").write_text("id,name\n1,Ada\n")
    assert ml("local", "--out", str(out), cwd=tmp_path).returncode == 0
    assert {name: (out / name / "summary.json").read_bytes() for name in SPECS} == before
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "mammography" / "datasets" / "customers.csv").read_text() == "id,name\n1,Ada\n"
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no staging directory left behind


def test_one_model_runs_alone_and_keeps_the_others_output(local_run, tmp_path):
    out = tmp_path / "out"
    assert main(["local", "--model", "mammography", "--out", str(out)]) == 0
    mammography = (out / "mammography" / "summary.json").read_bytes()
    assert main(["local", "--model", "wdbc", "--out", str(out)]) == 0
    assert (out / "mammography" / "summary.json").read_bytes() == mammography
    assert (out / "wdbc" / "summary.json").read_bytes() == (local_run[0] / "wdbc" / "summary.json").read_bytes()


def test_an_unknown_model_is_refused_with_the_known_names(tmp_path, capsys):
    assert main(["local", "--model", "wdcb", "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "--model wdcb" in error and "did you mean wdbc" in error and "mammography" in error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["local", "datasets"])
def test_data_without_a_model_is_refused(tmp_path, capsys, command):
    assert main([command, "--data", str(tmp_path / "x.data"), "--out", str(tmp_path / "out")]) == 2
    assert "pass --model NAME" in capsys.readouterr().err


def test_a_foreign_non_empty_directory_is_left_alone(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["local", "--model", "wdbc", "--out", str(tmp_path)]) == 2
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
    (b"5,67,3,5,3,1\r\n5.5,60,4,5,3,1\r\n", "line 2, column BI-RADS: "),
    (b"", "empty; it holds no data rows"),
    (b"\x00\x01\x02binary", "binary, not UTF-8"),
    (b"5,67,3,5,3\r\n", "5 columns, expected 6"),
])
@pytest.mark.parametrize("command", ["local", "datasets"])
def test_bad_data_is_refused_naming_the_file_before_anything_is_written(tmp_path, capsys, command,
                                                                         content, message):
    data = tmp_path / "masses.data"
    data.write_bytes(content)
    assert main([command, "--model", "mammography", "--data", str(data), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert f"{data}: " in error and message in error
    assert [p.name for p in tmp_path.iterdir()] == ["masses.data"]


UNWRITABLE = "/sys/ml-local-test"  # sysfs refuses new entries, even to root


@pytest.mark.parametrize("command", ["local", "datasets"])
def test_an_unwritable_out_exits_2_with_the_path_and_the_fix(tmp_path, capsys, command):
    (tmp_path / "taken").write_text("a file")
    for out in (tmp_path / "taken", tmp_path / "taken" / "below", UNWRITABLE):
        assert main([command, "--model", "mammography", "--out", str(out)]) == 2
        error = capsys.readouterr().err
        assert str(out) in error and "pass --out with a" in error and "Traceback" not in error
    assert (tmp_path / "taken").read_text() == "a file"


def test_a_run_that_fails_half_way_leaves_nothing_behind(tmp_path, monkeypatch):
    from ml import local, output_dir

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C during the first evaluation
    monkeypatch.setattr(local.evaluate, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        local.run_local([SPECS["mammography"]], tmp_path / "out", log=lambda message: None)
    assert list(tmp_path.iterdir()) == []  # no half-written output, no staging directory
    assert output_dir.claim(tmp_path / "out").previous == frozenset()  # nothing blocks a rerun


def test_datasets_writes_one_folder_per_model(tmp_path, capsys):
    assert main(["datasets", "--out", str(tmp_path / "sets")]) == 0
    for name, spec in SPECS.items():
        assert sorted(p.name for p in (tmp_path / "sets" / name).iterdir()) == sorted(
            datasets.dataset_names(spec).values())
    assert "batch_drift_radius_mean" in capsys.readouterr().out


def test_drift_command_is_routed_to_the_drift_cli(local_run, tmp_path):
    out = local_run[0] / "mammography"
    reference = out / "with_birads" / "preprocess" / "output" / "reference" / "reference.data"
    batch = out / "datasets" / datasets.dataset_names(SPECS["mammography"])["batch_drift_age"]
    result = ml("drift", "--model", "mammography", "--reference", str(reference), "--batch", str(batch), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["drift_detected"] is True


def test_unknown_command_shows_usage(capsys):
    assert main(["bogus"]) == 2
    error = capsys.readouterr().err
    assert "unknown command 'bogus'" in error and "local" in error


THIRD_MODEL = """
config:
  mlops-platform:models:
    value:
      churn:
        dataFile: data/churn.csv
        schema:
          header: true
          delimiter: ";"
          missing: ["NA"]
          label: {name: churned, domain: ["no", "yes"], positive: "yes"}
          features:
            - {name: tenure, kind: numeric, domain: [0, 240], integer: true}
            - {name: plan, kind: nominal, domain: [basic, plus, pro], aliases: {premium: pro}}
            - {name: satisfaction, kind: ordinal, domain: [low, medium, high]}
        hyperparameters: {num_round: "30", max_depth: "2", eta: "0.2", seed: "1"}
"""


def _churn_rows(count: int) -> list[str]:
    import numpy as np

    rng = np.random.default_rng(7)
    rows = []
    for _ in range(count):
        tenure = int(rng.integers(0, 120))
        plan = str(rng.choice(["basic", "plus", "pro", "premium"]))
        satisfaction = str(rng.choice(["low", "medium", "high", "NA"], p=[0.3, 0.3, 0.3, 0.1]))
        risk = 0.7 - tenure / 200 + (0.2 if satisfaction == "low" else 0) - (0.2 if plan in ("pro", "premium") else 0)
        rows.append(f"{tenure};{plan};{satisfaction};{'yes' if rng.random() < risk else 'no'}")
    return rows


def test_a_third_model_is_a_config_entry_and_a_data_file(tmp_path):
    from ml import local
    from ml.models import load_project_models as load

    (tmp_path / "Pulumi.yaml").write_text(THIRD_MODEL)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "churn.csv").write_text("tenure;plan;satisfaction;churned\n" + "\n".join(_churn_rows(400)))
    (spec,) = load(tmp_path)
    assert spec.first and spec.group_name == "churn-model-package"
    summaries = local.run_local([spec], tmp_path / "out", data=tmp_path / "data" / "churn.csv", log=lambda m: None)
    summary = summaries["churn"]
    assert summary["auc"]["all_features"] > 0.6
    assert summary["drift"] == {"batch_clean": False, "batch_drift_tenure": True, "batch_drift_plan": True,
                                "batch_drift_missing": True}
    assert (tmp_path / "out" / "churn" / "datasets" / "batch_drift_plan.csv").read_text().startswith(
        "tenure;plan;satisfaction\n")


def test_the_readme_shows_this_very_third_model():
    import re

    import yaml

    from ml.models import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index("**A third model**"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert yaml.safe_load(block) == yaml.safe_load(THIRD_MODEL)["config"]["mlops-platform:models"]["value"]
