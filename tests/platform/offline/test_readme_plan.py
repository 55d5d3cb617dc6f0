"""The README's offline-plan examples are the real output: the plan excerpt, the diff and the
config-error listing, each produced here and compared."""
from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

from mlops_platform.offline.plan import main
from mlops_platform.offline.stack_files import ROOT

ELLIPSIS = "  ..."


def _example(name: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:.*?-->\n```text\n(.*?)\n```", text, re.S)
    assert match, f"README has no {name} block"
    return match[1].split("\n")


def _run(argv: list[str], root: Path = ROOT) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, root=root, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_plan_excerpt_is_real_lines_in_their_order():
    code, out, _ = _run(["--stack", "prod"])
    real, example = out.split("\n"), _example("plan-example")
    assert code == 0 and example[:3] == real[:3]
    position = -1
    for line in (x for x in example if x != ELLIPSIS):
        assert line in real[position + 1:], f"not in the real plan after line {position}: {line!r}"
        position = real.index(line, position + 1)


def test_the_diff_example_is_real(tmp_path):
    for f in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    code, saved, _ = _run(["--stack", "prod", "--json"], tmp_path)
    (tmp_path / "plan.json").write_text(saved)
    prod = tmp_path / "Pulumi.prod.yaml"
    before = prod.read_text()
    after = re.sub(r'aucThreshold: "[0-9.]+"', 'aucThreshold: "0.9"', before)
    after = re.sub(r"inferenceSchedule: .*", "inferenceSchedule: cron(0 4 ? * MON-FRI *)", after)
    prod.write_text(after)
    code, out, _ = _run(["--diff", str(tmp_path / "plan.json")], tmp_path)
    assert code == 1 and json.loads(saved)["format"]
    assert out.replace(str(tmp_path / "plan.json"), "plan.json").rstrip("\n").split("\n") == _example("diff-example")


def test_the_error_example_is_real(broken_project):
    code, out, err = _run([], broken_project)
    assert (code, out) == (2, "")
    assert err.rstrip("\n").split("\n") == _example("error-example")
