"""Each role's boundary allows everything its own policy uses, on the resources it names: a
boundary that silently cut a permission would break the platform only in AWS. Decided for the
shipped stacks and for stacks that serve every model (its serving roles and what CI deploys)."""
from __future__ import annotations

from typing import Any

from tests.security.simulator import Principal, Request, as_list, judge, statements


def sample(pattern: str) -> str:
    """A concrete value a pattern matches (`*` alone stays: an unscoped action)."""
    return pattern if pattern == "*" else pattern.replace("*", "x").replace("?", "x")


def satisfying(stmt: dict[str, Any]) -> dict[str, Any]:
    """A request context under which the statement's own conditions hold."""
    context: dict[str, Any] = {}
    for operator, keys in (stmt.get("Condition") or {}).items():
        for key, value in keys.items():
            first = str(as_list(value)[0])
            if operator == "Null":
                if first == "false":
                    context[key] = "x"
            elif "Not" not in operator:
                context[key] = [sample(first)] if operator.startswith("For") else sample(first)
    return context


def ours(role_arn: str, resource: str) -> dict[str, str]:
    """A key pattern of the role's own account stands for the stack's keys, tagged as the
    provider tags everything the stack creates."""
    account, stack = role_arn.split(":")[4], role_arn.split("/")[-1].split("-")[1]
    if ":kms:" in resource and f":{account}:key/" in resource:
        return {"aws:ResourceTag/project": "mlops-platform", "aws:ResourceTag/stack": stack}
    return {}


def test_every_role_policy_action_is_within_its_roles_boundary(any_world):
    world = any_world
    checked = 0
    for role in world.roles.values():
        assert role.boundary, f"{role.arn} has no boundary"
        boundary = [(role.boundary, world.managed[role.boundary])]
        for where, doc in role.policies:
            for stmt in statements(doc):
                if stmt["Effect"] != "Allow":
                    continue
                for action in as_list(stmt["Action"]):
                    for resource in as_list(stmt["Resource"]):
                        request = Request(Principal.role(role.arn), action, sample(resource),
                                          {**ours(role.arn, resource), **satisfying(stmt)})
                        verdict = judge(boundary, request, world.context(request))
                        assert verdict.allows, f"{where} {stmt.get('Sid')}: {role.boundary} cuts {action} on {resource}"
                        checked += 1
    assert checked > 500


def test_what_key_policies_grant_a_role_directly_is_within_its_boundary(any_world):
    world = any_world
    checked = 0
    for arn, (where, doc) in world.resource_policies.items():
        if ":key/" not in arn:
            continue
        for stmt in statements(doc):
            named = [p for p in as_list((stmt.get("Principal") or {}).get("AWS")) if ":role/" in str(p)]
            for principal in named:
                for action in as_list(stmt["Action"]):
                    result = world.decide(Request(Principal.role(principal), action, arn, satisfying(stmt)))
                    assert result.allowed, f"{where} {stmt.get('Sid')}: {principal} {action}: {result.why}"
                    checked += 1
    assert checked > 50
