"""`python -m mlops_platform plan`: every stack from the real stack files with no credentials; all
config problems of all stacks at once, each with its file; the same output every run; `--json`
and `--diff` with diff-like exit codes; bad arguments exit 2 naming the fix."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_platform.__main__ import main as module_main
from mlops_platform.offline.plan import main
from mlops_platform.offline.stack_files import ROOT

BUCKET = "aws:s3/bucket:Bucket::data"


def _plan(capsys, *argv: str, root: Path = ROOT) -> tuple[int, str, str]:
    code = main(list(argv), root=root)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_plans_all_three_stacks_registry_first_without_credentials():
    no_credentials = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run([sys.executable, "-m", "mlops_platform", "plan"], capture_output=True, text=True,
                          timeout=600, env=no_credentials)
    assert done.returncode == 0, done.stderr
    headers = [line.split(" (")[0] for line in done.stdout.splitlines() if line.startswith("== stack")]
    assert headers == ["== stack registry", "== stack dev", "== stack prod"]
    assert done.stdout.count("reads stack: example-org/mlops-platform/registry") == 2
    assert "DEBUG" not in done.stdout + done.stderr  # the SDK's build chatter is kept out


def test_every_run_and_every_order_gives_the_same_output(capsys):
    runs = [_plan(capsys, "--stack", "prod", "--stack", "dev"), _plan(capsys, "--stack", "dev", "--stack", "prod"),
            _plan(capsys, "--stack", "prod", "--stack", "dev")]
    assert {code for code, _, _ in runs} == {0}
    assert runs[0][1] == runs[1][1] == runs[2][1]
    assert [line for line in runs[0][1].splitlines() if line.startswith("==")][0].startswith("== stack dev ")


def test_json_then_diff_equal_then_changed(capsys, tmp_path):
    code, out, _ = _plan(capsys, "--stack", "prod", "--json")
    saved = json.loads(out)
    assert code == 0 and list(saved["stacks"]) == ["prod"]
    (tmp_path / "same.json").write_text(out)
    assert _plan(capsys, "--diff", str(tmp_path / "same.json"))[:2] == (
        0, f"no changes: the plan of prod matches {tmp_path / 'same.json'}\n")

    saved["stacks"]["prod"]["resources"][BUCKET]["properties"]["forceDestroy"] = True
    (tmp_path / "old.json").write_text(json.dumps(saved))
    code, out, _ = _plan(capsys, "--diff", str(tmp_path / "old.json"))
    assert code == 1
    assert out.splitlines() == [f"1 change(s) since {tmp_path / 'old.json'} (prod):",
                                f"  prod: ~ {BUCKET}  forceDestroy: true -> false"]


def test_diff_with_stack_compares_only_that_stack(capsys, tmp_path):
    _, out, _ = _plan(capsys, "--json")
    (tmp_path / "all.json").write_text(out)
    code, out, _ = _plan(capsys, "--stack", "registry", "--diff", str(tmp_path / "all.json"))
    assert (code, out) == (0, f"no changes: the plan of registry matches {tmp_path / 'all.json'}\n")


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "cannot read"),
    ("{not json", "is not JSON"),
    ('{"format": "other", "stacks": {}}', "has format 'other'"),
    ('{"format": "mlops-platform-plan/1", "stacks": {"staging": {}}}', "has stacks ['staging'], not among"),
])
def test_a_bad_saved_plan_exits_2_saying_how_to_save_one(capsys, tmp_path, content, fragment):
    path = tmp_path / "old.json"
    if content is not None:
        path.write_text(content)
    code, out, err = _plan(capsys, "--diff", str(path))
    assert code == 2 and out == ""
    assert err.startswith("error: --diff: ") and fragment in err and str(path) in err


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--stack", "staging"], "invalid choice: 'staging' (choose from 'registry', 'dev', 'prod')"),
    (["--json", "--diff", "old.json"], "argument --diff: not allowed with argument --json"),
    (["--diff"], "argument --diff: expected one argument"),
    (["--jsn"], "unrecognized arguments: --jsn"),
])
def test_bad_arguments_exit_2_with_the_usage(capsys, argv, fragment):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("usage: python -m mlops_platform plan") and fragment in err


@pytest.mark.parametrize(("argv", "code", "fragment"), [
    ([], 2, "error: no command given: the command"),
    (["deploy"], 2, "error: unknown command 'deploy': the command"),
    (["--help"], 0, "--help` explains"),
])
def test_the_module_says_how_to_use_it(capsys, argv, code, fragment):
    assert module_main(argv) == code
    captured = capsys.readouterr()
    text = captured.err if code else captured.out
    assert text.startswith("usage: python -m mlops_platform plan") and fragment in text


def test_every_problem_of_every_stack_at_once_each_with_its_file(capsys, broken_project):
    code, out, err = _plan(capsys, root=broken_project)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("error: 3 configuration problem(s); nothing was planned.")
    problems = [line.strip() for line in lines[1:]]
    assert problems[0].startswith("Pulumi.yaml: mlops-platform:tags") and problems[0].endswith(
        "(read by stacks registry, dev)")  # prod's file does not parse, so its settings were not read
    assert problems[1].startswith("Pulumi.dev.yaml: mlops-platform:aucThreshold: ") and "'2'" in problems[1]
    assert problems[2].startswith("Pulumi.prod.yaml:") and "a tab character" in problems[2]


def test_a_missing_stack_file_is_a_problem_like_the_others(capsys, broken_project):
    root = broken_project
    (root / "Pulumi.prod.yaml").unlink()
    code, _, err = _plan(capsys, "--stack", "prod", root=root)
    assert code == 2
    assert f"  Pulumi.prod.yaml: not found in {root}: every stack needs its settings file" in err
    assert "Pulumi.dev.yaml" not in err  # only the stacks planned (and the registry they read) are checked
