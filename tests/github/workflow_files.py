"""Loading the GitHub workflows and composite actions, and running their shell steps locally.

The tests read the YAML exactly as GitHub does (PyYAML turns the `on:` key into `True`,
so `triggers()` looks under both). Shell steps are run with bash, as the runner does,
with `${{ }}` expressions in their `env:` replaced by values the test gives explicitly.
"""
from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB_DIR = ROOT / ".github"
WORKFLOWS_DIR = GITHUB_DIR / "workflows"
ACTIONS_DIR = GITHUB_DIR / "actions"

# Deploy order of the three stacks of the one Pulumi program (DESIGN.md).
STACKS = ("registry", "dev", "prod")

CHECKOUT = "actions/checkout"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
PULUMI_AUTH = "pulumi/auth-actions"
PULUMI = "pulumi/actions"
GITHUB_APP_TOKEN = "actions/create-github-app-token"
# Pulumi commands that change a stack or its state; `preview` only reads.
MUTATING_COMMANDS = {"up", "update", "destroy", "refresh", "import"}

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def workflow_paths() -> list[Path]:
    """Every workflow file, sorted by name."""
    return sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])


def action_paths() -> list[Path]:
    """Every local composite action definition."""
    return sorted([*ACTIONS_DIR.rglob("action.yml"), *ACTIONS_DIR.rglob("action.yaml")])


def load(path: Path) -> dict[str, Any]:
    """Parse one workflow or action file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow(name: str) -> dict[str, Any]:
    """Parse `.github/workflows/<name>`."""
    return load(WORKFLOWS_DIR / name)


def triggers(wf: Mapping[str, Any]) -> dict[str, Any]:
    """The `on:` map of a workflow, normalised to a dict of event -> settings."""
    on = wf.get("on", wf.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {event: None for event in on}
    return dict(on or {})


def steps_of(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The steps of a job (empty for a job that calls a reusable workflow)."""
    return list(job.get("steps") or [])


def all_steps() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(file, where, step) for every step of every workflow job and composite action."""
    for path in workflow_paths():
        for job_id, job in load(path)["jobs"].items():
            for step in steps_of(job):
                yield path, job_id, step
    for path in action_paths():
        for step in load(path)["runs"].get("steps", []):
            yield path, "composite", step


def action_name(step: Mapping[str, Any]) -> str | None:
    """`owner/repo` of a step's `uses:` (without the ref), or None for a `run:` step."""
    uses = step.get("uses")
    return uses.split("@", 1)[0] if uses else None


def steps_using(job: Mapping[str, Any], action: str) -> list[dict[str, Any]]:
    """The steps of a job that use the given action."""
    return [s for s in steps_of(job) if action_name(s) == action]


def environment_name(job: Mapping[str, Any]) -> str | None:
    """The GitHub environment a job is bound to (string or `{name: ...}` form)."""
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def ancestors(jobs: Mapping[str, Any], job_id: str) -> set[str]:
    """Every job that must finish before `job_id` starts (transitive `needs`)."""
    seen: set[str] = set()
    todo = [job_id]
    while todo:
        needs = jobs[todo.pop()].get("needs") or []
        for need in [needs] if isinstance(needs, str) else needs:
            if need not in seen:
                seen.add(need)
                todo.append(need)
    return seen


def step_by_name(job: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The one step of a job whose name starts with `prefix`."""
    found = [s for s in steps_of(job) if str(s.get("name", "")).startswith(prefix)]
    assert len(found) == 1, f"expected one step named {prefix!r}, found {len(found)}"
    return found[0]


def resolve_env(step_env: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    """Replace each `${{ expr }}` in a step's env by `values[expr]`; fail on unknown ones."""
    out = {}
    for key, raw in step_env.items():
        text = str(raw)

        def sub(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr not in values:
                raise KeyError(f"env {key} uses ${{{{ {expr} }}}}: give the test a value for it")  # noqa: B023  (called within this iteration)
            return values[expr]

        out[key] = EXPRESSION.sub(sub, text)
    return out


def run_step(step: Mapping[str, Any], values: Mapping[str, str], workdir: Path,
             extra_env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a `run:` step with bash as the runner does (`bash -e`), in `workdir`.

    GITHUB_OUTPUT and GITHUB_STEP_SUMMARY point at files in `workdir`; the process sees
    only PATH/HOME plus the step's resolved env and `extra_env`.
    """
    script = workdir / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "LANG": "C.UTF-8",
           "GITHUB_OUTPUT": str(workdir / "output"),
           "GITHUB_STEP_SUMMARY": str(workdir / "summary")}
    env.update(resolve_env(step.get("env") or {}, values))
    env.update(extra_env or {})
    # The runner's own command lines: no `shell:` means `bash -e {0}`; `shell: bash` adds pipefail.
    shell = step.get("shell")
    if shell is None:
        argv = ["bash", "-e", str(script)]
    elif shell == "bash":
        argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
    else:
        raise AssertionError(f"step {step.get('name')!r} uses shell {shell!r}; tests run bash only")
    return subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
