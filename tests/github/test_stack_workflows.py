"""What each workflow does to the three stacks: previews on pull requests, deploys in order
on main, drift checks daily, destroys dev only, approves models through an environment."""
from __future__ import annotations

import re

import pytest

from mlops_platform.components.github_control import REQUIRED_CHECKS
from tests.github.expressions import evaluate
from tests.github.workflow_files import (
    AWS_CREDENTIALS,
    MUTATING_COMMANDS,
    PULUMI,
    PULUMI_AUTH,
    ROOT,
    STACKS,
    ancestors,
    environment_name,
    load,
    steps_of,
    steps_using,
    triggers,
    workflow,
    workflow_paths,
)

DEPLOY_ROLE = "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
STACK_NAME = "${{ vars.PULUMI_ORGANIZATION }}/"


def pulumi_step(job):
    (step,) = steps_using(job, PULUMI)
    return step["with"]


def matrix_stacks(job):
    """stack -> the role its matrix entry assumes, for a job run once per stack."""
    return {e["stack"]: e["preview-role"] for e in job["strategy"]["matrix"]["include"]}


def assumed_role(job):
    (step,) = steps_using(job, AWS_CREDENTIALS)
    return step["with"]["role-to-assume"]


def preview_role_var(stack):
    return "${{ vars.AWS_PREVIEW_ROLE_ARN_" + stack.upper() + " }}"


def test_stack_files_at_the_root_are_the_stacks_the_workflows_know():
    on_disk = {p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml")}
    assert on_disk <= set(STACKS), f"add {sorted(on_disk - set(STACKS))} to the workflows"


# --- preview.yml -----------------------------------------------------------------------

def test_pull_requests_preview_every_stack_with_its_read_only_role_after_the_tests():
    wf = workflow("preview.yml")
    assert set(triggers(wf)) == {"pull_request"}
    job = wf["jobs"]["preview"]
    assert matrix_stacks(job) == {s: preview_role_var(s) for s in STACKS}
    assert job["strategy"]["fail-fast"] is False
    assert "test" in ancestors(wf["jobs"], "preview")
    assert environment_name(job) is None, "an environment would change the OIDC subject"
    assert assumed_role(job) == "${{ matrix.preview-role }}"
    step = pulumi_step(job)
    assert step["command"] == "preview"
    assert step["stack-name"] == STACK_NAME + "${{ matrix.stack }}"
    assert step["policyPacks"] == "policy"
    assert step["comment-on-pr"] is True
    assert job["permissions"]["pull-requests"] == "write"


def test_the_test_jobs_run_the_suite():
    for name in ("preview.yml", "deploy.yml"):
        runs = [s.get("run", "") for s in steps_of(workflow(name)["jobs"]["test"])]
        assert "python -m pytest -q" in runs, name


def pr_event(head_repo):
    return {"github": {"repository": "acme/mlops", "event": {
        "pull_request": {"head": {"repo": {"full_name": head_repo}}}}}}


@pytest.mark.parametrize("head_repo", ["someone/mlops", "Someone-Else/fork"])
def test_fork_pull_requests_get_the_tests_and_a_summary_but_no_oidc(head_repo):
    wf = workflow("preview.yml")
    ran = {jid: j for jid, j in wf["jobs"].items() if evaluate(j.get("if"), pr_event(head_repo))}
    assert "test" in ran and "preview" not in ran
    for jid, job in ran.items():
        assert "id-token" not in job["permissions"], jid
        assert not {AWS_CREDENTIALS, PULUMI_AUTH, PULUMI} & {s.get("uses", "").split("@")[0]
                                                            for s in steps_of(job)}, jid
    summaries = [s["run"] for j in ran.values() for s in steps_of(j) if "GITHUB_STEP_SUMMARY" in s.get("run", "")]
    assert summaries and "fork" in summaries[0]


def test_pull_requests_from_this_repository_get_the_previews():
    wf = workflow("preview.yml")
    ran = {jid for jid, j in wf["jobs"].items() if evaluate(j.get("if"), pr_event("acme/mlops"))}
    assert ran == {"test", "preview"}


# --- deploy.yml ------------------------------------------------------------------------

def deploy_jobs():
    """deploy.yml and its `pulumi up` job per stack (the promotion job is bound to dev's
    environment for the App key, but changes no stack)."""
    wf = workflow("deploy.yml")
    by_stack = {environment_name(j): jid for jid, j in wf["jobs"].items()
                if any(s["with"].get("command") == "up" for s in steps_using(j, PULUMI))}
    return wf, by_stack


def test_main_deploys_every_stack_once_in_order_registry_dev_prod():
    wf, by_stack = deploy_jobs()
    assert set(triggers(wf)) == {"push", "workflow_dispatch"}
    assert triggers(wf)["push"] == {"branches": ["main"]}
    assert set(by_stack) == set(STACKS)
    jobs = wf["jobs"]
    for earlier, later in zip(STACKS, STACKS[1:], strict=False):
        assert by_stack[earlier] in ancestors(jobs, by_stack[later]), f"{later} must wait for {earlier}"
    assert "test" in ancestors(jobs, by_stack[STACKS[0]])


@pytest.mark.parametrize("stack", STACKS)
def test_each_deploy_job_uses_its_environment_role_and_a_non_cancelling_lock(stack):
    wf, by_stack = deploy_jobs()
    job = wf["jobs"][by_stack[stack]]
    assert environment_name(job) == stack
    assert assumed_role(job) == DEPLOY_ROLE
    step = pulumi_step(job)
    assert (step["command"], step["stack-name"]) == ("up", STACK_NAME + stack)
    assert step["policyPacks"] == "policy"
    # GitHub settings changed by hand are read back and put back by every deploy.
    assert step["refresh"] is True
    assert job["concurrency"] == {"group": f"pulumi-stack-{stack}", "cancel-in-progress": False}
    main = {"github": {"ref": "refs/heads/main"}}
    assert evaluate(job.get("if"), main)
    assert not evaluate(job.get("if"), {"github": {"ref": "refs/heads/feature"}})


def test_stacks_are_changed_only_by_jobs_bound_to_that_stacks_environment():
    changing = []
    for path in workflow_paths():
        for jid, job in load(path)["jobs"].items():
            for step in steps_using(job, PULUMI):
                if step["with"].get("command") in MUTATING_COMMANDS:
                    stack = step["with"]["stack-name"].removeprefix(STACK_NAME)
                    changing.append((path.name, stack))
                    assert environment_name(job) == stack, f"{path.name}:{jid} changes {stack}"
                    assert assumed_role(job) == DEPLOY_ROLE, f"{path.name}:{jid}"
    assert ("deploy.yml", "prod") in changing


def test_the_deploy_role_is_only_assumed_inside_an_environment():
    for path in workflow_paths():
        for jid, job in load(path)["jobs"].items():
            if any(s.get("with", {}).get("role-to-assume") == DEPLOY_ROLE for s in steps_of(job)):
                assert environment_name(job) in STACKS, f"{path.name}:{jid}"


# --- infra-drift.yml -------------------------------------------------------------------

def test_drift_is_checked_daily_on_every_stack_without_changing_anything():
    wf = workflow("infra-drift.yml")
    on = triggers(wf)
    assert set(on) == {"schedule", "workflow_dispatch"} and on["schedule"][0]["cron"]
    job = wf["jobs"]["drift"]
    assert matrix_stacks(job) == {s: preview_role_var(s) for s in STACKS}
    assert environment_name(job) is None
    step = pulumi_step(job)
    assert step["command"] == "preview"
    assert step["refresh"] is True and step["expect-no-changes"] is True


def test_drift_opens_an_issue_only_when_a_check_failed():
    wf = workflow("infra-drift.yml")
    (notify_id,) = [jid for jid, j in wf["jobs"].items() if j["permissions"].get("issues") == "write"]
    notify = wf["jobs"][notify_id]
    assert "drift" in ancestors(wf["jobs"], notify_id)
    assert notify["permissions"] == {"issues": "write"}
    assert evaluate(notify.get("if"), {}, {"success": False, "failure": True})
    assert not evaluate(notify.get("if"), {}, {"success": True, "failure": False})
    assert "gh issue create" in steps_of(notify)[-1]["run"]


# --- destroy-dev.yml -------------------------------------------------------------------

def test_destroy_is_manual_confirmed_and_only_ever_targets_dev():
    wf = workflow("destroy-dev.yml")
    on = triggers(wf)
    assert set(on) == {"workflow_dispatch"}
    assert on["workflow_dispatch"]["inputs"]["confirm"]["required"] is True
    for jid, job in wf["jobs"].items():
        assert environment_name(job) == "dev", jid
        assert "strategy" not in job, "no matrix may widen the target"
        assert job["concurrency"]["group"] == "pulumi-stack-dev"
        first = steps_of(job)[0]
        assert "CONFIRM" in first.get("env", {}), "the confirmation is checked before anything else"
        for step in steps_using(job, PULUMI):
            assert (step["with"]["command"], step["with"]["stack-name"]) == ("destroy", STACK_NAME + "dev")
    others = [v for v in scalars(wf) for s in STACKS if s != "dev" and s in v.lower()]
    assert others == [], "destroy-dev.yml names another stack"


def scalars(node):
    """Every string key and value of a parsed YAML document (comments are not included)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from scalars(k)
            yield from scalars(v)
    elif isinstance(node, list):
        for v in node:
            yield from scalars(v)
    elif isinstance(node, str):
        yield node


def test_no_other_workflow_destroys_a_stack():
    for path in workflow_paths():
        if path.name != "destroy-dev.yml":
            for job in load(path)["jobs"].values():
                assert all(s["with"].get("command") != "destroy" for s in steps_using(job, PULUMI))


# --- approve-model.yml -----------------------------------------------------------------

def approve_workflow():
    wf = workflow("approve-model.yml")
    return wf, wf["jobs"]["review"], wf["jobs"]["approve"]


def test_model_approval_shows_the_version_before_reviewers_are_asked():
    wf, review, approve = approve_workflow()
    on = triggers(wf)
    assert set(on) == {"workflow_dispatch"}
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["model_package_arn"]["required"] is True and inputs["comment"]["required"] is False
    assert {"review", "approve"} <= set(wf["jobs"])
    # The review job holds no approval credential and waits for no one.
    assert environment_name(review) is None
    assert assumed_role(review) == "${{ vars.AWS_MODEL_REVIEWER_ROLE_ARN }}"
    assert "AWS_MODEL_APPROVER_ROLE_ARN" not in str(review)
    # Reviewers are asked only when the review job succeeded.
    assert approve["needs"] == "review" and "review" in ancestors(wf["jobs"], "approve")
    assert environment_name(approve) == "model-approval"
    assert approve["permissions"] == {"contents": "read", "id-token": "write"}
    assert assumed_role(approve) == "${{ vars.AWS_MODEL_APPROVER_ROLE_ARN }}"
    for job in (review, approve):
        names = [s.get("id") or s.get("uses", "").split("@")[0] for s in steps_of(job)]
        assert names.index("validate") < names.index(AWS_CREDENTIALS), "validate before credentials"
    assert "model_version_summary.py" in steps_of(review)[-1]["run"]
    approve_run = steps_of(approve)[-1]["run"]
    assert "aws sagemaker update-model-package" in approve_run
    assert "--model-approval-status Approved" in approve_run


@pytest.mark.parametrize("ref, runs", [("refs/heads/main", True), ("refs/heads/feature", False)])
def test_only_main_shows_a_version_so_only_main_reaches_the_approvers(ref, runs):
    wf, review, approve = approve_workflow()
    assert evaluate(review.get("if"), {"github": {"ref": ref}}) is runs
    # A skipped or failed review leaves `approve` unstarted: GitHub runs a job whose needs all succeeded.
    assert approve.get("if") is None


def test_a_request_never_cancels_another():
    # GitHub cancels the older pending run of a concurrency group: no group, no silent cancel.
    wf, review, approve = approve_workflow()
    assert "concurrency" not in wf and all("concurrency" not in j for j in wf["jobs"].values())


# --- main's ruleset and the preview checks ------------------------------------------------

def rendered_job_names(wf: dict, contexts: dict) -> set[str]:
    """The check names the jobs of `wf` report, with the matrix expanded (`${{ matrix.x }}`)."""
    names = set()
    for job in wf["jobs"].values():
        if not evaluate(job.get("if"), contexts):
            continue
        entries = (job.get("strategy") or {}).get("matrix", {}).get("include") or [{}]
        for entry in entries:
            names.add(re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: entry[m[1]], job["name"]))  # noqa: B023  (called at once)
    return names


def test_the_checks_main_requires_are_the_ones_a_same_repository_pull_request_reports():
    reported = rendered_job_names(workflow("preview.yml"), pr_event("acme/mlops"))
    assert set(REQUIRED_CHECKS) == reported


def test_the_test_jobs_run_the_gates_of_make_test_in_its_order():
    for name in ("preview.yml", "deploy.yml"):
        steps = steps_of(workflow(name)["jobs"]["test"])
        runs = [s.get("run", "") for s in steps]
        lint = next(i for i, r in enumerate(runs) if "ruff check platform ml policy tests bench" in r and "mypy" in r)
        suite = runs.index("python -m pytest -q")
        images = runs.index("python tests/ml/steps/images/run.py")
        assert lint < suite < images, name
        # The image tests run on the images' Python (3.10), set up right before them.
        assert steps[images - 1].get("with", {}).get("python-version") == "3.10", name
