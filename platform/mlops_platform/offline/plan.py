"""`python -m mlops_platform plan`: what each stack declares and how the accounts connect, from the
real stack files, with no credentials and no Pulumi CLI.

Every stack's config is checked before any is planned, and every problem of every stack is
reported, each with its file and key (exit 2). Then the program runs per stack under mocks, and
the plan prints as text, as JSON (`--json`), or as the difference from a saved plan (`--diff`,
exit 1 when anything changed, 0 when nothing did, like `diff`).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from mlops_platform.offline import plan_diff
from mlops_platform.offline.plan_document import document, dumps, render
from mlops_platform.offline.runner import STACKS, StackRun, run_stack
from mlops_platform.offline.stack_files import (
    PROJECT_FILE,
    ROOT,
    StackConfig,
    StackFileError,
    read_stack_config,
    stack_file_name,
)
from mlops_platform.settings import ConfigError

OK, CHANGED, USAGE_OR_CONFIG = 0, 1, 2
SAVE_HINT = "save a plan first: python -m mlops_platform plan --json > plan.json"
EPILOG = """exit status: 0 planned (with --diff: no change), 1 with --diff: the plan changed,
2 bad arguments or invalid stack configuration (every problem of every stack is listed)."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mlops_platform plan", description=__doc__.split("\n\n")[0],
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stack", choices=STACKS, action="append",
                   help="stack to plan (repeatable; default: all three, or with --diff those in the saved plan)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the plan as JSON (sorted; see README)")
    out.add_argument("--diff", metavar="OLD.json", type=Path,
                     help="print what changed since a plan saved with --json")
    return p


def main(argv: list[str] | None = None, *, root: Path = ROOT, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = parser().parse_args(argv)
    saved = None
    if args.diff is not None:
        try:
            saved = plan_diff.check_saved(_read_json(args.diff), str(args.diff))
        except plan_diff.PlanFileError as why:
            print(f"error: --diff: {why}", file=err)
            return USAGE_OR_CONFIG
    stacks = _selected(args.stack, saved, args.diff)
    if isinstance(stacks, str):
        print(f"error: --diff: {stacks}", file=err)
        return USAGE_OR_CONFIG
    runs, problems = plan_stacks(stacks, root)
    if problems:
        print(f"error: {len(problems)} configuration problem(s); nothing was planned. "
              "Fix each in the file it names, then plan again:", file=err)
        print("\n".join(f"  {p}" for p in problems), file=err)
        return USAGE_OR_CONFIG
    doc = document(runs)
    if args.json:
        out.write(dumps(doc))
        return OK
    if saved is not None:
        return _print_diff(saved, doc, args.diff, out)
    print(render(doc), file=out, flush=True)
    return OK


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as why:
        raise plan_diff.PlanFileError(f"cannot read {path} ({why.strerror}): {SAVE_HINT}.") from why
    except (json.JSONDecodeError, UnicodeDecodeError) as why:
        raise plan_diff.PlanFileError(f"{path} is not JSON ({why}): {SAVE_HINT}.") from why


def _selected(chosen: list[str] | None, saved: dict | None, source: Path | None) -> list[str] | str:
    """The stacks to plan, in the platform's order; a problem as text."""
    if chosen:
        return [s for s in STACKS if s in chosen]
    if saved is None:
        return list(STACKS)
    unknown = sorted(s for s in saved["stacks"] if s not in STACKS)
    if unknown:
        return f"{source} has stacks {unknown}, not among {', '.join(STACKS)}: {SAVE_HINT}."
    return [s for s in STACKS if s in saved["stacks"]]


def _print_diff(saved: dict, doc: dict, path: Path, out: TextIO) -> int:
    """Compare the planned stacks only: `--stack dev` against a saved plan of all three compares dev."""
    compared = {**saved, "stacks": {s: v for s, v in saved["stacks"].items() if s in doc["stacks"]}}
    lines = plan_diff.diff(compared, doc)
    names = ", ".join(doc["stacks"])
    if not lines:
        print(f"no changes: the plan of {names} matches {path}", file=out)
        return OK
    print(f"{len(lines)} change(s) since {path} ({names}):", file=out)
    print("\n".join(f"  {line}" for line in lines), file=out)
    return CHANGED


def plan_stacks(stacks: list[str], root: Path = ROOT) -> tuple[dict[str, StackRun], list[str]]:
    """Check every needed stack's config, then run each; problems of all stacks, each with its file.

    Workload stacks read the registry's exports, so the registry is run whenever one is planned."""
    needed = stacks if stacks == ["registry"] else ["registry", *[s for s in stacks if s != "registry"]]
    problems: list[str] = []
    configs = {s: c for s in needed if (c := _checked_config(s, root, problems)) is not None}
    if problems:
        return {}, _unique(problems)
    runs: dict[str, StackRun] = {}
    for stack in needed:
        if stack != "registry" and "registry" not in runs:
            break  # the registry failed: its problems are reported, and no workload can run without it
        registry_outputs = runs["registry"].outputs if stack != "registry" else None
        run = _attempt(stack, configs[stack], problems, None, registry_outputs)
        if run is not None:
            runs[stack] = run
    return {s: runs[s] for s in stacks if s in runs}, _unique(problems)


def _checked_config(stack: str, root: Path, problems: list[str]) -> StackConfig | None:
    """The stack's config if its files read and its settings validate; its problems otherwise."""
    try:
        config = read_stack_config(stack, root)
    except StackFileError as error:
        problems += error.problems  # each already names its file
        return None
    from mlops_platform.program import read_settings

    return config if _attempt(stack, config, problems, read_settings, {}) is not None else None


def _attempt(stack: str, config: StackConfig, problems: list[str], program: Callable[[], object] | None,
             registry_outputs: dict | None) -> StackRun | None:
    """Run `program` (default: the whole program) for the stack; None after a config problem."""
    try:
        return run_stack(stack, config=config.values, secret_keys=config.secret_keys,
                         registry_outputs=registry_outputs, program=program)
    except ConfigError as error:
        problems += [located(stack, p, config) for p in error.problems]
        return None


KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+:[A-Za-z0-9_-]+)[A-Za-z0-9_.\[\]-]*: ")


def located(stack: str, problem: str, config: StackConfig) -> str:
    """The problem prefixed with the file its key is written in: the stack file, or Pulumi.yaml for
    a shared value (then it names the stack that read it)."""
    match = KEY.match(problem)
    origin = config.origins.get(match["key"]) if match else None
    if origin == PROJECT_FILE:
        return f"{PROJECT_FILE}: {problem} [read by stack {stack}]"
    return f"{stack_file_name(stack)}: {problem}"


def _unique(problems: list[str]) -> list[str]:
    """Each problem once; a shared value's problem names every stack that read it."""
    merged: dict[str, list[str]] = {}
    for p in problems:
        text, _, stack = p.partition(" [read by stack ")
        merged.setdefault(text, [])
        if stack:
            merged[text].append(stack.rstrip("]"))
    return [f"{text} (read by stacks {', '.join(stacks)})" if stacks else text for text, stacks in merged.items()]
