"""A stack's resources as the Pulumi engine names and orders them, from a mocked run, and the
engine's URN patterns, so the workflows' `--exclude` lists can be checked offline.

Two engine rules reproduced here, each from the pulumi/pulumi sources:
- URNs (pkg/resource/deploy/deployment.go `generateURN`, sdk resource.NewURN): the type part
  is the parent's *full* qualified type, `$`, the resource's type; the root stack's type is
  left out. Pulumi's own mock monitor builds URNs differently (it keeps only the parent's last
  type and prefixes top-level resources with `pulumi:pulumi:Stack$`), so the mocked URNs are
  rebuilt here from each registration's type, name and parent.
- Patterns (pkg/resource/deploy/step_executor.go `UrnTargets.getMatcher`): a target without
  `*` is a literal URN; `**` matches anything, `*` anything but `:`.
A resource depends on its parent, its provider and every resource its inputs or `depends_on`
name (the registration's `dependencies` and `propertyDependencies`).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from mlops_platform.offline import runner
from tests.support.stacks import run_stack

PROJECT = runner.PROJECT
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Node:
    """One resource as the engine sees it."""

    urn: str
    type: str
    name: str
    parent: str | None
    dependencies: set[str] = field(default_factory=set)
    import_id: str = ""
    retain_on_delete: bool = False


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The engine's matcher for one `--target`/`--exclude` value."""
    parts = [r"[^:]*".join(re.escape(p) for p in part.split("*")) for part in pattern.split("**")]
    return re.compile("^" + ".*".join(parts) + "$")


def matching(patterns: list[str], urns: set[str]) -> set[str]:
    """The URNs any of `patterns` selects (literal patterns must match exactly)."""
    out = set()
    for pattern in patterns:
        if "*" in pattern:
            regex = pattern_regex(pattern)
            out |= {u for u in urns if regex.match(u)}
        elif pattern in urns:
            out.add(pattern)
    return out


@contextmanager
def _recorded_requests() -> Iterator[list[tuple[str, Any]]]:
    """Every RegisterResource/ReadResource request of the runs inside, with the mock's URN."""
    seen: list[tuple[str, Any]] = []
    register, read = runner.RecordingMonitor.RegisterResource, runner.RecordingMonitor.ReadResource

    def spy_register(self, request):
        response = register(self, request)
        seen.append((response.urn, request))
        return response

    def spy_read(self, request):
        response = read(self, request)
        seen.append((response.urn, request))
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner.RecordingMonitor, "RegisterResource", spy_register)
        patch.setattr(runner.RecordingMonitor, "ReadResource", spy_read)
        yield seen


def resource_graph(stack: str, **run_kwargs: Any) -> dict[str, Node]:
    """Run the program for `stack` under mocks; its resources by engine URN."""
    if stack != "registry" and run_kwargs.get("registry_outputs") is None:
        run_kwargs["registry_outputs"] = run_stack("registry").outputs  # outside the recording
    with _recorded_requests() as seen:
        run_stack(stack, **run_kwargs)
    by_mock = {urn: request for urn, request in seen}
    engine: dict[str, str] = {}

    def qualified(mock_urn: str) -> str:
        request = by_mock[mock_urn]
        parent = request.parent
        if not parent or by_mock[parent].type == STACK_TYPE:
            return request.type
        return qualified(parent) + "$" + request.type

    for mock_urn, request in by_mock.items():
        typ = request.type if request.type == STACK_TYPE else qualified(mock_urn)
        engine[mock_urn] = f"urn:pulumi:{stack}::{PROJECT}::{typ}::{request.name}"

    def to_engine(ref: str) -> str:
        # Provider references are "<urn>::<id>".
        return engine[ref] if ref in engine else engine[ref.rsplit("::", 1)[0]]

    graph = {}
    for mock_urn, request in by_mock.items():
        deps = set(getattr(request, "dependencies", []))
        for refs in getattr(request, "propertyDependencies", {}).values():
            deps |= set(refs.urns)
        if request.parent:
            deps.add(request.parent)
        if request.provider:
            deps.add(request.provider)
        graph[engine[mock_urn]] = Node(
            urn=engine[mock_urn], type=request.type, name=request.name,
            parent=engine[request.parent] if request.parent else None,
            dependencies={to_engine(d) for d in deps},
            import_id=getattr(request, "importId", ""),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)))
    return graph


def closure(graph: dict[str, Node], roots: set[str]) -> set[str]:
    """`roots` and everything they depend on, transitively."""
    out, todo = set(), list(roots)
    while todo:
        urn = todo.pop()
        if urn not in out:
            out.add(urn)
            todo += graph[urn].dependencies
    return out
