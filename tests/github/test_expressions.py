"""The `if:` evaluator the workflow tests rely on reads conditions as GitHub does."""
from __future__ import annotations

import pytest

from tests.github.expressions import evaluate

CTX = {"github": {"ref": "refs/heads/main", "repository": "Acme/MLOps",
                  "event": {"pull_request": {"head": {"repo": {"full_name": "acme/mlops"}}}}}}


@pytest.mark.parametrize("condition, expected", [
    (None, True),
    ("github.ref == 'refs/heads/main'", True),
    ("${{ github.ref != 'refs/heads/main' }}", False),
    # String comparison ignores case on GitHub.
    ("github.event.pull_request.head.repo.full_name == github.repository", True),
    ("github.missing.path == 'x'", False),
    ("!(github.ref == 'refs/heads/dev') && github.ref == 'refs/heads/main'", True),
    ("github.ref == 'x' || github.ref == 'refs/heads/main'", True),
    ("'it''s' == 'IT''S'", True),
])
def test_conditions(condition, expected):
    assert evaluate(condition, CTX) is expected


def test_a_condition_without_status_function_needs_earlier_jobs_to_succeed():
    failed = {"success": False, "failure": True}
    assert evaluate("github.ref == 'refs/heads/main'", CTX, failed) is False
    assert evaluate("failure()", CTX, failed) is True
    assert evaluate("always() && github.ref == 'refs/heads/main'", CTX, failed) is True


@pytest.mark.parametrize("condition", ["contains(github.ref, 'main')", "github.ref ==", "a === b"])
def test_unsupported_syntax_fails_loudly(condition):
    with pytest.raises(ValueError):
        evaluate(condition, CTX)
