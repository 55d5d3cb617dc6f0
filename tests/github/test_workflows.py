"""Rules every workflow and the composite action follow: least privilege, pinned actions,
no untrusted text in shell, short-lived credentials only, bounded run time."""
from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from mlops_platform.github_settings import APP_CLIENT_ID, APP_PRIVATE_KEY
from tests.github.workflow_files import (
    AWS_CREDENTIALS,
    CHECKOUT,
    GITHUB_APP_TOKEN,
    MUTATING_COMMANDS,
    PULUMI,
    PULUMI_AUTH,
    ROOT,
    STACKS,
    action_name,
    action_paths,
    all_steps,
    environment_name,
    load,
    steps_of,
    steps_using,
    triggers,
    workflow,
    workflow_paths,
)

WORKFLOWS = workflow_paths()
IDS = [p.name for p in WORKFLOWS]
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?:#\s*(?P<comment>.*?))?"
                       r"(?:\s*#\s*zizmor:\s*ignore\[(?P<ignored>[\w,-]+)\])?$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
OIDC_ACTIONS = {AWS_CREDENTIALS, PULUMI_AUTH}
PROMOTION_SCRIPT = ".github/scripts/promote_version.py"


def jobs(path):
    return load(path)["jobs"].items()


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_workflow_grants_no_permissions_by_default(path):
    assert load(path).get("permissions") == {}, "set top-level `permissions: {}`"


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_every_job_states_its_permissions_and_a_timeout(path):
    for job_id, job in jobs(path):
        assert isinstance(job.get("permissions"), dict), f"{job_id}: explicit permissions map"
        assert "write-all" not in str(job["permissions"]) and "read-all" not in str(job["permissions"])
        timeout = job.get("timeout-minutes")
        assert isinstance(timeout, int) and 0 < timeout <= 120, f"{job_id}: timeout-minutes"


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_only_jobs_that_log_in_with_oidc_may_request_an_id_token(path):
    for job_id, job in jobs(path):
        logs_in = any(action_name(s) in OIDC_ACTIONS for s in steps_of(job))
        asks = job["permissions"].get("id-token") == "write"
        assert logs_in == asks, f"{job_id}: id-token: write exactly when it assumes a role"


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_no_workflow_uses_triggers_that_run_untrusted_code_with_secrets(path):
    assert not {"pull_request_target", "workflow_run"} & set(triggers(load(path)))


def test_every_remote_action_is_pinned_to_a_commit_with_its_version_in_a_comment():
    pins: dict[str, set[str]] = {}
    ignores: list[tuple[str, str, str]] = []
    files = [*WORKFLOWS, *action_paths()]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = USES_LINE.match(line)
            if not m or m["ref"].startswith("./"):
                continue
            pin = PINNED.match(m["ref"])
            if m["ignored"]:
                ignores.append((path.name, pin["action"] if pin else m["ref"], m["ignored"]))
            assert pin, f"{path.name}: {m['ref']} is not pinned to a 40-hex commit SHA"
            assert m["comment"] and re.fullmatch(r"v\d+(\.\d+)*", m["comment"].strip()), \
                f"{path.name}: {m['ref']} needs its release in a comment, e.g. `# v1.2.3`"
            pins.setdefault(pin["action"], set()).add(m["ref"] + " " + m["comment"].strip())
    assert {CHECKOUT, "actions/setup-python", AWS_CREDENTIALS, PULUMI, PULUMI_AUTH, GITHUB_APP_TOKEN} <= set(pins)
    drift = {a: refs for a, refs in pins.items() if len(refs) > 1}
    assert drift == {}, f"one action, several pins: {drift}"
    # The one audit finding accepted, with its reason in the workflow: the registry's App token
    # cannot be narrowed (the token request has no permission name for repository variables).
    assert ignores == [("deploy.yml", GITHUB_APP_TOKEN, "github-app")]


def test_local_actions_exist():
    for path, where, step in all_steps():
        uses = step.get("uses", "")
        if uses.startswith("./"):
            # Local actions resolve against the checked-out workspace, i.e. the repo root.
            assert (ROOT / uses[2:] / "action.yml").exists(), f"{path.name}/{where}: {uses}"


def test_no_expression_is_expanded_inside_a_shell_script():
    # `${{ }}` in `run:` is pasted into the script before bash runs: pass values through env.
    offenders = [(p.name, where, s.get("name")) for p, where, s in all_steps()
                 if "run" in s and "${{" in s["run"]]
    assert offenders == []


def test_untrusted_event_text_reaches_steps_only_through_env():
    # Inputs and event payloads may appear in `env:` (quoted by the shell) or `with:`
    # of our own pinned actions, never in a step name or a working directory.
    for path, where, step in all_steps():
        for key in ("name", "working-directory", "shell"):
            text = str(step.get(key, ""))
            assert "github.event" not in text and "inputs." not in text, (path.name, where, key)


def test_checkouts_do_not_leave_the_token_in_the_workspace():
    checkouts = [(p, s) for p, _, s in all_steps() if action_name(s) == CHECKOUT]
    assert checkouts
    for path, step in checkouts:
        assert (step.get("with") or {}).get("persist-credentials") is False, path.name


def test_no_long_lived_credentials_are_referenced():
    for path in [*WORKFLOWS, *action_paths()]:
        text = path.read_text(encoding="utf-8")
        for needle in ("aws-access-key-id", "aws-secret-access-key", "PULUMI_ACCESS_TOKEN", "GH_PAT"):
            assert needle not in text, f"{path.name} mentions {needle}"


def test_the_only_secrets_are_the_app_credentials_inside_deploy_environments():
    # A pull request's workflow can read repository secrets but cannot enter an environment
    # restricted to main: the App's key is an environment secret, read only by the token step.
    used = []
    for path in WORKFLOWS:
        for job_id, job in jobs(path):
            for step in steps_of(job):
                refs = set(re.findall(r"secrets\.(\w+)", str(step)))
                if not refs:
                    continue
                used.append((path.name, job_id))
                assert action_name(step) == GITHUB_APP_TOKEN, (path.name, job_id, step.get("name"))
                assert step["with"]["client-id"] == "${{ secrets." + APP_CLIENT_ID + " }}"
                assert step["with"]["private-key"] == "${{ secrets." + APP_PRIVATE_KEY + " }}"
                assert refs == {APP_CLIENT_ID, APP_PRIVATE_KEY}
                assert environment_name(job) in STACKS, f"{path.name}:{job_id} reads secrets outside an environment"
            assert "secrets" not in str({k: v for k, v in job.items() if k != "steps"}), (path.name, job_id)
    for path in action_paths():
        assert "secrets." not in path.read_text(encoding="utf-8")
    assert ("deploy.yml", "prod") in used


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_the_github_token_is_minted_per_job_and_reaches_one_step_only(path):
    # Deploy jobs hand it to the Pulumi step (the GitHub provider); promotion jobs, which run no
    # Pulumi, to the step that opens the pull request.
    for job_id, job in jobs(path):
        minted = steps_using(job, GITHUB_APP_TOKEN)
        if not minted:
            assert "github-token" not in str(job), f"{job_id} uses a GitHub token it did not mint"
            continue
        (step,) = minted
        assert environment_name(job) in STACKS, f"{job_id}: a GitHub token outside a deploy environment"
        assert not {"owner", "repositories", "skip-token-revoke"} & set(step["with"]), \
            "the token is for this repository only and is revoked when the job ends"
        token = "${{ steps." + step["id"] + ".outputs.token }}"
        users = [s for s in steps_of(job) if "steps." + step["id"] + ".outputs.token" in str(s)]
        if steps_using(job, PULUMI):
            assert users == steps_using(job, PULUMI), f"{job_id}: the token reaches other steps"
            for pulumi_step in users:
                assert pulumi_step["env"] == {"GITHUB_TOKEN": token}
                assert "github-token" not in pulumi_step["with"], "the action's own token input stays the job token"
        else:
            (user,) = users
            assert PROMOTION_SCRIPT in user["run"], f"{job_id}: the token reaches a step that is not the promotion"
            assert {k for k, v in user["env"].items() if "outputs.token" in v} == {"GH_TOKEN"}
            assert user["env"]["GH_TOKEN"] == token
        names = [s.get("name") for s in steps_of(job)]
        assert names.index(step["name"]) < names.index(users[0]["name"])


def test_jobs_that_only_open_pull_requests_get_a_token_for_exactly_that():
    promoting = []
    for path in WORKFLOWS:
        for job_id, job in jobs(path):
            if steps_using(job, GITHUB_APP_TOKEN) and not steps_using(job, PULUMI):
                (step,) = steps_using(job, GITHUB_APP_TOKEN)
                permissions = {k: v for k, v in step["with"].items() if k.startswith("permission-")}
                assert permissions == {"permission-contents": "write", "permission-pull-requests": "write"}, job_id
                # The job's own GITHUB_TOKEN stays read-only: the App token does the writing.
                assert job["permissions"] == {"contents": "read"}, job_id
                promoting.append((path.name, job_id))
    assert promoting == [("approve-model.yml", "propose"), ("deploy.yml", "promote-prod")]


def test_jobs_that_change_github_get_a_token_and_dev_and_prod_only_what_they_need():
    wf = workflow("deploy.yml")
    for job in wf["jobs"].values():
        if any(s["with"].get("command") == "up" for s in steps_using(job, PULUMI)):
            (step,) = steps_using(job, GITHUB_APP_TOKEN)
            permissions = {k: v for k, v in step["with"].items() if k.startswith("permission-")}
            if environment_name(job) == "registry":
                assert permissions == {}, "see the comment on the registry's token step"
            else:
                assert permissions == {"permission-administration": "write", "permission-environments": "write"}


def test_previews_and_drift_checks_get_a_read_only_pulumi_team_token_and_deploys_the_organization_token():
    kinds = {}
    for path in WORKFLOWS:
        for job_id, job in jobs(path):
            for step in steps_using(job, PULUMI_AUTH):
                mutating = any(s["with"].get("command") in MUTATING_COMMANDS for s in steps_using(job, PULUMI))
                kinds[(path.name, job_id)] = "organization" if mutating else "team"
                if mutating:
                    assert environment_name(job) in STACKS
                    assert step["with"] == {
                        "organization": "${{ vars.PULUMI_ORGANIZATION }}",
                        "requested-token-type": "urn:pulumi:token-type:access_token:organization",
                        "token-expiration": 7200,
                    }
                else:
                    assert environment_name(job) is None
                    assert step["with"] == {
                        "organization": "${{ vars.PULUMI_ORGANIZATION }}",
                        "requested-token-type": "urn:pulumi:token-type:access_token:team",
                        "scope": "team:${{ vars.PULUMI_PREVIEW_TEAM }}",
                    }
    assert kinds[("preview.yml", "preview")] == "team" and kinds[("infra-drift.yml", "drift")] == "team"
    assert kinds[("deploy.yml", "prod")] == "organization" and kinds[("destroy-dev.yml", "destroy")] == "organization"


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_credentials_outlive_the_jobs_that_use_them(path):
    for job_id, job in jobs(path):
        for step in steps_using(job, AWS_CREDENTIALS):
            seconds = step["with"].get("role-duration-seconds")
            assert isinstance(seconds, int), f"{job_id}: request the session length explicitly"
            # CI roles allow sessions of at most 2 hours (max_session_duration 7200).
            assert 900 <= seconds <= 7200, job_id
            assert job["timeout-minutes"] * 60 <= seconds, f"{job_id}: the job outlives its AWS session"
        for step in steps_using(job, PULUMI_AUTH):
            # Pulumi Cloud issues OIDC tokens for 2 hours unless asked otherwise.
            seconds = step["with"].get("token-expiration", 7200)
            assert job["timeout-minutes"] * 60 <= seconds, f"{job_id}: the job outlives its Pulumi token"


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_aws_and_pulumi_logins_come_before_pulumi_runs(path):
    for job_id, job in jobs(path):
        names = [action_name(s) for s in steps_of(job)]
        if PULUMI in names:
            first_pulumi = names.index(PULUMI)
            assert AWS_CREDENTIALS in names[:first_pulumi], job_id
            assert PULUMI_AUTH in names[:first_pulumi], job_id


@pytest.mark.parametrize("path", WORKFLOWS, ids=IDS)
def test_the_pulumi_cli_is_pinned_to_the_sdk_version(path):
    wf = load(path)
    for job_id, job in jobs(path):
        for step in steps_using(job, PULUMI):
            wanted = step["with"].get("pulumi-version", "")
            m = re.fullmatch(r"\$\{\{\s*env\.(\w+)\s*\}\}", wanted)
            pinned = (wf.get("env") or {}).get(m[1]) if m else wanted
            assert pinned == version("pulumi"), f"{job_id}: CLI {pinned!r}, SDK {version('pulumi')}"


def test_the_composite_action_installs_with_the_constraints_file():
    (path,) = [p for p in action_paths() if p.parent.name == "python-env"]
    runs = [s["run"] for s in load(path)["runs"]["steps"] if "run" in s]
    assert any("-c constraints.txt" in r and "pip install" in r for r in runs)
