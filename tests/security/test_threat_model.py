"""The four attackers of the threat model (README, "Security"), as requests to the real documents.

- a same-repository pull request: its workflow gets a GitHub OIDC token for `pull_request`;
- a fork pull request: GitHub gives it no OIDC token for this repository (a token it could get
  is for its own repository, which no role trusts);
- a writer of a workload data bucket (test_data_boundaries.py, path 7);
- a compromised workload account (test_approval_bypass.py, test_data_boundaries.py).
"""
from __future__ import annotations

import pytest

from tests.security.names import ACCOUNTS, ARTIFACTS_KEY, REGION, REPO, ask, data_bucket, data_key, role, web_identity
from tests.security.simulator import Principal, Request
from tests.security.verdicts import assert_allowed, assert_refused

STACKS = ("registry", "dev", "prod")
ROLES = {"registry": ("github-deploy", "github-preview", "github-model-approver", "github-model-reviewer"),
         "dev": ("github-deploy", "github-preview"), "prod": ("github-deploy", "github-preview")}


@pytest.mark.parametrize("stack", STACKS)
def test_a_pull_request_gets_the_preview_role_and_nothing_else(world, stack):
    for purpose in ROLES[stack]:
        request = web_identity(stack, purpose, f"{REPO}:pull_request")
        (assert_allowed if purpose == "github-preview" else assert_refused)(world, request)


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_stacks_environment_deploys_and_only_model_approval_approves(world, stack):
    for purpose in ROLES[stack]:
        for subject in (f"{REPO}:environment:{stack}", f"{REPO}:environment:model-approval",
                        f"{REPO}:ref:refs/heads/main", f"{REPO}:ref:refs/heads/feature"):
            allowed = {"github-deploy": subject == f"{REPO}:environment:{stack}",
                       "github-model-approver": subject == f"{REPO}:environment:model-approval",
                       "github-preview": subject == f"{REPO}:ref:refs/heads/main",
                       "github-model-reviewer": subject == f"{REPO}:ref:refs/heads/main"}[purpose]
            (assert_allowed if allowed else assert_refused)(world, web_identity(stack, purpose, subject))


@pytest.mark.parametrize("stack", STACKS)
def test_a_fork_or_another_repository_assumes_no_role(world, stack):
    for purpose in ROLES[stack]:
        for subject in ("repo:someone/mlops-platform:pull_request", f"repo:someone/mlops-platform:environment:{stack}",
                        "repo:example-org/other-repo:environment:model-approval"):
            assert_refused(world, web_identity(stack, purpose, subject))


def test_the_preview_role_reads_configuration_never_data(world):
    preview = role("prod", "github-preview")
    assert_allowed(world, ask(preview, "s3:GetObject", f"{data_bucket('prod')}/code/steps/0123/preprocess.py"))
    assert_allowed(world, ask(preview, "kms:DescribeKey", data_key("prod")))
    for action, resource in (("s3:GetObject", f"{data_bucket('prod')}/datasets/training/x.data"),
                             ("s3:GetObject", f"{data_bucket('prod')}/verified-models/ab/model.tar.gz"),
                             ("kms:Decrypt", data_key("prod")), ("s3:PutObject", f"{data_bucket('prod')}/code/x"),
                             ("sagemaker:StartPipelineExecution",
                              f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['prod']}:pipeline/mlops-prod-training")):
        assert_refused(world, ask(preview, action, resource, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}))


def _all_roles(world):
    return sorted(world.roles)


def test_no_role_is_trusted_by_another_account_or_by_a_service_for_another_account(world):
    outsider = Principal.role("arn:aws:iam::999999999999:role/attacker")
    world = world.with_role(outsider.id, policies=[{"Statement": [{"Effect": "Allow", "Action": "*",
                                                                   "Resource": "*"}]}], boundary=None)
    for arn in _all_roles(world):
        if arn == outsider.id:
            continue
        assert_refused(world, Request(outsider, "sts:AssumeRole", arn))
        for service in ("sagemaker.amazonaws.com", "lambda.amazonaws.com", "events.amazonaws.com"):
            request = Request(Principal.service(service), "sts:AssumeRole", arn, {"aws:SourceAccount": "999999999999"})
            assert_refused(world, request)


@pytest.mark.parametrize("purpose, service", [
    ("sagemaker-execution", "sagemaker.amazonaws.com"), ("model-lookup-lambda", "lambda.amazonaws.com"),
    ("retrain-gate-lambda", "lambda.amazonaws.com"), ("events-invoke", "events.amazonaws.com"),
])
def test_each_service_role_is_trusted_by_its_service_for_its_account_only(world, purpose, service):
    for stack in ("dev", "prod"):
        own = {"aws:SourceAccount": ACCOUNTS[stack]}
        assert_allowed(world, Request(Principal.service(service), "sts:AssumeRole", role(stack, purpose), own))
        other = "lambda.amazonaws.com" if service != "lambda.amazonaws.com" else "sagemaker.amazonaws.com"
        assert_refused(world, Request(Principal.service(other), "sts:AssumeRole", role(stack, purpose), own))


def test_the_model_reviewer_shows_a_version_and_its_metrics_but_cannot_approve_or_read_data(world):
    from tests.security.names import ARTIFACTS

    reviewer = role("registry", "github-model-reviewer")
    version = f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['registry']}:model-package/mammo-severity-model-package/7"
    metrics = f"{ARTIFACTS}/models/dev/mlops-dev-training/exec-1/Evaluate/evaluation/evaluation.json"
    assert_allowed(world, ask(reviewer, "sagemaker:DescribeModelPackage", version))
    assert_allowed(world, ask(reviewer, "s3:GetObject", metrics))
    assert_allowed(world, ask(reviewer, "kms:Decrypt", ARTIFACTS_KEY, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}))
    assert_refused(world, ask(reviewer, "sagemaker:UpdateModelPackage", version))
    for data in ("models/dev/run/TrainXGBoost/model/output/model.tar.gz", "models/prod/run/Preprocess/train/train.csv"):
        assert_refused(world, ask(reviewer, "s3:GetObject", f"{ARTIFACTS}/{data}"))
    assert_refused(world, ask(reviewer, "kms:Decrypt", ARTIFACTS_KEY))  # not outside S3
    for subject in (f"{REPO}:pull_request", f"{REPO}:ref:refs/heads/feature", f"{REPO}:environment:registry"):
        assert_refused(world, web_identity("registry", "github-model-reviewer", subject))
    assert_allowed(world, web_identity("registry", "github-model-reviewer", f"{REPO}:ref:refs/heads/main"))
