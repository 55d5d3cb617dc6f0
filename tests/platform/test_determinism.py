"""The same code and config give byte-identical resource inputs: a second `pulumi up`
changes nothing."""
from __future__ import annotations

import json

import pytest

from tests.support.stacks import run_stack


def _snapshot(run) -> str:
    # Keyed by URN: registration order is async and not part of what the engine diffs.
    by_urn = {r.urn: [r.inputs, r.provider, r.retain_on_delete, r.protect] for r in run.resources}
    assert len(by_urn) == len(run.resources), "URNs are unique"
    return json.dumps({"resources": by_urn, "outputs": run.outputs}, sort_keys=True, default=str)


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_two_runs_register_byte_identical_inputs(stack, registry):
    outputs = None if stack == "registry" else registry.outputs
    first = run_stack(stack, registry_outputs=outputs)
    second = run_stack(stack, registry_outputs=outputs)
    assert len(first.resources) > 20
    assert _snapshot(first) == _snapshot(second)
