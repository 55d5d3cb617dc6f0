"""The offline runner: runs the program through pulumi's public API only, and records what a
reviewer needs (GitHub logins behind user ids)."""
from __future__ import annotations

import ast
import asyncio
import inspect

import pulumi
import pytest

from mlops_platform.offline import runner
from tests.support.stacks import run_stack


def _pulumi_names_used(module) -> set[str]:
    """Every name the module takes from the pulumi package: imports and attribute chains."""
    tree = ast.parse(inspect.getsource(module))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi"):
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Attribute):
            chain, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                chain.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in ("pulumi", "rpc", "pmocks", "rsettings"):
                names.add(".".join([value.id, *reversed(chain)]))
    return names


def test_the_runner_uses_no_private_pulumi_function():
    used = _pulumi_names_used(runner)
    assert "pulumi.runtime.run_in_stack" in used  # the language host's entry point, public
    private = sorted(n for n in used if any(part.startswith("_") for part in n.split(".")))
    assert private == []


def test_run_in_stack_is_part_of_pulumis_public_runtime_api():
    assert "run_in_stack" in pulumi.runtime.__all__ and "deserialize_properties" in dir(pulumi.runtime.rpc)


def test_a_run_records_the_registry_exports_and_resources(registry):
    assert registry.outputs["role"] == "registry"
    assert registry.one("aws:s3/bucket:Bucket").custom and not registry.one(
        "mlops:storage:HardenedBucket", "artifacts").custom


def test_a_run_knows_the_logins_behind_github_user_ids(registry):
    expected = {runner.github_user(login)["id"]: login for login in ("alice-approver", "bob-approver")}
    assert {i: registry.github_logins[i] for i in expected} == expected


def test_run_stack_refuses_a_running_event_loop_with_a_clear_error():
    async def inside():
        with pytest.raises(RuntimeError, match="call it from synchronous code"):
            run_stack("registry", program=lambda: None)

    previous = asyncio.get_event_loop()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(inside())
    finally:
        loop.close()
        asyncio.set_event_loop(previous)  # the loop pulumi's runtime state was made on


def test_runs_in_a_row_start_from_a_clean_state(registry):
    again = run_stack("registry")
    assert sorted(r.name for r in again.resources) == sorted(r.name for r in registry.resources)
    assert again.outputs == registry.outputs
