"""Superseded step scripts stay readable under the key a running execution holds, are marked
so the bucket's lifecycle can expire them, and current scripts are never marked.
Against a moto server (real HTTP, real botocore) for the S3 calls."""
from __future__ import annotations

import urllib.parse

import boto3
import pytest

from ml import contract, superseded_code
from ml.superseded_code import SupersededCodeProvider, check_inputs, lifecycle_rule, mark_superseded

BUCKET = "mlops-dev-data-222222222222-eu-west-1"
REGION = "eu-west-1"
OLD = f"{contract.STEP_SCRIPTS_PREFIX}/aaaaaaaaaaaaaaaa/preprocess.py"
NEW = f"{contract.STEP_SCRIPTS_PREFIX}/bbbbbbbbbbbbbbbb/preprocess.py"
SAME = f"{contract.STEP_SCRIPTS_PREFIX}/cccccccccccccccc/evaluate.py"


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for key, body in ((OLD, b"print('v1')\n"), (NEW, b"print('v2')\n"), (SAME, b"print('eval')\n")):
        client.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType="text/x-python",
                          Tagging=urllib.parse.urlencode({"stack": "dev", "project": "mlops-platform"}))
    return client


def _tags(s3, key):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]}


def _update(old_keys, new_keys):
    props = {"bucket": BUCKET, "region": REGION}
    return SupersededCodeProvider().update("id", {**props, "keys": old_keys}, {**props, "keys": new_keys})


def test_a_deploy_that_changes_a_script_leaves_the_old_key_readable_and_marks_only_it(s3):
    result = _update([OLD, SAME], [NEW, SAME])
    assert result.outs["superseded"] == [OLD]
    # The execution that started before the deploy still reads the code it started with.
    old = s3.get_object(Bucket=BUCKET, Key=OLD)
    assert old["Body"].read() == b"print('v1')\n" and old["ContentType"] == "text/x-python"
    assert _tags(s3, OLD) == {"stack": "dev", "project": "mlops-platform", contract.SUPERSEDED_TAG: "true"}
    for current in (NEW, SAME):
        assert contract.SUPERSEDED_TAG not in _tags(s3, current)


def test_marking_rewrites_the_object_so_the_grace_period_starts_now(s3):
    before = s3.head_object(Bucket=BUCKET, Key=OLD)
    assert mark_superseded(s3, BUCKET, OLD) is True
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=OLD)["Versions"]
    latest = [v for v in versions if v["IsLatest"]]
    assert len(versions) == 2 and len(latest) == 1
    assert latest[0]["VersionId"] != before["VersionId"]  # the earlier version is now noncurrent
    assert latest[0]["LastModified"] >= before["LastModified"]


def test_a_key_already_gone_is_skipped(s3):
    s3.delete_object(Bucket=BUCKET, Key=OLD)
    assert _update([OLD, SAME], [NEW, SAME]).outs["superseded"] == []


def test_no_change_no_call_and_creating_marks_nothing(monkeypatch):
    monkeypatch.setattr(superseded_code, "_s3", lambda region: pytest.fail("called S3"))
    assert _update([OLD], [OLD]).outs["superseded"] == []
    created = SupersededCodeProvider().create({"bucket": BUCKET, "region": REGION, "keys": [NEW]})
    assert created.outs["superseded"] == []


def test_only_the_key_set_diffs_and_only_bucket_or_region_replace():
    provider, props = SupersededCodeProvider(), {"bucket": BUCKET, "region": REGION}
    assert not provider.diff("id", {**props, "keys": [OLD, SAME]}, {**props, "keys": [SAME, OLD]}).changes
    diff = provider.diff("id", {**props, "keys": [OLD]}, {**props, "keys": [NEW]})
    assert diff.changes and not diff.replaces
    assert provider.diff("id", {**props, "keys": [OLD]}, {**props, "region": "us-east-1", "keys": [OLD]}).replaces \
        == ["region"]


def test_bad_inputs_are_reported_together():
    problems = check_inputs({"bucket": "s3://x", "region": "europe", "keys": ["datasets/training/a.data"]})
    assert [p.split(" ", 1)[0] for p in problems] == ["bucket", "region", "keys"]
    with pytest.raises(ValueError, match="keys must be a list of object keys under code/steps/"):
        superseded_code.SupersededCode("x", superseded_code.SupersededCodeArgs(BUCKET, REGION, ["code/lambdas/a"]))


def test_the_lifecycle_rule_expires_marked_scripts_only_and_s3_accepts_it(s3):
    rule = lifecycle_rule()
    assert rule["filter"] == {"and": {"prefix": "code/steps/", "tags": {contract.SUPERSEDED_TAG: "true"}}}
    assert rule["expiration"] == {"days": superseded_code.GRACE_DAYS}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [{
        "ID": rule["id"], "Status": rule["status"], "Expiration": {"Days": rule["expiration"]["days"]},
        "Filter": {"And": {"Prefix": "code/steps/",
                           "Tags": [{"Key": contract.SUPERSEDED_TAG, "Value": "true"}]}}}]})
    stored = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][0]
    assert stored["Filter"]["And"]["Tags"] == [{"Key": contract.SUPERSEDED_TAG, "Value": "true"}]


def test_state_holds_the_provider_by_its_import_path_only():
    # The engine stores the pickled provider in state: a reference, so keep this path importable.
    import base64

    import dill
    from pulumi.dynamic.dynamic import serialize_provider

    raw = base64.b64decode(serialize_provider(SupersededCodeProvider()))
    assert len(raw) < 200 and b"ml.superseded_code" in raw
    assert type(dill.loads(raw)) is SupersededCodeProvider
