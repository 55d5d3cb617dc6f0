"""`python -m mlops_platform definitions`: each workload stack's pipeline definitions as
readable files under readable names, and a clear exit 2 for every bad argument."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mlops_platform.offline import definitions
from mlops_platform.settings import ConfigError
from tests.platform.shipped import models, names

PIPELINE = "pulumi-python:dynamic/mlops:SageMakerPipeline"


def _files(stack):
    """Each model's two pipelines under their resource names: `training.json` for the first model
    (as before models were configurable), `<model>-training.json` for the others."""
    return sorted(f"{stack}/{names(stack, m).logical(kind)}.json" for m in models(stack)
                  for kind in ("training", "inference"))


def test_writes_each_pipeline_of_the_stack_under_its_name_with_the_deployed_meaning(dev, tmp_path, capsys):
    assert definitions.main(["--stack", "dev", "--out", str(tmp_path)]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == _files("dev") and {"dev/inference.json", "dev/training.json", "dev/wdbc-training.json"} <= \
        set(written)
    for path in written:
        name = path.split("/")[1].removesuffix(".json")
        text = (tmp_path / path).read_text()
        assert json.loads(text) == json.loads(dev.one(PIPELINE, name).inputs["definition"])
        assert text.startswith("{\n  ") and text.endswith("}\n"), "indented, one value per line"
    assert capsys.readouterr().out.split() == [str(tmp_path / p) for p in written]


def test_by_default_both_workload_stacks_and_nothing_else_in_the_directory_is_touched(tmp_path):
    mine = tmp_path / "dev" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    assert definitions.main(["--out", str(tmp_path)]) == 0
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == \
        sorted(_files("dev") + _files("prod"))
    assert mine.read_text() == "keep me"
    assert "mlops-prod-training" in (tmp_path / "prod" / "training.json").read_text()


def test_the_files_are_the_same_bytes_on_every_run(tmp_path):
    for out in ("a", "b"):
        assert definitions.main(["--stack", "prod", "--out", str(tmp_path / out)]) == 0
    for kind in ("training", "inference"):
        assert (tmp_path / "a" / "prod" / f"{kind}.json").read_bytes() == \
            (tmp_path / "b" / "prod" / f"{kind}.json").read_bytes()


@pytest.mark.parametrize(("argv", "message"), [
    (["--stack", "registry"], "--stack registry: 'registry' deploys no pipelines; choose one of dev, prod"),
    (["--stack", "staging"], "--stack staging: 'staging' is not a stack of this project; choose one of dev, prod"),
    (["--out"], "--out: expected one argument"),
    (["--stacks", "dev"], "unrecognized arguments: --stacks dev"),
])
def test_bad_arguments_exit_2_with_the_fix(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        definitions.main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_an_out_that_is_a_file_exits_2_before_any_stack_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(definitions, "run_stack", lambda *a, **k: pytest.fail("ran a stack"))
    target = tmp_path / "defs"
    target.write_text("a file")
    assert definitions.main(["--out", str(target / "x")]) == 2
    assert capsys.readouterr().err == f"error: --out {target / 'x'}: {target} is a file, not a directory; " \
                                      "give a directory path\n"


def test_an_out_that_cannot_be_created_exits_2_with_the_path(capsys):
    out = "/proc/mlops-definitions"  # no one may create directories in /proc, not even root
    assert definitions.main(["--stack", "dev", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --out {out}: ") and "choose a directory you can write to" in err


def test_a_broken_stack_configuration_exits_2_with_its_message(tmp_path, capsys, monkeypatch):
    def broken(stack, **_):
        raise ConfigError(["mlops-platform:role: must be registry, dev or prod"])

    monkeypatch.setattr(definitions, "run_stack", broken)
    assert definitions.main(["--out", str(tmp_path)]) == 2
    assert "mlops-platform:role: must be registry, dev or prod" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_the_module_entry_point_dispatches_the_command():
    no_credentials = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run([sys.executable, "-m", "mlops_platform", "definitions", "--stack", "registry"],
                          capture_output=True, text=True, env=no_credentials, timeout=120)
    assert proc.returncode == 2
    assert "'registry' deploys no pipelines" in proc.stderr
