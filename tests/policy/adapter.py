"""Turns what the mock harness recorded into what the policy engine hands the pack.

The engine gives a policy each resource's type, name, URN, inputs (camelCase, JSON strings
where the program passed JSON) and, for stack policies, property dependencies and outputs.
`Registered` has all but the dependencies and outputs: those are rebuilt here from the ids
and outputs the harness's own mocks returned to the program, so a companion whose `bucket`
input is the mocked bucket id depends on that bucket, as the engine would record.
"""
from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from mlops_platform.offline.runner import RecordingMocks
from mlops_policies.catalog import context_from
from mlops_policies.documents import string_leaves
from mlops_policies.model import Resource, StackContext
from tests.support.stacks import StackRun, encode, stack_config

STACK_REFERENCE = "pulumi:pulumi:StackReference"
_OUTPUT_KEYS = ("arn", "keyId", "url")


def context_for(stack: str) -> StackContext:
    """The context the pack builds from PULUMI_CONFIG: the real stack config, engine-encoded."""
    config, _secrets = stack_config(stack)
    ctx = context_from(encode(config), stack)
    assert isinstance(ctx, StackContext), ctx
    return ctx


def resources_of(run: StackRun, registry_outputs: dict[str, Any] | None = None) -> list[Resource]:
    """Every custom resource of a run, with dependencies; StackReferences carry `outputs`."""
    config, _ = stack_config(run.stack)
    mocks = RecordingMocks(run.stack, config, registry_outputs)
    owners: dict[str, set[str]] = defaultdict(set)
    custom = [r for r in run.resources if not r.type.startswith("mlops:") and r.type != "pulumi:providers:aws"]
    for r in custom:
        for value in _identities(mocks, r):
            owners[value].add(r.urn)
    out = []
    for r in custom:
        props = dict(r.inputs)
        if r.type == STACK_REFERENCE:
            props["outputs"] = dict(registry_outputs or {})
        deps = {k: frozenset(u for leaf in string_leaves(v) for u in owners.get(leaf, ()) if u != r.urn)
                for k, v in r.inputs.items()}
        out.append(Resource(type=r.type, name=r.name, props=props, urn=r.urn, protect=r.protect,
                            retain_on_delete=r.retain_on_delete, dependencies={k: v for k, v in deps.items() if v}))
    return out


def _identities(mocks: RecordingMocks, r) -> set[str]:
    if r.type == STACK_REFERENCE:
        return set()
    rid, state = mocks.new_resource(SimpleNamespace(typ=r.type, name=r.name, inputs=dict(r.inputs)))
    return {rid} | {state[k] for k in _OUTPUT_KEYS if isinstance(state.get(k), str)}
