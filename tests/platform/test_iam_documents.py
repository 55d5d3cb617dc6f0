"""Pieces of the IAM documents that depend on more than the settings: who writes code."""
from __future__ import annotations

from mlops_platform.iam_documents.scope import Scope
from mlops_platform.iam_documents.workload import code_writers

SCOPE = Scope(role="prod", stack="prod", project="mlops-platform", account="333333333333", region="eu-west-1",
              registry_account="111111111111", workload_accounts=(("dev", "222222222222"), ("prod", "333333333333")),
              retain_data=True)
DEPLOY = "arn:aws:iam::333333333333:role/mlops-prod-github-deploy"


def test_ci_runs_write_the_deploy_role_alone_whichever_github_role_runs():
    for role in ("mlops-prod-github-deploy", "mlops-prod-github-preview"):
        assert code_writers(SCOPE, f"arn:aws:sts::333333333333:assumed-role/{role}/run-1") == [DEPLOY]


def test_an_administrators_run_adds_the_administrator_with_any_role_path():
    sso = "arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com"
    assert code_writers(SCOPE, sso) == sorted([
        DEPLOY, "arn:aws:iam::333333333333:role/AWSReservedSSO_Admin_0123",
        "arn:aws:iam::333333333333:role/*/AWSReservedSSO_Admin_0123"])
    assert code_writers(SCOPE, "arn:aws:iam::333333333333:user/bob") == sorted(
        [DEPLOY, "arn:aws:iam::333333333333:user/bob"])


def test_another_stacks_github_role_is_an_administrator_here():
    other = "arn:aws:sts::333333333333:assumed-role/mlops-dev-github-deploy/x"
    assert "arn:aws:iam::333333333333:role/mlops-dev-github-deploy" in code_writers(SCOPE, other)
