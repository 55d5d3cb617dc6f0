"""approve-model.yml's approval job verifies the version's model archive before it approves: the
steps run with bash exactly as written in the YAML, against the moto server with the real AWS CLI.

The archive must hash to the version's `model_data_sha256` (recorded at registration); then exactly
the object version that was read is tagged `mlops-verified=<sha256>` (what the registry bucket lets
endpoints read), and only then is the version approved. A mismatch, a missing digest or an
unversioned archive fails the job with nothing tagged and nothing approved."""
from __future__ import annotations

import hashlib

import boto3
import pytest

from ml.contract import METADATA_DIGESTS, VERIFIED_TAG
from tests.github.promotion_project import GROUPS, make_project, venv_path
from tests.github.test_promotion_steps import credentials
from tests.github.workflow_files import run_step, step_by_name, workflow

BUCKET = "mlops-registry-artifacts-verify"
KEY = "models/dev/wdbc/mlops-dev-wdbc-training/exec-1/TrainXGBoost/model/job/output/model.tar.gz"
ARCHIVE = b"the evaluated model archive"
JOB = workflow("approve-model.yml")["jobs"]["approve"]
VERIFY = step_by_name(JOB, "Verify and tag the model archive")
APPROVE = step_by_name(JOB, "Approve the model package")


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "checkout"
    root.mkdir()
    return make_project(root)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def registered(*, digest: str | None = sha256(ARCHIVE), versioned: bool = True, key: str = KEY) -> str:
    """A pending version whose archive is `ARCHIVE` in a (versioned) registry bucket."""
    sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    if versioned:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key=key, Body=ARCHIVE)
    sm.create_model_package_group(ModelPackageGroupName=GROUPS["wdbc"])
    extra = {"CustomerMetadataProperties": {METADATA_DIGESTS["ModelDataUrl"]: digest}} if digest else {}
    return sm.create_model_package(
        ModelPackageGroupName=GROUPS["wdbc"], ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={"Containers": [{"Image": "xgboost:3.0-5", "ModelDataUrl": f"s3://{BUCKET}/{key}"}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        **extra)["ModelPackageArn"]


def run(project, step, arn):
    return run_step(step, {"inputs.model_package_arn": arn, "inputs.comment": "",
                           "github.triggering_actor": "alice", "github.server_url": "https://github.test",
                           "github.repository": "example-org/mlops-platform", "github.run_id": "1",
                           "steps.validate.outputs.version": "1", "steps.validate.outputs.model": "wdbc"},
                    project, extra_env={**credentials(), **venv_path()})


def approve(project, arn):
    """The job's two steps in order, as the runner runs them: the second only if the first passed."""
    verify = run(project, VERIFY, arn)
    return verify, (run(project, APPROVE, arn) if verify.returncode == 0 else None)


def status(arn: str) -> str:
    return boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]


def tags(version_id: str | None = None) -> dict[str, str]:
    s3 = boto3.client("s3")
    kwargs = {"VersionId": version_id} if version_id else {}
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=KEY, **kwargs)["TagSet"]}


def test_the_workflow_tags_the_key_the_bucket_policy_names():
    assert f'\\"Key\\": \\"{VERIFIED_TAG}\\"' in VERIFY["run"]
    steps = [s.get("name") for s in JOB["steps"]]
    assert steps.index(VERIFY["name"]) == steps.index(APPROVE["name"]) - 1, "verify right before approving"


def test_a_matching_archive_is_tagged_in_exactly_the_version_read_then_approved(project, aws):
    arn = registered()
    verify, approval = approve(project, arn)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert approval is not None and approval.returncode == 0, approval.stdout + approval.stderr
    assert status(arn) == "Approved"
    assert tags() == {VERIFIED_TAG: sha256(ARCHIVE)}
    assert "verified: sha256" in (project / "summary").read_text()
    assert not (project / "model.tar.gz").exists()


def test_an_archive_overwritten_after_registration_is_refused_and_nothing_approved(project, aws):
    arn = registered()
    boto3.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=b"the attacker's archive")
    verify, approval = approve(project, arn)
    assert verify.returncode != 0 and approval is None
    assert "::error title=Archive changed::" in verify.stdout
    assert status(arn) == "PendingManualApproval" and tags() == {}


def test_an_overwrite_after_approval_leaves_an_untagged_current_version(project, aws):
    """What the registry bucket relies on: the verified tag belongs to the version read, and an
    overwrite makes a new current version without it (the endpoints' read is refused)."""
    arn = registered()
    verify, approval = approve(project, arn)
    assert verify.returncode == 0 and approval is not None and approval.returncode == 0
    s3 = boto3.client("s3")
    verified = s3.head_object(Bucket=BUCKET, Key=KEY)["VersionId"]
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"the attacker's archive")
    assert tags() == {} and tags(verified) == {VERIFIED_TAG: sha256(ARCHIVE)}


@pytest.mark.parametrize(("case", "error"), [
    ("no digest", "No digest"),
    ("bad digest", "No digest"),
    ("unversioned", "Unversioned archive"),
    ("outside models/", "No model archive"),
])
def test_a_version_that_cannot_be_verified_is_not_approved(project, aws, case, error):
    arn = registered(digest=None if case == "no digest" else "not-a-digest" if case == "bad digest" else sha256(ARCHIVE),
                     versioned=case != "unversioned", key="code/model.tar.gz" if case == "outside models/" else KEY)
    verify, approval = approve(project, arn)
    assert verify.returncode != 0 and approval is None, verify.stdout + verify.stderr
    assert f"::error title={error}::" in verify.stdout
    assert status(arn) == "PendingManualApproval"
