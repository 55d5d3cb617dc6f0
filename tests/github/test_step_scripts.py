"""The shell steps that guard the workflows, run with bash exactly as written in the YAML.

Untrusted inputs arrive through env variables; these tests feed them hostile values and
check the guards stop before any credential is requested. The approval itself runs the
real `aws` CLI against the moto server.
"""
from __future__ import annotations

import json
import os
import re
import shutil

import boto3
import pytest

from tests.github.workflow_files import (
    ROOT,
    STACKS,
    action_paths,
    environment_name,
    load,
    run_step,
    step_by_name,
    triggers,
    workflow,
    workflow_paths,
)

GROUP = "mammography-xgboost"
# The platform's models and groups as the registry stack sets MODEL_PACKAGE_GROUPS.
GROUPS = f"mammography={GROUP} wdbc=wdbc-diagnosis-model-package"
ENV_VAR = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
REPO_VAR = "github:index/actionsVariable:ActionsVariable"
ACCOUNT = "123456789012"
GOOD_ARN = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/{GROUP}/3"


def approve_job():
    return workflow("approve-model.yml")["jobs"]["approve"]


def review_job():
    return workflow("approve-model.yml")["jobs"]["review"]


def approval_values(arn, comment="", groups=GROUPS, region="eu-west-1"):
    return {"inputs.model_package_arn": arn, "inputs.comment": comment,
            "vars.MODEL_PACKAGE_GROUPS": groups, "vars.AWS_REGION": region}


def check_step():
    (path,) = [p for p in action_paths() if p.parent.name == "model-version"]
    (step,) = load(path)["runs"]["steps"]
    return step


@pytest.mark.parametrize("job", ["review", "approve", "serving", "describe"])
def test_every_job_that_reads_the_inputs_checks_them_first(job):
    step = step_by_name(workflow("approve-model.yml")["jobs"][job], "Validate")
    assert step["uses"] == "./.github/actions/model-version"
    assert step["with"] == {"model-package-arn": "${{ inputs.model_package_arn }}", "comment": "${{ inputs.comment }}",
                            "groups": "${{ vars.MODEL_PACKAGE_GROUPS }}", "region": "${{ vars.AWS_REGION }}"}


@pytest.mark.parametrize("name", [p.name for p in workflow_paths()])
def test_every_variable_a_job_reads_exists_where_that_job_runs(stacks, name):
    # A job without an environment reads repository variables only; one bound to an environment
    # reads that environment's too (the review job used to read an environment-only variable).
    # Each stack writes its own environment's variables, the registry the repository's.
    resources = [r for run in stacks.values() for r in run.of_type(REPO_VAR)]
    repository = {r.inputs["variableName"] for r in resources}
    for job_id, job in workflow(name)["jobs"].items():
        environment = environment_name(job)
        available = repository | {r.inputs["variableName"] for run in stacks.values() for r in run.of_type(ENV_VAR)
                                  if environment and r.inputs["environment"] == environment}
        used = set(re.findall(r"vars\.([A-Z_]+)", json.dumps(job)))
        assert used <= available, (job_id, sorted(used - available))


def validate(tmp_path, arn, comment="", groups=GROUPS, region="eu-west-1"):
    # The composite action's own inputs, fed as the workflow step passes them.
    values = {"inputs.model-package-arn": arn, "inputs.comment": comment, "inputs.groups": groups,
              "inputs.region": region}
    return run_step(check_step(), values, tmp_path)


def test_the_example_in_the_input_description_is_a_version_the_check_accepts(tmp_path, registry):
    description = triggers(workflow("approve-model.yml"))["workflow_dispatch"]["inputs"]["model_package_arn"]
    (example,) = re.findall(r"arn:\S+", description["description"])
    values = {r.inputs["variableName"]: r.inputs["value"] for r in registry.of_type(REPO_VAR)}
    proc = validate(tmp_path, arn=example, groups=values["MODEL_PACKAGE_GROUPS"], region=values["AWS_REGION"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert example.split(":")[4] == registry.outputs["accountId"]


def test_a_version_arn_of_a_configured_group_passes_validation_and_names_its_model(tmp_path):
    proc = validate(tmp_path, arn=GOOD_ARN, comment="AUC 0.86 on holdout, reviewed by @ana")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "output").read_text() == "version=3\nmodel=mammography\n"


def test_every_models_group_is_approved_through_the_same_workflow(tmp_path, registry):
    values = {r.inputs["variableName"]: r.inputs["value"] for r in registry.of_type(REPO_VAR)}
    for pair in values["MODEL_PACKAGE_GROUPS"].split():
        model, group = pair.split("=")
        out = tmp_path / model
        out.mkdir()
        arn = f"arn:aws:sagemaker:eu-west-1:{registry.outputs['accountId']}:model-package/{group}/12"
        proc = validate(out, arn=arn, groups=values["MODEL_PACKAGE_GROUPS"], region=values["AWS_REGION"])
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (out / "output").read_text() == f"version=12\nmodel={model}\n"


@pytest.mark.parametrize("group", ["wdbc-diagnosis", "diagnosis-model-package", "wdbc-diagnosis-model-package-x",
                                   "wdbc"])
def test_a_group_is_one_of_the_list_exactly_not_a_part_of_one(tmp_path, group):
    proc = validate(tmp_path, arn=f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/{group}/3")
    assert proc.returncode != 0 and f"names group '{group}'" in proc.stdout
    assert "wdbc-diagnosis-model-package" in proc.stdout  # the message lists the groups it approves


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


def test_an_unconfigured_repository_is_reported_as_such(tmp_path):
    proc = validate(tmp_path, arn=GOOD_ARN, groups="")
    assert proc.returncode != 0 and "MODEL_PACKAGE_GROUPS" in proc.stdout


def test_a_glob_in_the_list_expands_to_nothing(tmp_path):
    (tmp_path / f"mammography={GROUP}").write_text("")  # a file a glob of the list would match
    proc = validate(tmp_path, arn=GOOD_ARN.replace(GROUP, "other"), groups="mammography=*")
    assert proc.returncode != 0 and "names group 'other'" in proc.stdout


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
              "steps.validate.outputs.model": "mammography",
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
    assert "Model mammography: version 1 approved" in (tmp_path / "summary").read_text()


# --- the review job ----------------------------------------------------------------------

EVALUATION = {"binary_classification_metrics": {
    "auc": {"value": 0.8712, "standard_deviation": "NaN"}, "accuracy": {"value": 0.81, "standard_deviation": "NaN"},
    "precision": {"value": 0.8, "standard_deviation": "NaN"}, "recall": {"value": 0.79, "standard_deviation": "NaN"},
    "f1": {"value": 0.795, "standard_deviation": "NaN"}}, "test_rows": 145}
BUCKET = "mlops-registry-artifacts-123456789012-eu-west-1"
METRICS_KEY = "models/dev/exec-1/evaluation/evaluation.json"


def register_version(metrics_uri, status="PendingManualApproval"):
    sm = boto3.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    return sm.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{
            "Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
            "ModelDataUrl": f"s3://{BUCKET}/models/dev/exec-1/model/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}}},
        CustomerMetadataProperties={"ReferenceDataUri": f"s3://{BUCKET}/models/dev/exec-1/reference"},
    )["ModelPackageArn"]


def run_review(tmp_path, arn):
    # The runner's workspace is the checkout: the step runs the summary script from there.
    shutil.copytree(ROOT / ".github" / "scripts", tmp_path / ".github" / "scripts")
    credentials = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    step = step_by_name(review_job(), "Show the version")
    return run_step(step, {"inputs.model_package_arn": arn}, tmp_path, extra_env=credentials)


def put_metrics():
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=BUCKET, Key=METRICS_KEY, Body=json.dumps(EVALUATION).encode())
    return f"s3://{BUCKET}/{METRICS_KEY}"


def test_the_review_puts_the_image_artifacts_and_metrics_in_front_of_the_approvers(tmp_path, aws):
    assert shutil.which("aws") and shutil.which("jq"), "the review step runs the AWS CLI and jq (runners have both)"
    arn = register_version(put_metrics())
    proc = run_review(tmp_path, arn)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = (tmp_path / "summary").read_text()
    for shown in (arn, "sagemaker-xgboost:3.0-5", f"s3://{BUCKET}/models/dev/exec-1/model/model.tar.gz",
                  f"s3://{BUCKET}/{METRICS_KEY}", "ReferenceDataUri", "| auc | 0.8712 |", "| test rows | 145 |",
                  "PendingManualApproval", "created by"):
        assert shown in summary, shown


def test_a_version_whose_metrics_cannot_be_read_is_not_put_to_the_approvers(tmp_path, aws):
    arn = register_version(f"s3://{BUCKET}/missing/evaluation.json")
    proc = run_review(tmp_path, arn)
    assert proc.returncode != 0 and "No metrics" in proc.stdout
    assert "No metrics could be read" in (tmp_path / "summary").read_text()


def test_a_version_that_is_not_pending_is_not_put_to_the_approvers(tmp_path, aws):
    arn = register_version(put_metrics(), status="Rejected")
    proc = run_review(tmp_path, arn)
    assert proc.returncode != 0 and "Not pending" in proc.stdout


# --- stack guards ----------------------------------------------------------------------

def guard_cases():
    # Every job bound to a stack's environment (deploys, and the promotion jobs that use dev's
    # for the App key) checks that the environment is that stack's before anything else.
    for name in ("deploy.yml", "approve-model.yml"):
        for jid, job in workflow(name)["jobs"].items():
            if environment_name(job) in STACKS:
                yield pytest.param(job, environment_name(job), id=f"{name.split('.')[0]}-{jid}")


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
