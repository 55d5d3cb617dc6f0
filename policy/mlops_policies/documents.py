"""Reading IAM policy documents out of resource inputs, and matching actions and principals."""
from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mlops_facts import policy_inputs
from mlops_policies.model import Resource

# Inputs that carry one policy document, by resource type, and the document's kind (identity,
# resource, trust or key policy): a shared fact, so the offline runner reads the same documents.
POLICY_INPUTS = policy_inputs.POLICY_INPUTS
IDENTITY, RESOURCE, TRUST, KEY = (policy_inputs.IDENTITY, policy_inputs.RESOURCE, policy_inputs.TRUST,
                                  policy_inputs.KEY)


class BadDocument(ValueError):
    """A policy input that is not a JSON policy document."""


def parse(text: Any, where: str) -> Mapping[str, Any]:
    """A document given as a JSON string (how the program passes it) or as an object."""
    if isinstance(text, Mapping):
        return text
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as err:
        raise BadDocument(f"{where} is not a JSON policy document ({err}); pass json.dumps(...) of one") from err
    if not isinstance(doc, Mapping) or "Statement" not in doc:
        raise BadDocument(f"{where} has no Statement; a policy document needs Version and Statement")
    return doc


def documents(res: Resource) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(where, kind, document) for every policy document in the resource's inputs."""
    prop, kind = POLICY_INPUTS.get(res.type, ("", ""))
    if prop and res.props.get(prop):
        yield f"{res.name}.{prop}", kind, parse(res.props[prop], f"{res.name}.{prop}")
    if res.type == "aws:iam/role:Role":
        for i, inline in enumerate(res.props.get("inlinePolicies") or ()):
            if isinstance(inline, Mapping) and inline.get("policy"):
                where = f"{res.name}.inlinePolicies[{i}]"
                yield where, IDENTITY, parse(inline["policy"], where)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | Mapping) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def label(stmt: Mapping[str, Any], index: int) -> str:
    return f"statement {stmt.get('Sid') or index}"


def allows(stmt: Mapping[str, Any]) -> bool:
    return stmt.get("Effect") == "Allow"


def actions(stmt: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in as_list(stmt.get("Action"))]


def covers(pattern: str, action: str) -> bool:
    """Whether an IAM action pattern (with * and ?) matches an action; IAM is case-insensitive."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def aws_principals(stmt: Mapping[str, Any]) -> list[str]:
    """AWS principals of a statement; "*" for everyone (the bare string or {"AWS": "*"})."""
    principal = stmt.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, Mapping):
        return [str(p) for p in as_list(principal.get("AWS"))]
    return []


def account_of(principal: str) -> str | None:
    """The account of an account id, root ARN or role ARN; None for "*" and services."""
    if principal.isdigit() and len(principal) == 12:
        return principal
    parts = principal.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] in ("iam", "sts") and parts[4].isdigit():
        return parts[4]
    return None


def condition_values(stmt: Mapping[str, Any], operator: str, key: str) -> list[str] | None:
    """Values of one condition (operator and key compared case-insensitively), or None."""
    for op, block in (stmt.get("Condition") or {}).items():
        if op.lower() != operator.lower() or not isinstance(block, Mapping):
            continue
        for k, v in block.items():
            if k.lower() == key.lower():
                return [str(x) for x in as_list(v)]
    return None


def string_leaves(value: Any) -> Iterator[str]:
    """Every string inside a nested input (used to match ids and ARNs)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from string_leaves(v)
    elif isinstance(value, Sequence):
        for v in value:
            yield from string_leaves(v)
