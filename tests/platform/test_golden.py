"""Every stack's resource inputs equal the committed golden dump: refactors change nothing.

A deliberate change (a security fix, a new resource) regenerates the dump with
`python -m tests.golden.dump`, and the diff of `tests/golden/*.json` is reviewed with it.
"""
from __future__ import annotations

import json

import pytest

from tests.golden.dump import HERE, snapshot
from tests.support.stacks import StackRun


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_resource_inputs_match_the_golden_dump(stack, stacks: dict[str, StackRun]):
    golden = json.loads((HERE / f"{stack}.json").read_text())
    now = snapshot(stacks[stack])
    added = sorted(set(now["resources"]) - set(golden["resources"]))
    removed = sorted(set(golden["resources"]) - set(now["resources"]))
    assert not added and not removed, f"URNs added {added}, removed {removed}"
    changed = [urn for urn in golden["resources"] if golden["resources"][urn] != now["resources"][urn]]
    assert not changed, f"inputs changed for {changed}"
    assert now["outputs"] == golden["outputs"]
