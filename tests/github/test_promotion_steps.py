"""The promotion and smoke-test steps, run with bash exactly as written in the YAML, in a copy of
the checkout: against the moto server with the real AWS CLI (describing versions, endpoints) and
against the local fake of the GitHub API (opening the pull requests)."""
from __future__ import annotations

import json
import os
import shutil
import urllib.request

import boto3
import pytest

from ml.models import PROJECT_ROOT, load_project_models
from ml.serving import smoke_test
from tests.github.fake_github import FakeRepository, fake_github
from tests.github.promotion_project import GROUPS, add_to_stack_file, make_project, served_output, venv_path
from tests.github.workflow_files import run_step, step_by_name, workflow

REPOSITORY = "example-org/mlops-platform"
MOTO_ACCOUNT = "123456789012"
EVALUATION = {"binary_classification_metrics": {"auc": {"value": 0.8712}}, "test_rows": 145}
BUCKET = "mlops-registry-artifacts"


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "checkout"
    root.mkdir()
    return make_project(root)


def credentials():
    """What configure-aws-credentials leaves behind, here pointing at the moto server."""
    return {k: v for k, v in os.environ.items() if k.startswith("AWS_")}


def register(model, status="Approved", metrics=True):
    sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
    group = GROUPS[model]
    if not sm.list_model_package_groups(NameContains=group)["ModelPackageGroupSummaryList"]:
        sm.create_model_package_group(ModelPackageGroupName=group)
    if metrics and BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    key = f"models/dev/{model}/evaluation.json"
    if metrics:
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(EVALUATION).encode())
    return sm.create_model_package(
        ModelPackageGroupName=group, ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{"Image": "xgboost:3.0-5", "ModelDataUrl": f"s3://{BUCKET}/m.tar.gz"}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                      "S3Uri": f"s3://{BUCKET}/{key}"}}})["ModelPackageArn"]


def outputs(workdir):
    return dict(line.split("=", 1) for line in (workdir / "output").read_text().splitlines())


def run_in(project, step, values, **extra):
    assert shutil.which("aws") and shutil.which("jq"), "the steps run the AWS CLI and jq (runners have both)"
    return run_step(step, values, project, extra_env={**credentials(), **venv_path(), **extra})


def github_env(api):
    # The runner's defaults: the promotion script reads them.
    return {"GITHUB_API_URL": api, "GITHUB_REPOSITORY": REPOSITORY}


# --- approve-model.yml ---------------------------------------------------------------------

@pytest.mark.parametrize(("mode", "expected"), [("endpoints", "true"), ("batch", "false")])
def test_the_serving_job_tells_whether_dev_needs_a_pin(project, mode, expected):
    add_to_stack_file(project, "dev", **{mode: ("wdbc",)})
    step = step_by_name(workflow("approve-model.yml")["jobs"]["serving"], "Read the model's serving mode")
    proc = run_in(project, step, {"steps.validate.outputs.model": "wdbc", "steps.validate.outputs.version": "3"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs(project)["endpoint"] == expected
    assert ("pull request pins version 3" in (project / "summary").read_text()) is (expected == "true")


def test_an_approval_becomes_a_dev_pull_request_with_the_versions_card(project, aws):
    arn = register("mammography")
    jobs = workflow("approve-model.yml")["jobs"]
    describe = run_in(project, step_by_name(jobs["describe"], "Describe the version"), {
        "steps.validate.outputs.model": "mammography", "steps.validate.outputs.version": "1",
        "inputs.model_package_arn": arn})
    assert describe.returncode == 0, describe.stdout + describe.stderr
    cards = outputs(project)["cards"]
    (card,) = json.loads(cards)
    assert (card["model"], card["version"], card["arn"]) == ("mammography", "1", arn)
    assert card["package"]["ModelApprovalStatus"] == "Approved" and card["evaluation"] == EVALUATION

    repo = FakeRepository(REPOSITORY, {"main": {"Pulumi.dev.yaml": (project / "Pulumi.dev.yaml").read_text()}},
                          token="app-token")
    with fake_github(repo) as api:
        propose = run_in(project, step_by_name(jobs["propose"], "Open the pull request"), {
            "steps.github-token.outputs.token": "app-token", "needs.describe.outputs.cards": cards}, **github_env(api))
    assert propose.returncode == 0, propose.stdout + propose.stderr
    (pull,) = repo.pulls
    assert pull["title"] == "Serve mammography version 1 in dev" and pull["base"] == "main"
    assert f"`{arn}`" in pull["body"] and "| auc | 0.8712 |" in pull["body"]
    pinned = repo.branches[pull["head"]]["Pulumi.dev.yaml"]
    assert pinned.endswith('  mlops-platform:servedVersions:\n    mammography: "1"\n')
    assert "opened: https://github.test/" in (project / "summary").read_text()


def test_a_version_no_longer_approved_gets_no_card(project, aws):
    arn = register("mammography", status="Rejected")
    step = step_by_name(workflow("approve-model.yml")["jobs"]["describe"], "Describe the version")
    proc = run_in(project, step, {"steps.validate.outputs.model": "mammography", "steps.validate.outputs.version": "1",
                                  "inputs.model_package_arn": arn})
    assert proc.returncode == 0 and json.loads(outputs(project)["cards"]) == []
    assert "::warning title=Not approved::mammography version 1 is 'Rejected'" in proc.stderr


@pytest.mark.parametrize("versions", [
    '[{"model": "mammography", "version": "2", "arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/g/1"}]',
    '[{"model": "Mammo; rm -rf /", "version": "1", "arn": "x"}]',
    '{"model": "mammography"}',
    "not json",
])
def test_versions_from_another_job_are_checked_before_any_aws_call(project, versions):
    step = step_by_name(workflow("deploy.yml")["jobs"]["prod-versions"], "Describe the versions")
    # No AWS credentials at all: a call would fail differently.
    proc = run_step(step, {"needs.dev.outputs.prod-versions": versions}, project, extra_env=venv_path())
    assert proc.returncode != 0 and "::error title=Version cards::" in proc.stderr
    assert not (project / "output").exists()


# --- deploy.yml ----------------------------------------------------------------------------

def test_dev_hands_prod_what_it_serves_and_prod_gets_one_pull_request_per_version(project, aws):
    arns = {"mammography": register("mammography"), "wdbc": register("wdbc")}
    add_to_stack_file(project, "dev", endpoints=("mammography", "wdbc"), pins={"mammography": "1", "wdbc": "1"})
    add_to_stack_file(project, "prod", endpoints=("mammography", "wdbc"))
    jobs = workflow("deploy.yml")["jobs"]
    served = served_output("dev", {"mammography": 1, "wdbc": 1})
    served = served.replace("111111111111", MOTO_ACCOUNT)  # the versions moto registered
    found = run_in(project, step_by_name(jobs["dev"], "Find what dev serves"), {"steps.up.outputs.servedVersions": served})
    assert found.returncode == 0, found.stdout + found.stderr
    handed = outputs(project)
    assert handed["any"] == "true"
    assert {v["model"]: v["arn"] for v in json.loads(handed["versions"])} == arns

    (project / "output").unlink()
    described = run_in(project, step_by_name(jobs["prod-versions"], "Describe the versions"),
                       {"needs.dev.outputs.prod-versions": handed["versions"]})
    assert described.returncode == 0, described.stdout + described.stderr
    cards = outputs(project)["cards"]

    repo = FakeRepository(REPOSITORY, {"main": {"Pulumi.prod.yaml": (project / "Pulumi.prod.yaml").read_text()}},
                          token="app-token")
    step = step_by_name(jobs["promote-prod"], "Open the pull requests")
    values = {"steps.github-token.outputs.token": "app-token", "needs.prod-versions.outputs.cards": cards}
    with fake_github(repo) as api:
        first = run_in(project, step, values, **github_env(api))
        again = run_in(project, step, values, **github_env(api))  # the next push to main
    assert first.returncode == again.returncode == 0, first.stdout + first.stderr
    assert sorted(p["head"] for p in repo.pulls) == ["promote/prod/mammography-1", "promote/prod/wdbc-1"]
    assert (project / "summary").read_text().count("already proposed, still open") == 2


# --- the smoke tests after a deploy ----------------------------------------------------------

def endpoint(name, config="cfg-1"):
    sm = boto3.client("sagemaker")
    sm.create_model(ModelName=f"{name}-model", ExecutionRoleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/x",
                    PrimaryContainer={"Image": "xgboost:3.0-5"})
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": f"{name}-model", "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)


def queue_answers(moto, model, rows=50, good=True):
    """The next answer of moto's runtime: scores that rank the rows' labels (or invert them)."""
    spec = next(s for s in load_project_models(PROJECT_ROOT) if s.name == model)
    sample = smoke_test.sample_rows(spec.schema, (PROJECT_ROOT / spec.data_file).read_text(), rows)
    body = "\n".join(("0.9" if y == good else "0.1") for y in sample.labels)
    data = json.dumps({"account_id": MOTO_ACCOUNT, "region": "eu-west-1", "results": [
        {"Body": body, "ContentType": "text/csv", "InvokedProductionVariant": "AllTraffic"}]}).encode()
    request = urllib.request.Request(f"{moto}/moto-api/static/sagemaker/endpoint-results", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


def smoke(project, stack, served):
    step = step_by_name(workflow("deploy.yml")["jobs"][stack], f"Smoke-test the endpoints {stack} serves")
    return run_in(project, step, {"steps.up.outputs.servedVersions": served, "vars.AWS_REGION": "eu-west-1"})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_healthy_deploy_passes_its_smoke_test(project, aws, stack):
    add_to_stack_file(project, stack, endpoints=("mammography",), pins={"mammography": "4"})
    endpoint(f"mlops-{stack}-mammography")
    queue_answers(aws, "mammography")
    proc = smoke(project, stack, served_output(stack, {"mammography": 4}, mammography={"endpointConfigName": "cfg-1"}))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = (project / "summary").read_text()
    assert f"| mammography | 4 | `mlops-{stack}-mammography` | 1.000 | ok |" in summary


def test_a_stack_that_serves_nothing_passes_and_says_so(project):
    proc = smoke(project, "dev", "")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No endpoint serves in dev." in (project / "summary").read_text()


@pytest.mark.parametrize(("case", "why"), [
    ("rolled back", "runs configuration cfg-1, not cfg-2 that the deploy created: the rollout was rolled back"),
    ("random answers", "below 0.6"),
    ("pin not served", "Pulumi.dev.yaml pins version 5, the stack serves version 4"),
    ("no endpoint", "cannot describe endpoint mlops-dev-mammography"),
])
def test_an_unhealthy_deploy_fails_its_smoke_test_saying_why(project, aws, case, why):
    add_to_stack_file(project, "dev", endpoints=("mammography",),
                      pins={"mammography": "5" if case == "pin not served" else "4"})
    if case != "no endpoint":
        endpoint("mlops-dev-mammography")
    queue_answers(aws, "mammography", good=case != "random answers")
    config = {"mammography": {"endpointConfigName": "cfg-2" if case == "rolled back" else "cfg-1"}}
    proc = smoke(project, "dev", served_output("dev", {"mammography": 4}, **config))
    assert proc.returncode != 0
    assert "::error title=Smoke test dev::" in proc.stderr and why in proc.stderr
    assert why in (project / "summary").read_text()
