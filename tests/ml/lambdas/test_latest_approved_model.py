"""The latest-approved-model Lambda, against a real moto server over HTTP (`aws` fixture).

moto rejects create_model_package with a group ARN (real AWS accepts it), so packages are
created by group name; the handler is queried by name and by ARN.
"""
from __future__ import annotations

import ast
import sys

import boto3
import pytest

from ml import contract
from ml.lambdas import latest_approved_model as lam

GROUP = "mammography-models"


def register(client, n: int, status: str, metadata: bool = True) -> str:
    """Register version n of GROUP with distinct artifact, image and metadata."""
    kwargs = {}
    if metadata:
        kwargs["CustomerMetadataProperties"] = {
            contract.METADATA_REFERENCE_URI: f"s3://registry/v{n}/reference.data",
            contract.METADATA_IMPUTATION_URI: f"s3://registry/v{n}/imputation.json",
        }
    return client.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": f"xgboost:v{n}", "ModelDataUrl": f"s3://registry/v{n}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **kwargs,
    )["ModelPackageArn"]


@pytest.fixture
def sagemaker(aws):
    client = boto3.client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=GROUP)
    return client


@pytest.fixture
def group_arn(sagemaker):
    return sagemaker.describe_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"]


def count_list_calls(client) -> list:
    """Record each ListModelPackages response the client really receives."""
    calls = []
    client.meta.events.register("after-call.sagemaker.ListModelPackages",
                                lambda **kw: calls.append(kw["parsed"]))
    return calls


def test_names_agree_with_the_contract():
    assert lam.OUTPUTS == contract.LATEST_MODEL_OUTPUTS
    assert lam.METADATA_REFERENCE_URI == contract.METADATA_REFERENCE_URI
    assert lam.METADATA_IMPUTATION_URI == contract.METADATA_IMPUTATION_URI


def test_handler_imports_only_stdlib_and_boto3():
    tree = ast.parse((contract.LAMBDAS_DIR / "latest_approved_model.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names) | {"boto3", "botocore"}, imported


def test_newest_approved_wins_across_pages_by_name_and_by_arn(sagemaker, group_arn, monkeypatch):
    statuses = ["Approved", "Rejected", "Approved", "PendingManualApproval", "Approved",
                "Approved", "Rejected", "PendingManualApproval"]
    arns = [register(sagemaker, n, status) for n, status in enumerate(statuses, start=1)]
    monkeypatch.setenv(lam.ENV_PAGE_SIZE, "1")
    for group in (GROUP, group_arn):
        outputs = lam.handler({lam.EVENT_GROUP_KEY: group}, None)
        assert outputs == {
            "ModelPackageArn": arns[5],
            "ModelDataUrl": "s3://registry/v6/model.tar.gz",
            "ImageUri": "xgboost:v6",
            "ReferenceDataUri": "s3://registry/v6/reference.data",
            "ImputationUri": "s3://registry/v6/imputation.json",
        }
        assert tuple(outputs) == contract.LATEST_MODEL_OUTPUTS


def test_every_page_is_read(sagemaker):
    for n, status in enumerate(["Approved", "Rejected", "Approved", "Approved", "Approved"], 1):
        register(sagemaker, n, status)
    calls = count_list_calls(sagemaker)
    newest = lam.newest_approved_package(GROUP, sagemaker, page_size=2)
    assert newest["ModelPackageArn"].endswith(f"/{GROUP}/5")
    assert [len(c["ModelPackageSummaryList"]) for c in calls] == [2, 2]  # 4 approved, 2 pages
    assert "NextToken" in calls[0] and "NextToken" not in calls[-1]


def test_group_from_the_environment_when_the_event_has_none(sagemaker, monkeypatch):
    register(sagemaker, 1, "Approved")
    monkeypatch.setenv(lam.ENV_GROUP, GROUP)
    assert lam.handler({}, None)["ImageUri"] == "xgboost:v1"


def test_a_newly_approved_older_version_does_not_beat_a_newer_one(sagemaker):
    first, second = register(sagemaker, 1, "PendingManualApproval"), register(sagemaker, 2, "Approved")
    sagemaker.update_model_package(ModelPackageArn=first, ModelApprovalStatus="Approved")
    assert lam.handler({lam.EVENT_GROUP_KEY: GROUP}, None)["ModelPackageArn"] == second


def test_no_approved_version_is_a_clear_error_not_drift(sagemaker):
    register(sagemaker, 1, "PendingManualApproval")
    register(sagemaker, 2, "Rejected")
    with pytest.raises(lam.NoApprovedModelError, match=r"^No approved model package in group "
                                                       rf"'{GROUP}': approve a version"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP}, None)


def test_approved_version_without_metadata_is_a_clear_error(sagemaker):
    arn = register(sagemaker, 1, "Approved", metadata=False)
    with pytest.raises(lam.ModelPackageMetadataError, match="lacks ReferenceDataUri, ImputationUri") as err:
        lam.handler({lam.EVENT_GROUP_KEY: GROUP}, None)
    assert arn in str(err.value) and contract.METADATA_REFERENCE_URI in str(err.value)


@pytest.mark.parametrize("setting", ["0", "101", "ten"])
def test_bad_page_size_is_rejected(sagemaker, monkeypatch, setting):
    monkeypatch.setenv(lam.ENV_PAGE_SIZE, setting)
    with pytest.raises(ValueError, match=f"{lam.ENV_PAGE_SIZE} must be an integer from 1 to 100"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP}, None)


def test_missing_group_names_both_ways_to_give_it(aws, monkeypatch):
    monkeypatch.delenv(lam.ENV_GROUP, raising=False)
    with pytest.raises(ValueError, match=f"'{lam.EVENT_GROUP_KEY}' in the event or set {lam.ENV_GROUP}"):
        lam.handler({}, None)
