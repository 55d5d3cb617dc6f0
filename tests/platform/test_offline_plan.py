"""`python -m mlops_platform plan`: each stack's resources and cross-account wiring, from the
real stack files, with no credentials and no Pulumi CLI."""
from __future__ import annotations

import os
import subprocess
import sys

from mlops_platform.offline.plan import cross_account_wiring, render

REG, DEV, PROD = "111111111111", "222222222222", "333333333333"


def test_registry_wiring_names_the_workload_accounts_and_nothing_else(registry):
    lines = cross_account_wiring(registry, REG)
    assert lines and all(f"accounts {DEV},{PROD}" in line or f"accounts {DEV}" in line or f"accounts {PROD}" in line
                         for line in lines)
    sids = " ".join(lines)
    for sid in ("WorkloadRolesUseKeyThroughS3AndSageMaker", "WorkloadRolesRegisterAndRead", "DevWritesOwnModels",
                "ProdWritesOwnModels"):
        assert sid in sids


def test_workload_wiring_points_at_the_registry_only(dev):
    lines = cross_account_wiring(dev, DEV)
    assert lines and all(line.split("accounts ")[1].startswith(REG + " ") for line in lines)
    assert any("RegisterIntoCentralGroup" in line for line in lines)


def test_render_lists_resources_the_stack_reference_and_exports(dev):
    text = render(dev)
    assert text.startswith(f"== stack dev (account {DEV}, ")
    assert "pulumi-python:dynamic/mlops:SageMakerPipeline" in text
    assert "reads stack: example-org/mlops-platform/registry" in text
    assert "trainingPipelineArn" in text.split("exports: ")[1]


def _plan(*args: str) -> subprocess.CompletedProcess:
    no_credentials = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([sys.executable, "-m", "mlops_platform", *args], capture_output=True, text=True,
                          timeout=300, env=no_credentials)


def test_the_command_plans_all_three_stacks_registry_first_without_credentials():
    done = _plan("plan")
    assert done.returncode == 0, done.stderr
    headers = [line.split(" (")[0] for line in done.stdout.splitlines() if line.startswith("== stack")]
    assert headers == ["== stack registry", "== stack dev", "== stack prod"]
    assert done.stdout.count("reads stack: example-org/mlops-platform/registry") == 2
    assert "DEBUG" not in done.stdout + done.stderr  # the SDK's build chatter is kept out


def test_the_command_says_how_to_use_it():
    done = _plan("deploy")
    assert done.returncode == 2 and "usage: python -m mlops_platform plan" in done.stderr
