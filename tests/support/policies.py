"""Reading IAM policy documents out of registered resources."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.support.stacks import StackRun


def documents(run: StackRun) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource type, resource name, parsed document) for every policy in a stack."""
    for r, doc in run.policy_documents():
        yield r.type, r.name, doc


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    s = doc["Statement"]
    return s if isinstance(s, list) else [s]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def by_sid(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    found = [s for s in statements(doc) if s.get("Sid") == sid]
    assert len(found) == 1, f"no single statement {sid} in {[s.get('Sid') for s in statements(doc)]}"
    return found[0]
