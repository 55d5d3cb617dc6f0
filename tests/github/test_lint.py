"""The workflows and the composite action pass GitHub's schema and zizmor's security audit.

Both tools run offline from the venv. Each is also shown a deliberately bad file, so a
tool that silently checks nothing cannot make these tests pass.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.github.workflow_files import GITHUB_DIR, ROOT, action_paths, workflow_paths

BIN = Path(sys.executable).parent
BLOCKING = {"Medium", "High"}

BAD_WORKFLOW = """\
name: bad
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def tool(name: str) -> str:
    """Path of a console script installed next to this interpreter."""
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed: run `pip install -c constraints.txt -e '.[dev]'`"
    return found


def run(argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def zizmor(target: Path, cwd: Path) -> tuple[list[dict], str]:
    """Findings (JSON v1) of one offline zizmor run over a folder, and its log."""
    # --no-config: a stray zizmor.yml must not be able to switch audits off for this test.
    proc = run([tool("zizmor"), "--offline", "--no-config", "--format", "json",
                 str(target.relative_to(cwd))], cwd)
    # Exit codes 10-14 mean "findings of some severity"; anything else is a tool failure.
    assert proc.returncode in (0, 10, 11, 12, 13, 14), proc.stderr
    return json.loads(proc.stdout or "[]"), proc.stderr


def test_there_is_something_to_check():
    names = {p.name for p in workflow_paths()}
    assert {"preview.yml", "deploy.yml", "infra-drift.yml", "approve-model.yml",
            "destroy-dev.yml"} <= names
    assert action_paths(), "the composite action is missing"


def test_workflows_match_the_github_workflow_schema():
    proc = run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                *map(str, workflow_paths())])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_composite_actions_match_the_github_action_schema():
    proc = run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions",
                *map(str, action_paths())])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_rejects_an_invalid_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    steps: []\n", encoding="utf-8")  # no runs-on
    proc = run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad)])
    assert proc.returncode != 0


def test_zizmor_finds_nothing_of_medium_severity_or_above():
    findings, log = zizmor(GITHUB_DIR, ROOT)
    audited = {line.rsplit("completed ", 1)[1].strip() for line in log.splitlines()
               if "completed " in line}
    expected = {str(p.relative_to(ROOT)) for p in [*workflow_paths(), *action_paths()]}
    assert expected <= audited, f"zizmor did not audit {sorted(expected - audited)}"
    blocking = [
        (f["ident"], f["determinations"]["severity"],
         f["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"],
         f["locations"][0]["concrete"]["location"]["start_point"]["row"] + 1)
        for f in findings if f["determinations"]["severity"] in BLOCKING
    ]
    assert blocking == [], "zizmor findings (audit, severity, file, line): " + repr(blocking)


@pytest.mark.parametrize("audit", ["template-injection", "unpinned-uses", "dangerous-triggers",
                                   "artipacked"])
def test_zizmor_flags_a_known_bad_workflow(tmp_path, audit):
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "bad.yml").write_text(BAD_WORKFLOW, encoding="utf-8")
    findings, _ = zizmor(tmp_path, tmp_path)
    flagged = {f["ident"] for f in findings if f["determinations"]["severity"] in BLOCKING}
    assert audit in flagged, f"zizmor missed {audit}; flagged {sorted(flagged)}"
