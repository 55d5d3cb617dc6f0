"""Rules every workflow and the composite action follow: least privilege, pinned actions,
no untrusted text in shell, short-lived credentials only, bounded run time."""
from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from tests.github.workflow_files import (
    AWS_CREDENTIALS, CHECKOUT, PULUMI, PULUMI_AUTH, ROOT, action_name, action_paths, all_steps, load,
    steps_of, steps_using, triggers, workflow_paths,
)

WORKFLOWS = workflow_paths()
IDS = [p.name for p in WORKFLOWS]
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)\s*(?:#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
OIDC_ACTIONS = {AWS_CREDENTIALS, PULUMI_AUTH}


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
    files = [*WORKFLOWS, *action_paths()]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = USES_LINE.match(line)
            if not m or m["ref"].startswith("./"):
                continue
            pin = PINNED.match(m["ref"])
            assert pin, f"{path.name}: {m['ref']} is not pinned to a 40-hex commit SHA"
            assert m["comment"] and re.fullmatch(r"v\d+(\.\d+)*", m["comment"].strip()), \
                f"{path.name}: {m['ref']} needs its release in a comment, e.g. `# v1.2.3`"
            pins.setdefault(pin["action"], set()).add(m["ref"] + " " + m["comment"].strip())
    assert {CHECKOUT, "actions/setup-python", AWS_CREDENTIALS, PULUMI, PULUMI_AUTH} <= set(pins)
    drift = {a: refs for a, refs in pins.items() if len(refs) > 1}
    assert drift == {}, f"one action, several pins: {drift}"


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
        assert "secrets." not in text, f"{path.name}: use OIDC roles and variables, not secrets"
        for needle in ("aws-access-key-id", "aws-secret-access-key", "PULUMI_ACCESS_TOKEN"):
            assert needle not in text, f"{path.name} mentions {needle}"


def test_pulumi_logs_in_through_the_organization_token_exchange():
    auth_steps = [s for _, _, s in all_steps() if action_name(s) == PULUMI_AUTH]
    assert auth_steps
    for step in auth_steps:
        assert step["with"] == {
            "organization": "${{ vars.PULUMI_ORGANIZATION }}",
            "requested-token-type": "urn:pulumi:token-type:access_token:organization",
        }


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
