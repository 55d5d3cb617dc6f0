"""A small evaluator for the GitHub Actions expressions used in `if:` conditions.

It covers the subset the workflows use: context paths (`github.ref`, `inputs.x`),
string/boolean/null literals, `==`, `!=`, `!`, `&&`, `||`, parentheses and
zero-argument status functions (`success()`, `failure()`, `always()`, `cancelled()`).
Anything else raises, so a condition the tests cannot read fails loudly instead of
being guessed. Comparisons of strings are case-insensitive, as on GitHub.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.-]*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read expression {text!r} at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def evaluate(condition: str | bool | None, contexts: Mapping[str, Any],
             status: Mapping[str, bool] | None = None) -> bool:
    """Truth of a job or step `if:`; no condition means `success()`."""
    status = {"success": True, "failure": False, "always": True, "cancelled": False,
              **(status or {})}
    if condition is None:
        condition = "success()"
    if isinstance(condition, bool):
        return condition
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"expression {text!r} ends too early")
        pos += 1
        return tokens[pos - 1]

    def primary() -> Any:
        kind, value = take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if (kind, value) == ("op", "!"):
            return not _truthy(primary())
        if (kind, value) == ("op", "("):
            result = disjunction()
            if take() != ("op", ")"):
                raise ValueError(f"missing ')' in {text!r}")
            return result
        if kind == "name":
            if value in ("true", "false"):
                return value == "true"
            if value == "null":
                return None
            if peek() == ("op", "("):
                take()
                if take() != ("op", ")") or value not in status:
                    raise ValueError(f"unsupported function {value!r} in {text!r}")
                return status[value]
            return _lookup(contexts, value)
        raise ValueError(f"unexpected {value!r} in {text!r}")

    def comparison() -> Any:
        left = primary()
        while peek() in (("op", "=="), ("op", "!=")):
            op = take()[1]
            equal = _equal(left, primary())
            left = equal if op == "==" else not equal
        return left

    def conjunction() -> Any:
        left = comparison()
        while peek() == ("op", "&&"):
            take()
            right = comparison()
            left = right if _truthy(left) else left
        return left

    def disjunction() -> Any:
        left = conjunction()
        while peek() == ("op", "||"):
            take()
            right = conjunction()
            left = left if _truthy(left) else right
        return left

    result = disjunction()
    if pos != len(tokens):
        raise ValueError(f"trailing tokens in {text!r}")
    # A condition without a status function implies `success() && (...)` on GitHub.
    if not any(kind == "name" and value in status for kind, value in tokens):
        return status["success"] and _truthy(result)
    return _truthy(result)


def _lookup(contexts: Mapping[str, Any], path: str) -> Any:
    node: Any = contexts
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", 0)
