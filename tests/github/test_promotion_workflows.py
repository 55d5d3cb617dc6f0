"""Promotion by pull request, by the workflows' structure: approval -> a pull request pinning the
version for dev -> merge -> dev deploys and smoke-tests its endpoints -> a pull request for prod
-> prod's reviewers -> prod deploys and smoke-tests. Each job holds one kind of credential, the
pull requests are opened with a narrowed App token minted in an environment job, and nothing is
proposed before the approval or before dev is healthy."""
from __future__ import annotations

import pytest

from tests.github.expressions import evaluate
from tests.github.workflow_files import (
    AWS_CREDENTIALS,
    CHECKOUT,
    GITHUB_APP_TOKEN,
    PULUMI,
    PULUMI_AUTH,
    action_name,
    ancestors,
    environment_name,
    step_by_name,
    steps_of,
    steps_using,
    workflow,
)

REVIEWER_ROLE = "${{ vars.AWS_MODEL_REVIEWER_ROLE_ARN }}"
VALIDATE = "./.github/actions/model-version"


def approve_jobs():
    return workflow("approve-model.yml")["jobs"]


def deploy_jobs():
    return workflow("deploy.yml")["jobs"]


def actions_of(job):
    return {action_name(s) for s in steps_of(job)} - {None}


def index_of(job, predicate):
    (found,) = [i for i, s in enumerate(steps_of(job)) if predicate(s)]
    return found


# --- approve-model.yml: approval -> pull request for dev ---------------------------------

def test_the_dev_pull_request_is_opened_only_after_the_approval_and_for_endpoint_models():
    jobs = approve_jobs()
    assert jobs["serving"]["needs"] == "review"
    assert set(jobs["describe"]["needs"]) == {"approve", "serving"}
    assert jobs["propose"]["needs"] == "describe"
    assert {"review", "approve", "serving", "describe"} <= ancestors(jobs, "propose")
    condition = jobs["describe"]["if"]
    assert evaluate(condition, {"needs": {"serving": {"outputs": {"endpoint": "true"}}}})
    assert not evaluate(condition, {"needs": {"serving": {"outputs": {"endpoint": "false"}}}})
    assert not evaluate(condition, {"needs": {"serving": {"outputs": {"endpoint": "true"}}}},
                        {"success": False, "failure": True}), "a failed approval proposes nothing"


def test_reading_the_serving_mode_holds_no_credential():
    job = approve_jobs()["serving"]
    assert job["permissions"] == {"contents": "read"} and environment_name(job) is None
    assert not {AWS_CREDENTIALS, PULUMI_AUTH, PULUMI, GITHUB_APP_TOKEN} & actions_of(job)
    step = step_by_name(job, "Read the model's serving mode")
    assert "serving_plan.py mode --stack dev" in step["run"] and '--output "$GITHUB_OUTPUT"' in step["run"]
    assert step["env"]["MODEL"] == "${{ steps.validate.outputs.model }}"
    assert job["outputs"] == {"endpoint": "${{ steps.mode.outputs.endpoint }}"}
    assert index_of(job, lambda s: s.get("uses") == VALIDATE) < index_of(job, lambda s: s.get("id") == "mode")


def test_the_approved_version_is_described_with_the_read_only_role_after_validating_the_input():
    job = approve_jobs()["describe"]
    assert environment_name(job) is None, "the reviewer role trusts ref:refs/heads/main, no environment"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    (credentials,) = steps_using(job, AWS_CREDENTIALS)
    assert credentials["with"]["role-to-assume"] == REVIEWER_ROLE
    assert "APPROVER" not in str(job) and GITHUB_APP_TOKEN not in actions_of(job)
    assert index_of(job, lambda s: s.get("uses") == VALIDATE) < index_of(job, lambda s: action_name(s) == AWS_CREDENTIALS)
    step = step_by_name(job, "Describe the version")
    assert "version_cards.py" in step["run"]
    assert step["env"]["MODEL_PACKAGE_ARN"] == "${{ inputs.model_package_arn }}"
    assert job["outputs"] == {"cards": "${{ steps.cards.outputs.cards }}"}


@pytest.mark.parametrize(("workflow_name", "job_id", "stack", "cards"), [
    ("approve-model.yml", "propose", "dev", "${{ needs.describe.outputs.cards }}"),
    ("deploy.yml", "promote-prod", "prod", "${{ needs.prod-versions.outputs.cards }}"),
])
def test_pull_requests_are_opened_in_the_dev_environment_with_the_app_token_only(workflow_name, job_id, stack, cards):
    job = workflow(workflow_name)["jobs"][job_id]
    # The App's key is a secret of the deploy environments; dev asks no reviewer to open a pull
    # request (the pull request is what gets reviewed, and prod's deploy waits for prod's).
    assert environment_name(job) == "dev"
    assert job["permissions"] == {"contents": "read"}, "no id-token: this job assumes no AWS role"
    assert not {AWS_CREDENTIALS, PULUMI_AUTH, PULUMI} & actions_of(job)
    assert "Check that the environment" in steps_of(job)[0]["name"]
    step = step_by_name(job, "Open the pull request")
    assert f"promote_version.py propose-each --stack {stack}" in step["run"]
    assert step["env"] == {"GH_TOKEN": "${{ steps.github-token.outputs.token }}", "CARDS": cards}
    (checkout,) = steps_using(job, CHECKOUT)
    assert checkout["with"]["persist-credentials"] is False


def test_no_job_holds_both_an_aws_role_and_the_app_key_except_the_deploys():
    for name in ("approve-model.yml", "deploy.yml"):
        for job_id, job in workflow(name)["jobs"].items():
            if GITHUB_APP_TOKEN in actions_of(job) and AWS_CREDENTIALS in actions_of(job):
                assert any(s["with"].get("command") == "up" for s in steps_using(job, PULUMI)), (name, job_id)


# --- deploy.yml: dev healthy -> pull request for prod; smoke tests after each deploy -------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_workload_deploy_smoke_tests_what_it_serves_right_after_pulumi_up(stack):
    job = deploy_jobs()[stack]
    (up,) = steps_using(job, PULUMI)
    assert up["id"] == "up" and up["with"]["command"] == "up"
    smoke = step_by_name(job, f"Smoke-test the endpoints {stack} serves")
    assert f"smoke_endpoints.py --stack {stack}" in smoke["run"]
    assert smoke["env"]["SERVED"] == "${{ steps.up.outputs.servedVersions }}"
    # Same job, so the deploy role's credentials (allowed to invoke mlops-<stack>-* endpoints)
    # and no second wait for prod's reviewers.
    names = [s.get("name") for s in steps_of(job)]
    assert names.index(up["name"]) < names.index(smoke["name"])
    assert names.index(steps_using(job, AWS_CREDENTIALS)[0]["name"]) < names.index(smoke["name"])


def test_prod_deploys_and_is_proposed_to_only_after_dev_is_healthy():
    jobs = deploy_jobs()
    dev = jobs["dev"]
    names = [s.get("name") for s in steps_of(dev)]
    candidates = step_by_name(dev, "Find what dev serves that prod does not pin yet")
    assert names.index("Smoke-test the endpoints dev serves") < names.index(candidates["name"])
    assert "serving_plan.py candidates --from-stack dev --stack prod" in candidates["run"]
    assert dev["outputs"] == {"promote-to-prod": "${{ steps.candidates.outputs.any }}",
                              "prod-versions": "${{ steps.candidates.outputs.versions }}"}
    assert "dev" in ancestors(jobs, "prod")
    assert jobs["promote-prod"]["needs"] == "prod-versions" and jobs["prod-versions"]["needs"] == "dev"
    # The pull request does not wait for prod's reviewers: they review the deploy it causes.
    assert "prod" not in ancestors(jobs, "promote-prod")


@pytest.mark.parametrize(("ref", "any_", "runs"), [
    ("refs/heads/main", "true", True), ("refs/heads/main", "false", False), ("refs/heads/other", "true", False)])
def test_prod_versions_are_described_only_on_main_when_there_is_something_to_promote(ref, any_, runs):
    job = deploy_jobs()["prod-versions"]
    contexts = {"github": {"ref": ref}, "needs": {"dev": {"outputs": {"promote-to-prod": any_}}}}
    assert evaluate(job["if"], contexts) is runs
    assert not evaluate(job["if"], contexts, {"success": False, "failure": True}), "an unhealthy dev proposes nothing"


def test_prod_versions_are_described_with_the_read_only_role_outside_any_environment():
    job = deploy_jobs()["prod-versions"]
    assert environment_name(job) is None
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    (credentials,) = steps_using(job, AWS_CREDENTIALS)
    assert credentials["with"]["role-to-assume"] == REVIEWER_ROLE
    step = step_by_name(job, "Describe the versions")
    assert step["env"] == {"VERSIONS": "${{ needs.dev.outputs.prod-versions }}"} and "version_cards.py" in step["run"]


def test_account_ids_are_not_masked_where_arns_cross_jobs():
    # A job output holding a masked value is dropped by the runner; configure-aws-credentials
    # v6 masks the account id only when asked to.
    for name, job_id in (("approve-model.yml", "describe"), ("deploy.yml", "dev"), ("deploy.yml", "prod-versions")):
        for step in steps_using(workflow(name)["jobs"][job_id], AWS_CREDENTIALS):
            assert str(step["with"].get("mask-aws-account-id", "false")).lower() == "false", (name, job_id)
