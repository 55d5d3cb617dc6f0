"""Latest approved model: the inference pipeline's first step (a SageMaker LambdaStep).

Finds the newest *Approved* version in the central model package group and returns what the
rest of the pipeline needs: the package ARN, the model artifact and image, and the drift
reference and imputation the training pipeline stored in the package's customer metadata.

The group comes from the event (``ModelPackageGroupName``) or the environment
(``MODEL_PACKAGE_GROUP_NAME``), as a name or an ARN. Cross-account (the registry lives in
another account) it must be the group ARN: a bare name resolves in the caller's account.

Self-contained (stdlib + boto3) because it is zipped alone; it restates the output and
metadata names of ``ml.contract`` and a test checks they agree.

A missing approval raises NoApprovedModelError, whose message starts with "No approved
model": the step fails under its own name, never as the drift step that starts retraining.
"""
from __future__ import annotations

import logging
import os
from typing import Any

import boto3

EVENT_GROUP_KEY = "ModelPackageGroupName"
ENV_GROUP = "MODEL_PACKAGE_GROUP_NAME"
ENV_PAGE_SIZE = "MODEL_PACKAGE_PAGE_SIZE"
DEFAULT_PAGE_SIZE = 100  # the API's maximum
METADATA_REFERENCE_URI = "reference_data_uri"
METADATA_IMPUTATION_URI = "imputation_uri"
OUTPUTS = ("ModelPackageArn", "ModelDataUrl", "ImageUri", "ReferenceDataUri", "ImputationUri")

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


class NoApprovedModelError(Exception):
    """The group holds no version with ModelApprovalStatus=Approved."""


class ModelPackageMetadataError(Exception):
    """The approved version lacks something inference needs (artifact, image, metadata)."""


def _page_size(value: Any) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= 100:
        raise ValueError(f"{ENV_PAGE_SIZE} must be an integer from 1 to 100, got {value!r}")
    return size


def newest_approved_package(group: str, client=None, page_size: int = DEFAULT_PAGE_SIZE) -> dict:
    """Summary of the newest Approved package in ``group`` (name or ARN).

    Walks every page: AWS applies the status filter page by page, so a page may be empty
    while later ones are not, and taking the maximum (CreationTime, then version) does not
    depend on the server's ordering or on packages created in the same millisecond.
    """
    client = client or boto3.client("sagemaker")
    kwargs = {"ModelPackageGroupName": group, "ModelApprovalStatus": "Approved",
              "SortBy": "CreationTime", "SortOrder": "Descending",
              "MaxResults": _page_size(page_size)}
    newest = None
    while True:
        page = client.list_model_packages(**kwargs)
        for summary in page.get("ModelPackageSummaryList", []):
            key = (summary["CreationTime"], summary.get("ModelPackageVersion", 0))
            if newest is None or key > newest[0]:
                newest = (key, summary)
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    if newest is None:
        raise NoApprovedModelError(
            f"No approved model package in group {group!r}: approve a version in the central "
            "registry (ModelApprovalStatus=Approved), or check the group name/ARN and that "
            "its resource policy shares it with this account")
    return newest[1]


def describe_outputs(package_arn: str, client=None) -> dict[str, str]:
    """The LambdaStep outputs (OUTPUTS) for one model package version."""
    client = client or boto3.client("sagemaker")
    package = client.describe_model_package(ModelPackageName=package_arn)
    containers = package.get("InferenceSpecification", {}).get("Containers") or [{}]
    metadata = package.get("CustomerMetadataProperties") or {}
    outputs = {
        "ModelPackageArn": package.get("ModelPackageArn", package_arn),
        "ModelDataUrl": containers[0].get("ModelDataUrl"),
        "ImageUri": containers[0].get("Image"),
        "ReferenceDataUri": metadata.get(METADATA_REFERENCE_URI),
        "ImputationUri": metadata.get(METADATA_IMPUTATION_URI),
    }
    missing = [name for name, value in outputs.items() if not value]
    if missing:
        raise ModelPackageMetadataError(
            f"Approved model package {package_arn} lacks {', '.join(missing)}: register it with "
            "InferenceSpecification.Containers[0] (Image, ModelDataUrl) and customer metadata "
            f"{METADATA_REFERENCE_URI!r} and {METADATA_IMPUTATION_URI!r} (the training "
            "pipeline's register step sets them)")
    return outputs


def handler(event: dict | None, context: Any = None) -> dict[str, str]:
    """Lambda entry point: return the newest approved model's OUTPUTS as strings."""
    group = (event or {}).get(EVENT_GROUP_KEY) or os.environ.get(ENV_GROUP)
    if not group:
        raise ValueError(f"No model package group given: pass {EVENT_GROUP_KEY!r} in the event "
                         f"or set {ENV_GROUP} (the central group's ARN when cross-account)")
    client = boto3.client("sagemaker")
    summary = newest_approved_package(
        group, client, os.environ.get(ENV_PAGE_SIZE, DEFAULT_PAGE_SIZE))
    outputs = describe_outputs(summary["ModelPackageArn"], client)
    logger.info("latest approved model package: %s", outputs["ModelPackageArn"])
    return outputs
