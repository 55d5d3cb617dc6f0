"""Assertions that read as the threat model: an attack closed, a platform request still allowed."""
from __future__ import annotations

from tests.security.simulator import Request
from tests.security.world import World


def assert_closed(now: World, then: World, request: Request) -> None:
    """Refused by today's documents, and allowed by the documents before issue 10 (so the test
    would fail without the fix)."""
    was = then.decide(request)
    assert was.allowed, f"not possible before issue 10 either ({was.why}): this test would prove nothing"
    assert_refused(now, request)


def assert_refused(world: World, request: Request) -> None:
    result = world.decide(request)
    assert not result.allowed, f"{request.principal.id} may {request.action} on {request.resource}: {result.why}"


def assert_allowed(world: World, request: Request) -> None:
    result = world.decide(request)
    assert result.allowed, f"{request.principal.id} may not {request.action} on {request.resource}: {result.why}"
