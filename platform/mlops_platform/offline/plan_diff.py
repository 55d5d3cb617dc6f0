"""What changed between a saved plan (`plan --json`) and now: a preview-like review without the CLI.

Lines read `<stack>: + <resource>` (added), `- <resource>` (removed) and `~ <resource>  <property>:
<old> -> <new>` (changed); lists of names show what was added and removed. A resource whose parent
changed gets a new URN in Pulumi, so the line says it would be replaced unless aliased; a change to
inputs that no reviewed property shows is still reported, by the inputs' digest.
"""
from __future__ import annotations

import json
from typing import Any, TypeGuard

from mlops_platform.offline.plan_document import FORMAT


class PlanFileError(ValueError):
    """The saved plan cannot be compared: the message says why and what to do."""


def check_saved(doc: Any, source: str) -> dict[str, Any]:
    """The saved plan, if it is one this version can compare."""
    if not isinstance(doc, dict) or not isinstance(doc.get("stacks"), dict):
        raise PlanFileError(f"{source} is not a saved plan (no `stacks` map): save one with "
                            "`python -m mlops_platform plan --json > plan.json`.")
    if doc.get("format") != FORMAT:
        raise PlanFileError(f"{source} has format {doc.get('format')!r}, this version reads {FORMAT!r}: "
                            "save the old plan again with this version, or compare with the version that wrote it.")
    return doc


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every difference between two plan documents, in the new plan's stack order."""
    lines = []
    names = list(new["stacks"]) + [s for s in old["stacks"] if s not in new["stacks"]]
    for stack in names:
        before, after = old["stacks"].get(stack), new["stacks"].get(stack)
        if before is None:
            lines.append(f"{stack}: + stack (not in the saved plan)")
        elif after is None:
            lines.append(f"{stack}: - stack (not planned now)")
        else:
            lines += [f"{stack}: {line}" for line in _stack_diff(before, after)]
    return lines


def _stack_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [f"~ {field}: {_show(old.get(field))} -> {_show(new.get(field))}"
             for field in ("stackFile", "account", "region") if old.get(field) != new.get(field)]
    before, after = old.get("resources", {}), new.get("resources", {})
    for key in sorted(set(before) | set(after)):
        if key not in before:
            lines.append(f"+ {key}")
        elif key not in after:
            lines.append(f"- {key}")
        else:
            lines += [f"~ {key}  {change}" for change in _resource_changes(before[key], after[key])]
    lines += _set_diff("cross-account", [_wiring(w) for w in old.get("crossAccount", [])],
                       [_wiring(w) for w in new.get("crossAccount", [])])
    lines += _set_diff("reads stack", old.get("readsStacks", []), new.get("readsStacks", []))
    lines += _set_diff("warning", old.get("warnings", []), new.get("warnings", []))
    lines += [f"~ export {c}" for c in _value_changes(old.get("exports", {}), new.get("exports", {}))]
    return lines


def _resource_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    if old.get("parent") != new.get("parent"):
        changes.append(f"parent: {_show(old.get('parent'))} -> {_show(new.get('parent'))} (a new URN: Pulumi "
                       "replaces the resource unless an alias names the old one)")
    if old.get("kind") != new.get("kind"):
        changes.append(f"kind: {old.get('kind')} -> {new.get('kind')}")
    changes += _value_changes(old.get("properties", {}), new.get("properties", {}))
    if not changes and old.get("inputsDigest") != new.get("inputsDigest"):
        changes.append("inputs changed outside the reviewed properties (see the resource's inputs, or "
                       "`pulumi preview --diff`)")
    return changes


def _value_changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    changes = []
    for key in sorted(set(old) | set(new), key=str):
        path, a, b = f"{prefix}{key}", old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            changes += _value_changes(a, b, f"{path}.")
        elif key not in old:
            changes.append(f"{path}: added {_show(b)}")
        elif key not in new:
            changes.append(f"{path}: removed (was {_show(a)})")
        elif _names(a) and _names(b):
            added, removed = sorted(set(b) - set(a)), sorted(set(a) - set(b))
            parts = [f"+{x}" for x in added] + [f"-{x}" for x in removed]
            changes.append(f"{path}: {' '.join(parts) if parts else f'{_show(a)} -> {_show(b)}'}")
        else:
            changes.append(f"{path}: {_show(a)} -> {_show(b)}")
    return changes


def _names(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _set_diff(label: str, old: list[str], new: list[str]) -> list[str]:
    return ([f"+ {label} {x}" for x in sorted(set(new) - set(old))]
            + [f"- {label} {x}" for x in sorted(set(old) - set(new))])


def _wiring(w: dict[str, Any]) -> str:
    return (f"{w.get('resource')} {w.get('effect')} {w.get('sid')} accounts {','.join(w.get('accounts', []))} "
            f"actions {','.join(w.get('actions', []))}")


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":")) if not isinstance(value, str) else value
