"""The shell steps that guard the workflows, run with bash exactly as written in the YAML.

Untrusted inputs arrive through env variables; these tests feed them hostile values and
check the guards stop before any credential is requested. The approval itself runs the
real `aws` CLI against the moto server.
"""
from __future__ import annotations

import os
import shutil

import boto3
import pytest

from tests.github.workflow_files import (
    STACKS, action_paths, environment_name, load, run_step, step_by_name, workflow,
)

GROUP = "mammography-xgboost"
ACCOUNT = "123456789012"
GOOD_ARN = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/{GROUP}/3"


def approve_job():
    (job,) = workflow("approve-model.yml")["jobs"].values()
    return job


def approval_values(arn, comment="", group=GROUP, region="eu-west-1"):
    return {"inputs.model_package_arn": arn, "inputs.comment": comment,
            "vars.MODEL_PACKAGE_GROUP_NAME": group, "vars.AWS_REGION": region}


def validate(tmp_path, **kw):
    return run_step(step_by_name(approve_job(), "Validate"), approval_values(**kw), tmp_path)


def test_a_version_arn_of_the_configured_group_passes_validation(tmp_path):
    proc = validate(tmp_path, arn=GOOD_ARN, comment="AUC 0.86 on holdout, reviewed by @ana")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "output").read_text() == "version=3\n"


def test_other_partitions_pass_when_the_region_matches(tmp_path):
    arn = f"arn:aws-us-gov:sagemaker:us-gov-west-1:{ACCOUNT}:model-package/{GROUP}/12"
    proc = validate(tmp_path, arn=arn, region="us-gov-west-1")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("arn, message", [
    ("", "not a model package version ARN"),
    (f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package-group/{GROUP}", "not a model package version ARN"),
    (f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/{GROUP}", "not a model package version ARN"),
    (f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/{GROUP}/0", "not a model package version ARN"),
    (f"arn:aws:sagemaker:eu-west-1:12345:model-package/{GROUP}/3", "not a model package version ARN"),
    (GOOD_ARN + "; touch pwned", "not a model package version ARN"),
    (GOOD_ARN + "\n::add-mask::x", "not a model package version ARN"),
    ("$(touch pwned)", "not a model package version ARN"),
    (f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/other-group/3", "names group 'other-group'"),
    (f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{GROUP}/3", "in region 'us-east-1'"),
])
def test_anything_else_is_refused_with_the_reason(tmp_path, arn, message):
    proc = validate(tmp_path, arn=arn)
    assert proc.returncode != 0
    assert message in proc.stdout
    assert not (tmp_path / "pwned").exists()
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize("comment", ["x" * 801, "first line\nsecond line", "tab\there"])
def test_comments_must_be_one_short_line(tmp_path, comment):
    proc = validate(tmp_path, arn=GOOD_ARN, comment=comment)
    assert proc.returncode != 0 and "comment" in proc.stdout


def test_an_unconfigured_environment_is_reported_as_such(tmp_path):
    proc = validate(tmp_path, arn=GOOD_ARN, group="")
    assert proc.returncode != 0 and "MODEL_PACKAGE_GROUP_NAME" in proc.stdout


def test_the_approval_step_approves_the_version_with_who_and_why(tmp_path, aws):
    aws_cli = shutil.which("aws")
    assert aws_cli, "the approval step runs the AWS CLI: install it (GitHub runners have it)"
    sm = boto3.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    arn = sm.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={"Containers": [{"Image": "xgboost:3.0-5"}],
                                "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["text/csv"]},
    )["ModelPackageArn"]
    values = {**approval_values(arn, comment="AUC 0.86, reviewed"),
              "github.triggering_actor": "ana", "steps.validate.outputs.version": "1",
              "github.server_url": "https://github.com", "github.repository": "acme/mlops",
              "github.run_id": "42"}
    # What configure-aws-credentials leaves behind, here pointing at the moto server.
    credentials = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    proc = run_step(step_by_name(approve_job(), "Approve"), values, tmp_path, extra_env=credentials)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    package = sm.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == (
        "Approved through GitHub (requested by ana): "
        "https://github.com/acme/mlops/actions/runs/42 - AUC 0.86, reviewed")
    assert "version 1 approved" in (tmp_path / "summary").read_text()


# --- stack guards ----------------------------------------------------------------------

def guard_cases():
    for jid, job in workflow("deploy.yml")["jobs"].items():
        if environment_name(job):
            yield pytest.param(job, environment_name(job), id=f"deploy-{jid}")


@pytest.mark.parametrize("job, stack", list(guard_cases()))
def test_deploy_jobs_stop_when_their_environment_belongs_to_another_stack(tmp_path, job, stack):
    guard = step_by_name(job, "Check that the environment")
    assert run_step(guard, {"vars.PULUMI_STACK": stack}, tmp_path).returncode == 0
    for other in set(STACKS) - {stack}:
        proc = run_step(guard, {"vars.PULUMI_STACK": other}, tmp_path)
        assert proc.returncode != 0 and f"expected '{stack}'" in proc.stdout


@pytest.mark.parametrize("typed", ["", "Dev", "DEV", "dev ", " dev", "prod", "registry", "yes"])
def test_destroy_needs_the_exact_stack_name(tmp_path, typed):
    (job,) = workflow("destroy-dev.yml")["jobs"].values()
    proc = run_step(step_by_name(job, "Check the confirmation"),
                    {"inputs.confirm": typed, "vars.PULUMI_STACK": "dev"}, tmp_path)
    assert proc.returncode != 0 and "Nothing was destroyed" in proc.stdout


def test_destroy_proceeds_on_dev_only(tmp_path):
    (job,) = workflow("destroy-dev.yml")["jobs"].values()
    step = step_by_name(job, "Check the confirmation")
    assert run_step(step, {"inputs.confirm": "dev", "vars.PULUMI_STACK": "dev"}, tmp_path).returncode == 0
    wrong_env = run_step(step, {"inputs.confirm": "dev", "vars.PULUMI_STACK": "prod"}, tmp_path)
    assert wrong_env.returncode != 0


def test_fork_pull_requests_are_told_why_there_is_no_preview(tmp_path):
    job = workflow("preview.yml")["jobs"]["fork-notice"]
    proc = run_step(step_by_name(job, "Explain"), {}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = (tmp_path / "summary").read_text()
    assert "fork" in summary and "OIDC" in summary and "${{" not in summary


# --- composite action ------------------------------------------------------------------

@pytest.mark.parametrize("extras", ["dev]; touch pwned; [", "dev,", "DEV", "../x", "dev test"])
def test_the_install_step_refuses_odd_extras_before_running_pip(tmp_path, extras):
    (path,) = [p for p in action_paths() if p.parent.name == "python-env"]
    step = next(s for s in load(path)["runs"]["steps"] if "run" in s)
    proc = run_step(step, {"inputs.extras": extras}, tmp_path)
    assert proc.returncode != 0 and "extras" in proc.stdout
    assert not (tmp_path / "pwned").exists()
