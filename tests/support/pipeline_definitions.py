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


# List elements named by one of these keys are addressed by that name, so a path stays the same
# when an element is added before it (`Steps[Preprocess].Arguments.ProcessingInputs[schema]`).
_ELEMENT_NAMES = ("Name", "InputName", "OutputName", "ChannelName", "Key")


def _label(element, index: int) -> str:
    if isinstance(element, dict):
        for key in _ELEMENT_NAMES:
            if isinstance(element.get(key), str):
                return element[key]
    return str(index)


def differences(a, b, path: str = "") -> set[str]:
    """The paths where two parsed definitions differ (a value, a key present in one only)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found: set[str] = set()
        for key in sorted(set(a) | set(b)):
            where = f"{path}.{key}" if path else key
            found |= differences(a.get(key), b.get(key), where) if key in a and key in b else {where}
        return found
    if isinstance(a, list) and isinstance(b, list):
        named_a = {_label(e, i): e for i, e in enumerate(a)}
        named_b = {_label(e, i): e for i, e in enumerate(b)}
        if len(named_a) != len(a) or len(named_b) != len(b) or set(named_a) != set(named_b):
            return {path} if a != b else set()
        found = set()
        for label in named_a:
            found |= differences(named_a[label], named_b[label], f"{path}[{label}]")
        return found
    return set() if a == b else {path}


def write_shared_inputs(base_dir, model) -> None:
    """Lay out what every step script gets beside its data, as a processing job mounts it: the
    model's schema document and the shared step modules (ml/contract.py)."""
    import shutil
    from pathlib import Path

    from ml import contract

    schema_dir, library_dir = Path(base_dir) / contract.SCHEMA_INPUT_DIR, Path(base_dir) / contract.STEP_LIBRARY_INPUT_DIR
    schema_dir.mkdir(parents=True, exist_ok=True)
    library_dir.mkdir(parents=True, exist_ok=True)
    (schema_dir / contract.SCHEMA_FILE).write_bytes(model.schema.document_bytes(model.name))
    for name in contract.STEP_LIBRARY_MODULES:
        shutil.copy(contract.STEPS_DIR / name, library_dir / name)
