"""Reading built pipeline definitions in tests: steps by name, job types, every string."""
from __future__ import annotations

import json


def steps_by_name(definition: str) -> dict[str, dict]:
    """Every step of a definition (condition branches included), by name."""
    found: dict[str, dict] = {}

    def walk(steps):
        for step in steps:
            found[step["Name"]] = step
            for branch in ("IfSteps", "ElseSteps"):
                walk(step.get("Arguments", {}).get(branch, []))

    walk(json.loads(definition)["Steps"])
    return found


JOB_TYPES = ("Processing", "Training", "Transform")


def all_strings(node):
    """Every string value anywhere in a parsed definition."""
    if isinstance(node, dict):
        for value in node.values():
            yield from all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_strings(value)
    elif isinstance(node, str):
        yield node
