"""Promotion by pull request: the pin changes one line of the stack file and nothing else, and
the pull request is opened, with the version's card as its body, through the GitHub API."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.github.fake_github import FakeRepository, fake_github
from tests.github.workflow_files import GITHUB_DIR

SCRIPT = GITHUB_DIR / "scripts" / "promote_version.py"
sys.path.insert(0, str(SCRIPT.parent))
import promote_version as pv  # noqa: E402

STACK_FILE = """config:
  aws:region: eu-west-1
  # serve what was promoted by pull request
  mlops-platform:servedVersions:
    wdbc: "2"
  mlops-platform:retainData: true
"""
ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/mammo-severity-model-package/7"
PACKAGE = {"ModelPackageArn": ARN, "ModelPackageVersion": 7, "ModelApprovalStatus": "Approved",
           "CreatedBy": {"IamIdentity": {"Arn": "arn:aws:sts::222222222222:assumed-role/mlops-dev-sagemaker-execution/x"}},
           "InferenceSpecification": {"Containers": [{"Image": "img:3.0-5", "ModelDataUrl": "s3://b/models/dev/m.tar.gz"}]},
           "ModelMetrics": {"ModelQuality": {"Statistics": {"S3Uri": "s3://b/models/dev/evaluation.json"}}}}
EVALUATION = {"binary_classification_metrics": {"auc": {"value": 0.9123}}}


def test_pinning_adds_one_entry_in_order_and_keeps_every_other_line():
    pinned = pv.pin(STACK_FILE, "mammography", "7")
    assert pv.served_versions(pinned) == {"mammography": "7", "wdbc": "2"}
    assert pinned.splitlines() == [*STACK_FILE.splitlines()[:4], '    mammography: "7"', *STACK_FILE.splitlines()[4:]]


def test_repinning_replaces_the_version_and_a_file_without_pins_gets_the_map():
    assert pv.served_versions(pv.pin(STACK_FILE, "wdbc", "3")) == {"wdbc": "3"}
    bare = "config:\n  aws:region: eu-west-1\n"
    assert pv.served_versions(pv.pin(bare, "wdbc", "3")) == {"wdbc": "3"}
    assert pv.pin(bare, "wdbc", "3").startswith(bare)


@pytest.mark.parametrize(("model", "version", "why"), [
    ("Bad Model", "3", "not a model name"), ("wdbc", "latest", "version number"), ("wdbc", "3; rm -rf /", "version number")])
def test_pins_refuse_what_is_not_a_model_and_a_version(model, version, why):
    with pytest.raises(pv.PromotionError, match=why):
        pv.pin(STACK_FILE, model, version)


def test_pending_lists_what_dev_serves_and_prod_does_not_yet():
    dev = pv.pin(pv.pin(STACK_FILE, "mammography", "7"), "wdbc", "4")
    prod = pv.pin(STACK_FILE, "mammography", "7")
    assert pv.pending(dev, prod) == [("wdbc", "4")]
    assert pv.pending(prod, prod) == []


def _repository() -> FakeRepository:
    return FakeRepository("example-org/mlops-platform", {"main": {"Pulumi.dev.yaml": STACK_FILE}}, token="app-token")


def _propose(api: str, tmp_path, token: str = "app-token", package: dict | None = None):
    (tmp_path / "package.json").write_text(json.dumps(package or PACKAGE))
    (tmp_path / "evaluation.json").write_text(json.dumps(EVALUATION))
    env = {**os.environ, "GITHUB_API_URL": api, "GITHUB_REPOSITORY": "example-org/mlops-platform", "GH_TOKEN": token}
    return subprocess.run([sys.executable, str(SCRIPT), "propose", "--stack", "dev", "--model", "mammography",
                           "--version", "7", "--package", str(tmp_path / "package.json"),
                           "--evaluation", str(tmp_path / "evaluation.json")],
                          capture_output=True, text=True, env=env, timeout=60)


def test_a_proposal_branches_pins_and_opens_a_pull_request_with_the_card(tmp_path):
    repo = _repository()
    with fake_github(repo) as api:
        proc = _propose(api, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "https://github.test/example-org/mlops-platform/pull/1"
    branch = "promote/dev/mammography-7"
    assert pv.served_versions(repo.branches[branch]["Pulumi.dev.yaml"]) == {"mammography": "7", "wdbc": "2"}
    assert repo.branches["main"]["Pulumi.dev.yaml"] == STACK_FILE  # main changes only by the merge
    (pull,) = repo.pulls
    assert (pull["head"], pull["base"]) == (branch, "main")
    assert f"`{ARN}`" in pull["body"] and "| auc | 0.9123 |" in pull["body"] and "asks to serve in dev" in pull["body"]
    # Look for an earlier proposal, read the file, see the branch is new, branch, pin, open.
    assert [(m, url.split("?")[0]) for m, url, _ in repo.requests] == [
        ("GET", "/repos/example-org/mlops-platform/pulls"),
        ("GET", "/repos/example-org/mlops-platform/contents/Pulumi.dev.yaml"),
        ("GET", f"/repos/example-org/mlops-platform/git/ref/heads/{branch}"),
        ("GET", "/repos/example-org/mlops-platform/git/ref/heads/main"),
        ("POST", "/repos/example-org/mlops-platform/git/refs"),
        ("PUT", "/repos/example-org/mlops-platform/contents/Pulumi.dev.yaml"),
        ("POST", "/repos/example-org/mlops-platform/pulls")]


def test_a_version_that_is_not_approved_is_never_proposed(tmp_path):
    repo = _repository()
    with fake_github(repo) as api:
        proc = _propose(api, tmp_path, package={**PACKAGE, "ModelApprovalStatus": "PendingManualApproval"})
    assert proc.returncode == 2 and "not Approved" in proc.stderr
    assert repo.requests == [] and repo.pulls == []


def test_a_refused_token_fails_loudly_and_changes_nothing(tmp_path):
    repo = _repository()
    with fake_github(repo) as api:
        proc = _propose(api, tmp_path, token="wrong")
    assert proc.returncode == 2 and "HTTP 401" in proc.stderr
    assert list(repo.branches) == ["main"] and repo.pulls == []


def test_proposing_what_already_serves_opens_nothing(tmp_path):
    repo = FakeRepository("example-org/mlops-platform",
                          {"main": {"Pulumi.dev.yaml": pv.pin(STACK_FILE, "mammography", "7")}}, token="app-token")
    with fake_github(repo) as api:
        proc = _propose(api, tmp_path)
    assert proc.returncode == 2 and "already serves" in proc.stderr
    assert list(repo.branches) == ["main"]


# --- each promotion is proposed once -------------------------------------------------------

def test_asking_again_returns_the_open_pull_request_and_changes_nothing(tmp_path):
    repo = _repository()
    with fake_github(repo) as api:
        first, second = _propose(api, tmp_path), _propose(api, tmp_path)
    assert first.returncode == second.returncode == 0, second.stderr
    assert first.stdout == second.stdout and "exists (open)" in second.stderr
    assert len(repo.pulls) == 1 and [m for m, *_ in repo.requests].count("PUT") == 1


@pytest.mark.parametrize(("merged", "state"), [(False, "closed"), (True, "merged")])
def test_a_declined_or_merged_promotion_is_never_reopened(tmp_path, merged, state):
    # Merged then reverted (the rollback) looks like this too: dev still pins the version,
    # prod no longer does, and the later deploys must not ask again.
    repo = _repository()
    with fake_github(repo) as api:
        _propose(api, tmp_path)
        repo.close(1, merged=merged)
        repo.branches["main"]["Pulumi.dev.yaml"] = STACK_FILE  # reverted, or never merged
        again = _propose(api, tmp_path)
    assert again.returncode == 0 and f"exists ({state})" in again.stderr
    assert len(repo.pulls) == 1


def test_a_branch_left_by_an_interrupted_run_is_reused(tmp_path):
    repo = _repository()
    branch = "promote/dev/mammography-7"
    repo.branches[branch] = {"Pulumi.dev.yaml": pv.pin(STACK_FILE, "mammography", "7")}  # pinned, no pull request
    with fake_github(repo) as api:
        proc = _propose(api, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [(p["head"], p["state"]) for p in repo.pulls] == [(branch, "open")]
    writes = [(m, url) for m, url, _ in repo.requests if m != "GET"]
    assert writes == [("POST", "/repos/example-org/mlops-platform/pulls")], "no new branch, no second commit"


def _card(model: str, version: int, status: str = "Approved") -> dict:
    arn = f"arn:aws:sagemaker:eu-west-1:111111111111:model-package/{model}-group/{version}"
    return {"model": model, "version": str(version), "arn": arn, "evaluation": EVALUATION,
            "package": {**PACKAGE, "ModelPackageArn": arn, "ModelPackageVersion": version, "ModelApprovalStatus": status}}


def _propose_each(api: str, tmp_path, cards: list, stack: str = "prod"):
    (tmp_path / "cards.json").write_text(json.dumps(cards))
    env = {**os.environ, "GITHUB_API_URL": api, "GITHUB_REPOSITORY": "example-org/mlops-platform", "GH_TOKEN": "app-token"}
    return subprocess.run([sys.executable, str(SCRIPT), "propose-each", "--stack", stack, "--cards",
                           str(tmp_path / "cards.json")], capture_output=True, text=True, env=env, timeout=60)


def test_every_card_gets_its_pull_request_and_a_line_in_the_summary(tmp_path):
    repo = FakeRepository("example-org/mlops-platform", {"main": {"Pulumi.prod.yaml": STACK_FILE}}, token="app-token")
    with fake_github(repo) as api:
        proc = _propose_each(api, tmp_path, [_card("mammography", 7), _card("wdbc", 2), _card("wdbc", 5, "Rejected")])
        again = _propose_each(api, tmp_path, [_card("mammography", 7)])
    lines = proc.stdout.splitlines()
    assert lines[0] == "### Promotions to prod"
    assert "- `mammography` version `7`: opened: https://github.test/example-org/mlops-platform/pull/1" in lines
    assert "- `wdbc` version `2`: `Pulumi.prod.yaml` already pins it; nothing to promote." in lines
    assert any(line.startswith("- `wdbc` version `5`: **not proposed**") and "'Rejected', not Approved" in line
               for line in lines)
    assert proc.returncode == 1, "a card that could not be proposed fails the job, after the others were tried"
    assert [p["head"] for p in repo.pulls] == ["promote/prod/mammography-7"]
    assert "| auc | 0.9123 |" in repo.pulls[0]["body"] and "asks to serve in prod" in repo.pulls[0]["body"]
    assert again.returncode == 0 and "already proposed, still open" in again.stdout and len(repo.pulls) == 1


def test_no_cards_is_said_plainly(tmp_path):
    repo = _repository()
    with fake_github(repo) as api:
        proc = _propose_each(api, tmp_path, [], stack="dev")
    assert proc.returncode == 0 and "nothing to promote to dev" in proc.stdout and repo.requests == []


@pytest.mark.parametrize("card", [
    {"model": "Bad Model", "version": "7", "package": PACKAGE},
    {"model": "wdbc", "version": "7; rm -rf /", "package": PACKAGE},
    {"model": "wdbc", "version": "7"},
])
def test_a_malformed_card_is_refused_without_a_request(tmp_path, card):
    repo = _repository()
    with fake_github(repo) as api:
        proc = _propose_each(api, tmp_path, [card], stack="dev")
    assert proc.returncode == 1 and "**not proposed**" in proc.stdout
    assert repo.requests == [] and "rm -rf" not in proc.stdout.split("not proposed")[0]
