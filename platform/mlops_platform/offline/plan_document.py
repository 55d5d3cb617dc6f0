"""The offline plan as data, and as text for people.

One document for all planned stacks; `--json` prints it, the text view and `--diff` read it, so
the three never disagree. Everything in it is sorted: the same code and config give the same
bytes, whatever order the program registered its resources in.

Shape (`format` names the version; a reader refuses other versions):

    {"format": "mlops-platform-plan/1",
     "stacks": {"<stack>": {
        "stackFile": "Pulumi.<stack>.yaml", "account": "<id>", "region": "<region>",
        "counts": {"total": n, "cloud": n, "providers": n, "components": n},
        "models": ["<first model>", "<the others, by name>"],
        "resources": {"<type>::<name>": {"type", "name", "kind": "custom|provider|component|stackReference",
                      "parent": "<type>::<name>" | null, "properties": {...}, "inputsDigest": "<hex>"}},
        "crossAccount": [{"resource", "sid", "effect", "accounts": [...], "actions": [...]}],
        "readsStacks": [...], "exports": {"<name>": <value>},
        "warnings": ["<what the program warned about, e.g. an endpoint model without a pinned version>"]}}}
"""
from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from typing import Any

from mlops_platform.offline.review import inputs_digest, plain, reviewed_properties
from mlops_platform.offline.runner import STACKS, Registered, StackRun
from mlops_platform.offline.stack_files import stack_file_name

FORMAT = "mlops-platform-plan/1"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
WIDTH = 120


def document(runs: dict[str, StackRun]) -> dict[str, Any]:
    """The plan of `runs` (stack name -> run), stacks in the platform's order."""
    ordered = sorted(runs, key=lambda s: (STACKS.index(s) if s in STACKS else len(STACKS), s))
    return {"format": FORMAT, "stacks": {s: stack_document(runs[s]) for s in ordered}}


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def stack_document(run: StackRun) -> dict[str, Any]:
    account = str(run.outputs.get("accountId", ""))
    keys = _keys(run.resources)
    resources = {}
    for r in run.resources:
        entry: dict[str, Any] = {"type": r.type, "name": r.name, "kind": kind(r),
                                 "parent": _parent_key(r.parent)}
        if entry["kind"] != "component":
            entry["properties"] = reviewed_properties(r, run)
            entry["inputsDigest"] = inputs_digest(r)
        resources[keys[id(r)]] = entry
    kinds = Counter(e["kind"] for e in resources.values())
    return {
        "stackFile": stack_file_name(run.stack),
        "account": account,
        "region": str(run.outputs.get("region", "")),
        "counts": {"total": kinds["custom"] + kinds["provider"] + kinds["component"], "cloud": kinds["custom"],
                   "providers": kinds["provider"], "components": kinds["component"]},
        "models": models(run),
        "resources": dict(sorted(resources.items())),
        "crossAccount": cross_account(run, account, keys),
        "readsStacks": sorted(r.name for r in run.resources if r.type == STACK_REFERENCE),
        "exports": {k: plain(v) for k, v in sorted(run.outputs.items())},
        # What `pulumi up` would print as warnings (the program's `pulumi.log.warn`), sorted.
        "warnings": sorted(set(run.warnings)),
    }


def models(run: StackRun) -> list[str]:
    """The stack's models from its exports, the first model first (the one whose resources keep
    the names they had before models were configurable; every other model's carry its name)."""
    exported = run.outputs.get("modelPackageGroups" if run.stack == "registry" else "models") or {}
    first = run.outputs.get("firstModel")
    return sorted(exported, key=lambda m: (m != first, m)) if isinstance(exported, dict) else []


def kind(r: Registered) -> str:
    if r.type == STACK_REFERENCE:
        return "stackReference"
    if r.type.startswith("pulumi:providers:"):
        return "provider"
    return "custom" if r.custom else "component"


def _keys(resources: list[Registered]) -> dict[int, str]:
    """`type::name` per resource; where two share it (different parents), the parent disambiguates."""
    plain_keys = Counter(f"{r.type}::{r.name}" for r in resources)
    keys = {}
    for r in resources:
        key = f"{r.type}::{r.name}"
        keys[id(r)] = key if plain_keys[key] == 1 else f"{key} (in {_parent_key(r.parent)})"
    return keys


def _parent_key(urn: str) -> str | None:
    """`type::name` of a parent URN (urn:pulumi:<stack>::<project>::<parent$...$type>::<name>)."""
    parts = urn.split("::") if urn else []
    if len(parts) < 4 or parts[2].endswith("pulumi:pulumi:Stack"):
        return None
    return f"{parts[2].split('$')[-1]}::{'::'.join(parts[3:])}"


def cross_account(run: StackRun, own_account: str, keys: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Every policy statement that names another account's principal or resource, sorted."""
    keys = keys or _keys(run.resources)
    entries = []
    for r, doc in run.policy_documents():
        statements = doc.get("Statement", [])
        for i, s in enumerate(statements if isinstance(statements, list) else [statements]):
            names = json.dumps([s.get("Principal"), s.get("Condition"), s.get("Resource")])
            others = sorted({a for a in re.findall(r"(?<![0-9])([0-9]{12})(?![0-9])", names) if a != own_account})
            if others:
                actions = s.get("Action", [])
                entries.append({"resource": keys[id(r)], "sid": str(s.get("Sid") or f"#{i + 1}"),
                                "effect": s.get("Effect"), "accounts": others,
                                "actions": sorted(set(actions if isinstance(actions, list) else [actions]))})
    return sorted(entries, key=lambda e: (e["resource"], e["sid"], json.dumps(e, sort_keys=True)))


# --- text ---------------------------------------------------------------------------------------

def render(doc: dict[str, Any]) -> str:
    """The whole plan for people: per stack, every resource by type with its reviewed properties."""
    return "\n".join(render_stack(name, stack) for name, stack in doc["stacks"].items())


def render_stack(name: str, stack: dict[str, Any]) -> str:
    c = stack["counts"]
    out = [f"== stack {name} ({stack['stackFile']}, account {stack['account']}, region {stack['region']})",
           f"  {c['total']} resources: {c['cloud']} AWS and GitHub resources, {c['providers']} providers and "
           f"{c['components']} components",
           f"  (components only group the others and create nothing; the benchmark counts all {c['total']})"]
    if stack.get("models"):
        first, *others = stack["models"]
        named = f"{first} (first: keeps its names)" + "".join(f", {m} ({m}-...)" for m in others)
        out += textwrap.wrap(f"models: {named}", WIDTH, initial_indent="  ", subsequent_indent="    ")
    listed = [(k, e) for k, e in stack["resources"].items() if e["kind"] in ("custom", "provider")]
    for typ in sorted({e["type"] for _, e in listed}):
        out.append(f"  {typ}")
        for _key, e in sorted(((k, e) for k, e in listed if e["type"] == typ), key=lambda ke: ke[0]):
            out += _resource_lines(e)
    out.append("  cross-account wiring:")
    wiring = stack["crossAccount"]
    widths = (max((len(w["resource"].split("::", 1)[1]) for w in wiring), default=0),
              max((len(w["sid"]) for w in wiring), default=0))
    out += [line for w in wiring for line in textwrap.wrap(
        _wiring_line(w, widths), WIDTH, initial_indent="    ", subsequent_indent=" " * 8)] or ["    (none)"]
    if stack["readsStacks"]:
        out.append(f"  reads stack: {', '.join(stack['readsStacks'])}")
    for warning in stack.get("warnings", []):
        out += textwrap.wrap(f"warning: {warning}", WIDTH, initial_indent="  ", subsequent_indent="    ")
    out += textwrap.wrap("exports: " + ", ".join(stack["exports"]), WIDTH, initial_indent="  ",
                         subsequent_indent="    ")
    return "\n".join(out)


def _resource_lines(entry: dict[str, Any]) -> list[str]:
    props = [(k, format_value(k, v)) for k, v in entry["properties"].items()]
    one_line = f"    {entry['name']:<28} " + "  ".join(f"{k}={v}" for k, v in props)
    if len(one_line) <= WIDTH:
        return [one_line.rstrip()]
    lines = [f"    {entry['name']}"]
    for k, v in props:
        if v[:1] in "[{":  # JSON is kept whole: a line break inside a string would change it
            lines.append(f"{' ' * 8}{k}: {v}")
            continue
        lines += textwrap.wrap(f"{k}: {v}", WIDTH, initial_indent=" " * 8, subsequent_indent=" " * 12,
                               break_long_words=False, break_on_hyphens=False)
    return lines


def format_value(key: str, value: Any) -> str:
    if key == "statements" and isinstance(value, dict):
        return ", ".join(f"{s.get('effect')} {sid} ({_count(s)})" for sid, s in sorted(value.items())) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, dict) and all(isinstance(v, (str, int, float, bool)) for v in value.values()):
        return ", ".join(f"{k}={format_value(k, v)}" for k, v in sorted(value.items())) or "(none)"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def _count(statement: dict[str, Any]) -> str:
    n = len(statement.get("actions") or statement.get("notActions") or [])
    return f"{n} action{'s' if n != 1 else ''}" if "actions" in statement else f"all but {n} actions"


def _wiring_line(w: dict[str, Any], widths: tuple[int, int]) -> str:
    name = w["resource"].split("::", 1)[1]
    n = len(w["actions"])
    return (f"{name:<{widths[0]}}  {w['effect']:<5} {w['sid']:<{widths[1]}}  accounts {','.join(w['accounts'])} "
            f"({n} action{'s' if n != 1 else ''})")
