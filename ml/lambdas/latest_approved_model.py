"""Latest approved model: the inference pipeline's first step (a SageMaker LambdaStep).

Finds the newest *Approved* version in the central model package group that this stack serves,
checks that it is what the platform's training registers, verifies its artifacts against the
sha256 digests recorded at registration, copies the verified bytes into this stack's own data
bucket and returns those copies: the rest of the inference pipeline never reads an artifact
that could have changed since it was approved.

Why verify-and-copy (and not trust the registry's objects): the stack that trained a version
can overwrite its files in the registry bucket at any time, after approval too. A digest
checked at run time catches that; copying the very bytes that were checked, under a key made
of their digest in a prefix only this function may write (the data bucket's policy), leaves no
window between the check and the use. The digests themselves are customer metadata, which only
the registry account can change (the group's policy denies UpdateModelPackage to the others).

What is accepted, else the step fails loudly with the version's ARN and the reason:
- the image: the AWS algorithm account's XGBoost repository of this region
  (``ALLOWED_IMAGE_REPOSITORY``), any tag or digest;
- the artifacts: all in the registry bucket (``MODEL_ARTIFACTS_BUCKET``), all under one
  ``models/<stack>/`` prefix of a stack this one serves (``SERVED_MODEL_PREFIXES``; only that
  stack can write there). A version trained by a platform stack this one does not serve
  (``UNSERVED_MODEL_PREFIXES``: prod's models, in dev) is skipped, not failed;
- the digests: ``model_data_sha256``, ``reference_data_sha256``, ``imputation_sha256``, each
  equal to `digest()` of what is stored now.

The group comes from the event (``ModelPackageGroupName``) or the environment
(``MODEL_PACKAGE_GROUP_NAME``), as a name or an ARN. Cross-account (the registry lives in
another account) it must be the group ARN: a bare name resolves in the caller's account.

Self-contained (stdlib + boto3) because it is zipped alone; it restates the output and
metadata names of ``ml.contract`` and a test checks they agree.

A missing approval raises NoApprovedModelError, whose message starts with "No approved
model": the step fails under its own name, never as the drift step that starts retraining.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import boto3

EVENT_GROUP_KEY = "ModelPackageGroupName"
ENV_GROUP = "MODEL_PACKAGE_GROUP_NAME"
ENV_PAGE_SIZE = "MODEL_PACKAGE_PAGE_SIZE"
ENV_ARTIFACTS_BUCKET = "MODEL_ARTIFACTS_BUCKET"
ENV_SERVED = "SERVED_MODEL_PREFIXES"
ENV_UNSERVED = "UNSERVED_MODEL_PREFIXES"
ENV_IMAGE_REPOSITORY = "ALLOWED_IMAGE_REPOSITORY"
ENV_VERIFIED_BUCKET = "VERIFIED_MODELS_BUCKET"
DEFAULT_PAGE_SIZE = 100  # the API's maximum
METADATA_REFERENCE_URI = "reference_data_uri"
METADATA_IMPUTATION_URI = "imputation_uri"
# sha256 digests recorded at registration (ml/steps/evaluate.py computes them the same way).
METADATA_DIGESTS = {"ModelDataUrl": "model_data_sha256", "ReferenceDataUri": "reference_data_sha256",
                    "ImputationUri": "imputation_sha256"}
VERIFIED_MODELS_PREFIX = "verified-models/"
OUTPUTS = ("ModelPackageArn", "ModelDataUrl", "ImageUri", "ReferenceDataUri", "ImputationUri")
CHUNK = 1024 * 1024

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


class NoApprovedModelError(Exception):
    """The group holds no version with ModelApprovalStatus=Approved that this stack serves."""


class ModelPackageMetadataError(Exception):
    """The approved version lacks something inference needs (artifact, image, metadata)."""


class ModelIntegrityError(Exception):
    """The approved version is not what the platform registers, or its artifacts changed."""


@dataclass(frozen=True)
class Policy:
    """What this stack accepts (from the environment the platform sets)."""

    artifacts_bucket: str
    served: tuple[str, ...]  # e.g. ("models/dev/", "models/prod/")
    unserved: tuple[str, ...]
    image_repository: str  # <account>.dkr.ecr.<region>.<domain>/sagemaker-xgboost
    verified_bucket: str

    @classmethod
    def from_environment(cls, env: Any = os.environ) -> Policy:
        missing = [k for k in (ENV_ARTIFACTS_BUCKET, ENV_SERVED, ENV_IMAGE_REPOSITORY, ENV_VERIFIED_BUCKET)
                   if not env.get(k)]
        if missing:
            raise ValueError(f"The function's environment lacks {', '.join(missing)}: the platform sets them "
                             "(mlops_platform/components/model_lifecycle.py); redeploy the stack")
        split = lambda key: tuple(p for p in env.get(key, "").split(",") if p)  # noqa: E731
        return cls(env[ENV_ARTIFACTS_BUCKET], split(ENV_SERVED), split(ENV_UNSERVED), env[ENV_IMAGE_REPOSITORY],
                   env[ENV_VERIFIED_BUCKET])


def _page_size(value: Any) -> int:
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if not 1 <= size <= 100:
        raise ValueError(f"{ENV_PAGE_SIZE} must be an integer from 1 to 100, got {value!r}")
    return size


def approved_packages(group: str, client: Any = None, page_size: Any = DEFAULT_PAGE_SIZE) -> list[dict]:
    """Summaries of every Approved package in ``group`` (name or ARN), newest first.

    Walks every page: AWS applies the status filter page by page, so a page may be empty
    while later ones are not, and the order (CreationTime, then version) does not depend on
    the server's ordering or on packages created in the same millisecond.
    """
    client = client or boto3.client("sagemaker")
    kwargs = {"ModelPackageGroupName": group, "ModelApprovalStatus": "Approved",
              "SortBy": "CreationTime", "SortOrder": "Descending",
              "MaxResults": _page_size(page_size)}
    found = []
    while True:
        page = client.list_model_packages(**kwargs)
        found += page.get("ModelPackageSummaryList", [])
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return sorted(found, key=lambda s: (s["CreationTime"], s.get("ModelPackageVersion", 0)), reverse=True)


def newest_approved_package(group: str, client: Any = None, page_size: Any = DEFAULT_PAGE_SIZE) -> dict:
    """Summary of the newest Approved package in ``group`` (name or ARN)."""
    found = approved_packages(group, client, page_size)
    if not found:
        raise NoApprovedModelError(_no_approved(group))
    return found[0]


def _no_approved(group: str, skipped: int = 0) -> str:
    extra = f" ({skipped} approved version(s) trained by stacks this one does not serve)" if skipped else ""
    return (f"No approved model package in group {group!r}{extra}: approve a version in the central "
            "registry (ModelApprovalStatus=Approved), or check the group name/ARN and that "
            "its resource policy shares it with this account")


def describe_outputs(package_arn: str, client: Any = None) -> tuple[dict[str, str], dict[str, str]]:
    """The LambdaStep outputs (OUTPUTS) of one version as registered, and its recorded digests."""
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
    missing += [key for key in METADATA_DIGESTS.values() if not metadata.get(key)]
    if missing:
        raise ModelPackageMetadataError(
            f"Approved model package {package_arn} lacks {', '.join(missing)}: register it with "
            "InferenceSpecification.Containers[0] (Image, ModelDataUrl) and customer metadata "
            f"{METADATA_REFERENCE_URI!r}, {METADATA_IMPUTATION_URI!r} and the sha256 digests "
            f"{sorted(METADATA_DIGESTS.values())} (the training pipeline's register step sets them); "
            "a version registered before digests were recorded must be trained again")
    return outputs, {name: metadata[key] for name, key in METADATA_DIGESTS.items()}


def source_prefix(outputs: dict[str, str], policy: Policy) -> str | None:
    """The `models/<stack>/` prefix all artifacts lie under; None for a stack not served.

    Raises ModelIntegrityError for anything that is not how the platform's training
    registers a version: another image, another bucket, another prefix, mixed prefixes.
    """
    arn = outputs["ModelPackageArn"]
    image, repo = outputs["ImageUri"], policy.image_repository
    if not (image.startswith(f"{repo}:") or image.startswith(f"{repo}@")):
        raise ModelIntegrityError(f"Approved model package {arn} runs image {image!r}, not the AWS algorithm "
                                  f"image {repo}: refusing to serve it; reject the version and investigate")
    uris = [outputs[k] for k in METADATA_DIGESTS]
    keys = []
    for uri in uris:
        bucket, key = split_uri(uri)
        if bucket != policy.artifacts_bucket:
            raise ModelIntegrityError(f"Approved model package {arn} refers to {uri}, outside the registry bucket "
                                      f"{policy.artifacts_bucket}: refusing to serve it")
        keys.append(key)
    for prefixes, served in ((policy.served, True), (policy.unserved, False)):
        for prefix in prefixes:
            if all(k.startswith(prefix) for k in keys):
                return prefix if served else None
    raise ModelIntegrityError(f"Approved model package {arn} refers to {uris}, not all under one prefix of a "
                              f"stack this one serves ({', '.join(policy.served)}): refusing to serve it")


def split_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ModelIntegrityError(f"{uri!r} is not an s3://bucket/key URI")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def digest(files: dict[str, str]) -> str:
    """The digest of a set of files: sha256 over `<sha256 of the file>  <relative path>` lines,
    sorted by path (`sha256sum` output). One file with the empty path is its own sha256."""
    if set(files) == {""}:
        return files[""]
    listing = "".join(f"{files[path]}  {path}\n" for path in sorted(files))
    return hashlib.sha256(listing.encode()).hexdigest()


def _objects(s3: Any, bucket: str, key: str) -> dict[str, str]:
    """{relative path: S3 key} of what `s3://bucket/key` names: the object, or every object under
    the `key/` folder (folder markers skipped)."""
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
        for obj in page.get("Contents", []):
            name = obj["Key"]
            if name == key and not key.endswith("/"):
                return {"": name}
            if name.startswith(f"{key.rstrip('/')}/") and not name.endswith("/"):
                found[name[len(key.rstrip("/")) + 1:]] = name
    return found


def verify_and_copy(uri: str, expected: str, policy: Policy, s3: Any, arn: str) -> str:
    """Copy what `uri` names into the verified prefix if its digest is `expected`; its new URI."""
    bucket, key = split_uri(uri)
    objects = _objects(s3, bucket, key)
    if not objects:
        raise ModelIntegrityError(f"Approved model package {arn}: nothing stored at {uri}")
    with tempfile.TemporaryDirectory() as tmp:
        sums, local = {}, {}
        for i, (path, name) in enumerate(sorted(objects.items())):
            local[path] = os.path.join(tmp, str(i))
            sums[path] = _download(s3, bucket, name, local[path])
        found = digest(sums)
        if found != expected:
            raise ModelIntegrityError(
                f"Approved model package {arn}: {uri} has sha256 {found}, but {expected} was recorded at "
                "registration: the artifacts changed after registration; refusing to serve them")
        base = f"{VERIFIED_MODELS_PREFIX}{found}"
        for path, file in local.items():
            target = f"{base}/{path or key.rsplit('/', 1)[-1]}"
            with open(file, "rb") as body:
                s3.put_object(Bucket=policy.verified_bucket, Key=target, Body=body,
                              ChecksumAlgorithm="SHA256")
    name = key.rsplit("/", 1)[-1]
    return f"s3://{policy.verified_bucket}/{base}/{name}" if set(objects) == {""} \
        else f"s3://{policy.verified_bucket}/{base}/"


def _download(s3: Any, bucket: str, key: str, path: str) -> str:
    sha = hashlib.sha256()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with open(path, "wb") as out:
        for chunk in iter(lambda: body.read(CHUNK), b""):
            sha.update(chunk)
            out.write(chunk)
    return sha.hexdigest()


def serve(group: str, policy: Policy, sagemaker: Any = None, s3: Any = None,
          page_size: Any = DEFAULT_PAGE_SIZE) -> dict[str, str]:
    """OUTPUTS of the newest approved version this stack serves, with verified copies' URIs."""
    sagemaker, s3 = sagemaker or boto3.client("sagemaker"), s3 or boto3.client("s3")
    skipped = 0
    for summary in approved_packages(group, sagemaker, page_size):
        outputs, digests = describe_outputs(summary["ModelPackageArn"], sagemaker)
        if source_prefix(outputs, policy) is None:
            skipped += 1
            logger.info("skipping %s: trained by a stack this one does not serve", outputs["ModelPackageArn"])
            continue
        arn = outputs["ModelPackageArn"]
        return {**outputs, **{name: verify_and_copy(outputs[name], digests[name], policy, s3, arn)
                              for name in METADATA_DIGESTS}}
    raise NoApprovedModelError(_no_approved(group, skipped))


def handler(event: dict | None, context: Any = None) -> dict[str, str]:
    """Lambda entry point: return the newest served approved model's OUTPUTS as strings."""
    group = (event or {}).get(EVENT_GROUP_KEY) or os.environ.get(ENV_GROUP)
    if not group:
        raise ValueError(f"No model package group given: pass {EVENT_GROUP_KEY!r} in the event "
                         f"or set {ENV_GROUP} (the central group's ARN when cross-account)")
    policy = Policy.from_environment()
    outputs = serve(group, policy, page_size=os.environ.get(ENV_PAGE_SIZE, DEFAULT_PAGE_SIZE))
    logger.info("latest approved model package: %s (artifacts verified)", outputs["ModelPackageArn"])
    return outputs
