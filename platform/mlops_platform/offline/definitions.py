"""`python -m mlops_platform definitions`: the SageMaker pipeline definitions each workload
stack deploys, as readable files (`DIR/dev/training.json`, `DIR/prod/inference.json`, ...).

The stacks run offline, exactly as `plan` runs them, and each file is the `definition` input
of one pipeline resource, indented with sorted keys so that two runs can be diffed; the
deployed definition is the same JSON without whitespace. ARNs of keys and other resources
that only exist once deployed are the offline run's stand-ins (e.g. `key/data-key-key-id`).
Only the files named above are written: nothing else in DIR is touched.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mlops_platform.offline.runner import StackRun, run_stack
from mlops_platform.settings import ConfigError

WORKLOAD_STACKS = ("dev", "prod")
DEFAULT_OUT = Path("out/definitions")
# The dynamic resource's type ends with this, whatever module registers it.
PIPELINE_TYPE_SUFFIX = ":SageMakerPipeline"


class UsageError(Exception):
    """A bad argument, reported with the fix and exit code 2."""


def pipeline_definitions(run: StackRun) -> dict[str, str]:
    """Each pipeline's definition by its resource name (`training`, `inference`)."""
    return {r.name: r.inputs["definition"] for r in run.resources
            if r.type.endswith(PIPELINE_TYPE_SUFFIX) and isinstance(r.inputs.get("definition"), str)}


def readable(definition: str) -> str:
    """The definition indented, keys sorted: one line per value, stable across runs."""
    return json.dumps(json.loads(definition), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_definitions(run: StackRun, out: Path) -> list[Path]:
    """Write `out/<stack>/<pipeline>.json` for every pipeline of `run`; the paths written."""
    directory = out / run.stack
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, definition in sorted(pipeline_definitions(run).items()):
        path = directory / f"{name}.json"
        path.write_text(readable(definition))
        written.append(path)
    return written


def prepare_out(out: Path) -> None:
    """Create `out`, refusing one that is a file or cannot be written, before any stack runs."""
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UsageError(f"--out {out}: {existing} is a file, not a directory; give a directory path")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: {existing} is not writable; choose a directory you can write to")
    out.mkdir(parents=True, exist_ok=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlops_platform definitions",
                                     description="Write each workload stack's pipeline definitions as "
                                                 "DIR/<stack>/<pipeline>.json.")
    parser.add_argument("--stack", action="append", metavar="{dev,prod}",
                        help="workload stack (repeatable; default: dev and prod)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"directory to write <stack>/<pipeline>.json into (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    for stack in args.stack or ():
        if stack not in WORKLOAD_STACKS:
            why = "deploys no pipelines" if stack == "registry" else "is not a stack of this project"
            parser.error(f"--stack {stack}: {stack!r} {why}; choose one of {', '.join(WORKLOAD_STACKS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Write the definitions; 0 on success, 2 on a bad argument or stack configuration."""
    args = parse(sys.argv[1:] if argv is None else argv)
    stacks = list(dict.fromkeys(args.stack or WORKLOAD_STACKS))
    try:
        prepare_out(args.out)
        registry = run_stack("registry")
        for stack in stacks:
            for path in write_definitions(run_stack(stack, registry_outputs=registry.outputs), args.out):
                print(path, flush=True)
    except (ConfigError, UsageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: --out {args.out}: {err.strerror or err}: {err.filename or args.out}; "
              "choose a directory you can write to", file=sys.stderr)
        return 2
    return 0
