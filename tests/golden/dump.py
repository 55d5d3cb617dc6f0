"""A golden dump of every stack's resource inputs, for refactors that must change nothing.

`python -m tests.golden.dump` rewrites `tests/golden/<stack>.json` from the current code; the
test in `test_golden.py` compares today's program with the committed files. A change to a dump
is a change to what `pulumi up` would send: review it as such, and regenerate only on purpose.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.support.stacks import STACKS, StackRun, run_stack

HERE = Path(__file__).resolve().parent


def snapshot(run: StackRun) -> dict[str, Any]:
    """Inputs, provider and options per URN (registration order is async and not diffed)."""
    resources = {r.urn: {"inputs": r.inputs, "provider": r.provider,
                         "retainOnDelete": r.retain_on_delete, "protect": r.protect}
                 for r in run.resources}
    return json.loads(json.dumps({"resources": resources, "outputs": run.outputs},
                                 sort_keys=True, default=str))


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def current() -> dict[str, dict[str, Any]]:
    registry = run_stack("registry")
    runs = {"registry": registry}
    for stack in STACKS[1:]:
        runs[stack] = run_stack(stack, registry_outputs=registry.outputs)
    return {stack: snapshot(run) for stack, run in runs.items()}


def main() -> int:
    for stack, data in current().items():
        (HERE / f"{stack}.json").write_text(render(data))
        print(f"wrote tests/golden/{stack}.json ({len(data['resources'])} resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
