"""A small offline IAM policy evaluator, for the policy documents this program writes.

It decides one request (principal, action, resource, condition context) the way AWS's
documented evaluation logic does for the policy types the platform uses:

- identity policies of a role, capped by its permissions boundary;
- the resource's own policy (bucket, key, model package group, topic, queue, role trust);
- an explicit Deny anywhere wins;
- within one account, either the identity side or a resource policy naming the principal
  (bounded by the role's boundary) is enough; across accounts both sides must allow;
- a KMS key is reached only through its key policy: naming the principal directly, or the
  principal's account root, which delegates to the account's IAM policies.

Conditions: String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike},
Arn{Equals,NotEquals,Like,NotLike}, Bool, Null, the `IfExists` suffix and the
`ForAnyValue:`/`ForAllValues:` set operators. Anything else (policy variables, NotPrincipal,
numeric or date operators) raises `Unsupported`, so a document using it cannot be judged
silently wrong. Not modelled: SCPs, session policies, role-session principals, ACLs.
What AWS alone can prove is listed in the README (security section).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

Document = Mapping[str, Any]
ContextValue = str | Sequence[str]


class Unsupported(ValueError):
    """The document uses a policy feature this evaluator does not model."""


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@dataclass(frozen=True)
class Principal:
    """Who sends the request: an IAM role, an AWS service, or a web identity (OIDC provider)."""

    kind: str  # "role" | "service" | "federated"
    id: str  # role ARN, service name, or OIDC provider ARN

    @classmethod
    def role(cls, arn: str) -> Principal:
        if ":role/" not in arn:
            raise ValueError(f"{arn!r} is not a role ARN")
        return cls("role", arn)

    @classmethod
    def service(cls, name: str) -> Principal:
        return cls("service", name)

    @classmethod
    def federated(cls, provider_arn: str) -> Principal:
        return cls("federated", provider_arn)

    @property
    def account(self) -> str | None:
        return self.id.split(":")[4] if self.kind == "role" else None


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    decision: Decision
    why: str

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


# ---------------------------------------------------------------- matching

def _glob(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if "${" in pattern:
        raise Unsupported(f"policy variable in {pattern!r}")
    return bool(_glob(pattern, ignore_case=ignore_case).match(value))


def arn_match(pattern: str, arn: str) -> bool:
    """ArnLike/ArnEquals and Resource matching: the six ARN fields compared one by one."""
    if pattern == "*":
        return True
    p_parts, a_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return glob_match(pattern, arn)
    return all(glob_match(p, a) for p, a in zip(p_parts, a_parts, strict=True))


def action_match(pattern: str, action: str) -> bool:
    return glob_match(pattern, action, ignore_case=True)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ---------------------------------------------------------------- conditions

_POSITIVE = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": lambda p, v: glob_match(p, v),
    "ArnEquals": arn_match,
    "ArnLike": arn_match,
    "Bool": lambda p, v: str(p).lower() == str(v).lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _lookup(context: Mapping[str, ContextValue], key: str) -> list[str] | None:
    """Context keys are case-insensitive; a missing key is None."""
    for k, v in context.items():
        if k.lower() == key.lower():
            return [str(x) for x in as_list(v)]
    return None


def _single(op: str, policy_values: list[str], value: str) -> bool:
    if op in _POSITIVE:
        return any(_POSITIVE[op](p, value) for p in policy_values)
    return not any(_POSITIVE[_NEGATED[op]](p, value) for p in policy_values)


def condition_holds(operator: str, key: str, policy_value: Any, context: Mapping[str, ContextValue]) -> bool:
    """One operator/key pair of a Condition block against the request context."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    values = [str(v) for v in as_list(policy_value)]
    if any("${" in v for v in values):
        raise Unsupported(f"policy variable in {operator} {key}: {values}")
    present = _lookup(context, key)
    if op == "Null":
        if qualifier or if_exists:
            raise Unsupported(f"{operator} on {key}")
        absent = present is None or present == []
        return any((v.lower() == "true") == absent for v in values)
    if op not in _POSITIVE and op not in _NEGATED:
        raise Unsupported(f"condition operator {operator}")
    if qualifier == "ForAnyValue":
        return bool(present) and any(_single(op, values, v) for v in present)
    if qualifier == "ForAllValues":
        return not present or all(_single(op, values, v) for v in present)
    if qualifier:
        raise Unsupported(f"set operator {qualifier}")
    if present is None:
        return if_exists or op in _NEGATED
    if len(present) != 1:
        raise Unsupported(f"{operator} on the multi-valued key {key} needs ForAnyValue/ForAllValues")
    return _single(op, values, present[0])


def conditions_hold(block: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, ContextValue]) -> bool:
    """Every operator, every key in it (AND); the values of one key are alternatives (OR)."""
    return all(condition_holds(op, key, value, context)
               for op, keys in (block or {}).items() for key, value in keys.items())


# ---------------------------------------------------------------- statements

class Via(Enum):
    """How a resource policy statement names the requesting principal."""

    NONE = 0
    ACCOUNT = 1  # the principal's account (root ARN or id): delegates to its IAM policies
    DIRECT = 2  # the principal itself, or everyone ("*")


def principal_via(stmt: Document, principal: Principal) -> Via:
    if "NotPrincipal" in stmt:
        raise Unsupported("NotPrincipal")
    given = stmt.get("Principal")
    if given == "*":
        return Via.DIRECT
    if not isinstance(given, Mapping):
        raise Unsupported(f"Principal {given!r}")
    kinds = {"role": "AWS", "service": "Service", "federated": "Federated"}
    named = [str(p) for p in as_list(given.get(kinds[principal.kind]))]
    if principal.kind == "role" and "*" in named:
        return Via.DIRECT
    if principal.id in named:
        return Via.DIRECT
    account = principal.account
    if account and (account in named or f"arn:{principal.id.split(':')[1]}:iam::{account}:root" in named):
        return Via.ACCOUNT
    return Via.NONE


def statement_matches(stmt: Document, request: Request, context: Mapping[str, ContextValue]) -> bool:
    """Action, resource and condition (the principal is the caller's business)."""
    if "Action" in stmt:
        if not any(action_match(a, request.action) for a in as_list(stmt["Action"])):
            return False
    elif any(action_match(a, request.action) for a in as_list(stmt.get("NotAction"))):
        return False
    if "Resource" in stmt:
        if not any(arn_match(r, request.resource) for r in as_list(stmt["Resource"])):
            return False
    elif "NotResource" in stmt and any(arn_match(r, request.resource) for r in as_list(stmt["NotResource"])):
        return False
    return conditions_hold(stmt.get("Condition"), context)


def statements(doc: Document) -> list[Document]:
    return [s for s in as_list(doc.get("Statement"))]


@dataclass
class Verdict:
    """What one set of documents says about a request."""

    allows: list[str] = field(default_factory=list)
    denies: list[str] = field(default_factory=list)


def judge(docs: Iterable[tuple[str, Document]], request: Request, context: Mapping[str, ContextValue],
          *, resource_policy: bool = False, via: Via = Via.DIRECT) -> Verdict:
    """Allow/Deny statements of `docs` that apply; in a resource policy, only those naming the
    principal with at least `via` (a Deny applies whichever way it names the principal)."""
    out = Verdict()
    for where, doc in docs:
        for i, stmt in enumerate(statements(doc)):
            label = f"{where}:{stmt.get('Sid') or i}"
            if resource_policy:
                named = principal_via(stmt, request.principal)
                if named is Via.NONE or (stmt["Effect"] == "Allow" and named.value < via.value):
                    continue
            if statement_matches(stmt, request, context):
                (out.allows if stmt["Effect"] == "Allow" else out.denies).append(label)
    return out
