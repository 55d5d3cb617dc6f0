"""CI keeps the built definitions between runs: every job that previews or deploys a workload stack
restores the definition cache's directory before Pulumi runs, keyed by the ml code and the config."""
from __future__ import annotations

from pathlib import Path

import pytest

from ml.pipelines import cache
from tests.github.workflow_files import PULUMI, steps_of, steps_using, workflow

CACHE_ACTION = "actions/cache"
WORKLOAD_STACKS = ("dev", "prod")


def pulumi_jobs(name: str) -> list[tuple[str, dict, list[str]]]:
    """(job id, job, the workload stacks it runs Pulumi on) for each job of a workflow that does."""
    found = []
    for job_id, job in workflow(name)["jobs"].items():
        for step in steps_using(job, PULUMI):
            stack = str(step["with"]["stack-name"]).rsplit("/", 1)[1]
            stacks = [s for s in (job.get("strategy", {}).get("matrix", {}).get("include") or [])
                      if s.get("stack") in WORKLOAD_STACKS] if "matrix.stack" in stack else [{"stack": stack}]
            found.append((job_id, job, [s["stack"] for s in stacks if s["stack"] in WORKLOAD_STACKS]))
    return found


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_jobs_that_evaluate_a_workload_stack_restore_the_definition_cache_first(name, monkeypatch):
    monkeypatch.delenv(cache.ENV_SWITCH, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    default = cache.cache_dir()
    assert default is not None
    checked = 0
    for job_id, job, stacks in pulumi_jobs(name):
        if not stacks:
            continue
        (restore,) = [s for s in steps_of(job) if str(s.get("uses", "")).startswith(CACHE_ACTION + "@")]
        steps = steps_of(job)
        assert steps.index(restore) < steps.index(steps_using(job, PULUMI)[0]), f"{job_id}: restore before Pulumi"
        # The program's default directory (MLOPS_DEFINITION_CACHE unset in the workflows).
        assert Path(restore["with"]["path"].replace("~", str(Path.home()), 1)) == default, job_id
        assert not any(cache.ENV_SWITCH in str(s.get("env", {})) for s in steps), job_id
        key, fallback = restore["with"]["key"], restore["with"]["restore-keys"].strip()
        assert "hashFiles('ml/**'" in key and "Pulumi.yaml" in key, f"{job_id}: keyed by the ml code and config"
        assert key.startswith(fallback) and "Pulumi.yaml" not in fallback, \
            f"{job_id}: a config change restores the entries of the same ml code"
        checked += len(stacks)
    assert checked >= 2, f"{name}: dev and prod both evaluated with the cache"


def test_the_registry_has_no_pipelines_so_its_jobs_cache_nothing():
    for job_id, job, stacks in pulumi_jobs("deploy.yml"):
        if not stacks:
            assert not [s for s in steps_of(job) if str(s.get("uses", "")).startswith(CACHE_ACTION + "@")], job_id
    preview_restore = [s for _, job, _ in pulumi_jobs("preview.yml") for s in steps_of(job)
                       if str(s.get("uses", "")).startswith(CACHE_ACTION + "@")]
    assert [s.get("if") for s in preview_restore] == ["matrix.stack != 'registry'"]
