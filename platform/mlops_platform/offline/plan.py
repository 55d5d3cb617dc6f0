"""`python -m mlops_platform plan`: what each stack declares and how the accounts connect,
from the real stack files, with no credentials and no Pulumi CLI."""
from __future__ import annotations

import argparse
import json
import re
from collections import Counter

from mlops_platform.offline.runner import STACKS, StackRun, run_stack
from mlops_platform.settings import ConfigError

def cross_account_wiring(run: StackRun, own_account: str) -> list[str]:
    """One line per policy statement that names another account's principal or resource."""
    lines = []
    for r, doc in run.policy_documents():
        for s in doc["Statement"]:
            names = json.dumps([s.get("Principal"), s.get("Condition"), s.get("Resource")])
            others = sorted({a for a in _accounts_in(names) if a != own_account})
            if others:
                actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
                lines.append(f"{r.name:<22} {s['Effect']:<5} {s.get('Sid', ''):<42} "
                             f"accounts {','.join(others)}  ({len(actions)} actions)")
    return lines


def _accounts_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![0-9])([0-9]{12})(?![0-9])", text))


def render(run: StackRun) -> str:
    account = run.outputs.get("accountId", "?")
    custom = [r for r in run.resources if not r.type.startswith(("mlops:", "pulumi:pulumi:Stack"))]
    out = [f"== stack {run.stack} (account {account}, {len(custom)} resources)"]
    for typ, n in sorted(Counter(r.type for r in custom).items()):
        out.append(f"  {n:>3}  {typ}")
    out.append("  cross-account wiring:")
    out += [f"    {line}" for line in cross_account_wiring(run, account)] or ["    (none)"]
    refs = [r.name for r in run.resources if r.type == "pulumi:pulumi:StackReference"]
    if refs:
        out.append(f"  reads stack: {', '.join(refs)}")
    out.append("  exports: " + ", ".join(sorted(run.outputs)))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_platform plan", description=__doc__)
    parser.add_argument("--stack", choices=STACKS, action="append",
                        help="stack to plan (repeatable; default: all three, registry first)")
    args = parser.parse_args(argv)
    registry = None
    try:
        for stack in args.stack or STACKS:
            if stack != "registry" and registry is None:
                registry = run_stack("registry")
            run = run_stack(stack, registry_outputs=None if stack == "registry" else registry.outputs)
            registry = run if stack == "registry" else registry
            print(render(run), flush=True)
    except ConfigError as err:
        print(f"error: {err}")
        return 2
    return 0
