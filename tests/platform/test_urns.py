"""The first model keeps every URN it had before models were configurable, so a deployed stack is
updated in place, never replaced (the issue's "aliases": nothing moved, so none is needed).

Two lists of the URNs before issue 13, each stack run with the configuration of that time:
- tests/golden/urns_before_issue_13.json: as Pulumi's mock monitor writes them (only the parent's
  last type in the type part);
- engine_urns_before_issue_13.json (beside this file): as the engine writes them (the full type
  chain of every ancestor), which is what state holds: a resource moved under a new component
  keeps its mock URN but not its engine URN. Made from that commit's program by the same rule
  as `engine_urn` below (pulumi/pulumi `generateURN`; see tests/github/pulumi_urns.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.stacks import StackRun

HERE = Path(__file__).resolve().parent
MOCK_BEFORE = json.loads((HERE.parent / "golden" / "urns_before_issue_13.json").read_text())
ENGINE_BEFORE = json.loads((HERE / "engine_urns_before_issue_13.json").read_text())
STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urns(run: StackRun) -> set[str]:
    """Every resource's URN as the engine names it: the type part is the full chain of ancestor
    types (the root stack's left out), then the resource's type."""
    by_urn = {r.urn: r for r in run.resources}

    def chain(urn: str) -> str:
        r = by_urn[urn]
        parent = by_urn.get(r.parent)
        return r.type if parent is None else f"{chain(parent.urn)}${r.type}"

    project = run.resources[0].urn.split("::")[1]
    stack_urn = f"urn:pulumi:{run.stack}::{project}::{STACK_TYPE}::{project}-{run.stack}"
    return {f"urn:pulumi:{run.stack}::{project}::{chain(r.urn)}::{r.name}" for r in run.resources} | {stack_urn}


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_every_resource_of_the_first_model_keeps_its_urn(stack, stacks):
    now = {r.urn for r in stacks[stack].resources}
    missing = sorted(set(MOCK_BEFORE[stack]) - now)
    assert not missing, f"{len(missing)} resources would be replaced or deleted: {missing}"


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_every_resource_keeps_its_engine_urn_so_none_moved_under_another_component(stack, stacks):
    missing = sorted(set(ENGINE_BEFORE[stack]) - engine_urns(stacks[stack]))
    assert not missing, f"{len(missing)} resources changed their engine URN (moved, renamed): {missing}"


def test_the_engine_urn_rule_reproduces_the_lists(stacks):
    # The two lists were made from one program: each engine URN ends as its mock URN does.
    for stack, urns in ENGINE_BEFORE.items():
        tails = {(u.rsplit("::", 1)[1], u.split("::")[2].rsplit("$", 1)[-1]) for u in urns}
        mock_tails = {(u.rsplit("::", 1)[1], u.split("::")[2].rsplit("$", 1)[-1]) for u in MOCK_BEFORE[stack]}
        assert mock_tails <= tails and len(urns) == len(MOCK_BEFORE[stack]) + 1  # + the stack itself


# What issue 13 adds for the stack or the first model, beside every other model's resources: the
# approval workflow's list of groups, the first model's schema document and the steps' shared modules;
# and issue 14 the capture step's script (one for every model, live drift of served models).
ADDED = {"registry": ("repo-MODEL_PACKAGE_GROUPS",), "dev": ("schema", "library-", "script-capture_batch"),
         "prod": ("schema", "library-", "script-capture_batch")}


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_every_new_resource_is_another_models_or_a_deliberate_addition(stack, stacks):
    run = stacks[stack]
    models = set(run.outputs["modelPackageGroups" if stack == "registry" else "models"])
    others = models - {run.outputs.get("firstModel", "mammography")}
    assert others, "the shipped configuration has a second model"
    new = {r.name for r in run.resources} - {u.rsplit("::", 1)[1] for u in MOCK_BEFORE[stack]}
    unexplained = sorted(n for n in new if not any(n.startswith(f"{m}-") for m in others)
                         and not any(n == a or (a.endswith("-") and n.startswith(a)) for a in ADDED[stack]))
    assert unexplained == []
    assert all(any(n.startswith(f"{m}-") for n in new) for m in others), "each other model has its own resources"
