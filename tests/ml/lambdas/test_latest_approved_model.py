"""The latest-approved-model Lambda, against a real moto server over HTTP (`aws` fixture).

moto rejects create_model_package with a group ARN (real AWS accepts it), so packages are
created by group name; the handler is queried by name and by ARN. Artifacts are real objects
in a registry bucket; the function verifies them against the digests registered with the
version and copies them into the stack's data bucket, which is what inference then reads.
"""
from __future__ import annotations

import ast
import gzip
import hashlib
import io
import sys
import tarfile

import boto3
import pytest

from ml import contract
from ml.lambdas import latest_approved_model as lam

GROUP = "mammography-models"
REGISTRY = "mlops-registry-artifacts-111111111111-eu-west-1"
DATA = "mlops-prod-data-333333333333-eu-west-1"
REPOSITORY = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost"
PREFIXES = {"dev": "models/dev/", "prod": "models/prod/"}


def model_archive(n: int) -> bytes:
    """A model.tar.gz, the same bytes for the same n (no timestamps)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        payload = f"model {n}".encode()
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


class Registry:
    """The registry's bucket and group as a training pipeline leaves them."""

    def __init__(self, sagemaker, s3):
        self.sagemaker, self.s3 = sagemaker, s3

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=REGISTRY, Key=key, Body=body)

    def train(self, n: int, source: str = "dev") -> dict[str, str]:
        """Artifacts of run n under models/<source>/; returns the URIs and their digests."""
        base = f"{PREFIXES[source]}run-{n}"
        files = {f"{base}/model/model.tar.gz": model_archive(n),
                 f"{base}/reference/reference.data": f"ref {n}\n".encode(),
                 f"{base}/imputation/imputation.json": f'{{"v": {n}}}'.encode(),
                 f"{base}/imputation/nested/extra.json": b"{}"}
        for key, body in files.items():
            self.put(key, body)
        sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
        tree = lambda folder: lam.digest({k.removeprefix(f"{base}/{folder}/"): sha(b)  # noqa: E731
                                          for k, b in files.items() if k.startswith(f"{base}/{folder}/")})
        model = f"{base}/model/model.tar.gz"
        return {"model": f"s3://{REGISTRY}/{model}", "model_sha": sha(files[model]),
                "reference": f"s3://{REGISTRY}/{base}/reference", "reference_sha": tree("reference"),
                "imputation": f"s3://{REGISTRY}/{base}/imputation", "imputation_sha": tree("imputation")}

    def register(self, run: dict[str, str], status: str = "Approved", image: str = f"{REPOSITORY}:3.0-5",
                 **metadata: str) -> str:
        """Register run as the training pipeline does; `metadata` overrides its customer metadata."""
        recorded = {contract.METADATA_REFERENCE_URI: run["reference"],
                    contract.METADATA_IMPUTATION_URI: run["imputation"], "model_data_sha256": run["model_sha"],
                    "reference_data_sha256": run["reference_sha"], "imputation_sha256": run["imputation_sha"]}
        return self.sagemaker.create_model_package(
            ModelPackageGroupName=GROUP, ModelApprovalStatus=status,
            InferenceSpecification={"Containers": [{"Image": image, "ModelDataUrl": run["model"]}],
                                    "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
            CustomerMetadataProperties={**recorded, **metadata},
        )["ModelPackageArn"]


@pytest.fixture
def registry(aws, monkeypatch):
    sagemaker, s3 = boto3.client("sagemaker"), boto3.client("s3")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    for bucket in (REGISTRY, DATA):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for key, value in {lam.ENV_ARTIFACTS_BUCKET: REGISTRY, lam.ENV_SERVED: "models/dev/,models/prod/",
                       lam.ENV_IMAGE_REPOSITORY: REPOSITORY, lam.ENV_VERIFIED_BUCKET: DATA}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(lam.ENV_UNSERVED, raising=False)
    return Registry(sagemaker, s3)


def read(uri: str) -> bytes:
    bucket, key = uri[5:].split("/", 1)
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_names_agree_with_the_contract():
    assert lam.OUTPUTS == contract.LATEST_MODEL_OUTPUTS
    assert lam.METADATA_REFERENCE_URI == contract.METADATA_REFERENCE_URI
    assert lam.METADATA_IMPUTATION_URI == contract.METADATA_IMPUTATION_URI
    assert lam.METADATA_DIGESTS == contract.METADATA_DIGESTS
    assert lam.VERIFIED_MODELS_PREFIX == contract.VERIFIED_MODELS_PREFIX


def test_handler_imports_only_stdlib_and_boto3():
    tree = ast.parse((contract.LAMBDAS_DIR / "latest_approved_model.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= set(sys.stdlib_module_names) | {"boto3", "botocore"}, imported


def test_the_digest_of_files_is_sha256sum_of_their_listing():
    one = hashlib.sha256(b"x").hexdigest()
    assert lam.digest({"": one}) == one
    listing = f"{one}  a/b.csv\n{one}  c.json\n"
    assert lam.digest({"c.json": one, "a/b.csv": one}) == hashlib.sha256(listing.encode()).hexdigest()


def test_the_newest_approved_version_is_served_from_verified_copies(registry, monkeypatch):
    runs = {n: registry.train(n) for n in range(1, 6)}
    arns = {n: registry.register(runs[n], status) for n, status in
            zip(runs, ["Approved", "Rejected", "Approved", "Approved", "PendingManualApproval"], strict=True)}
    monkeypatch.setenv(lam.ENV_PAGE_SIZE, "1")
    for group in (GROUP, registry.sagemaker.describe_model_package_group(
            ModelPackageGroupName=GROUP)["ModelPackageGroupArn"]):
        outputs = lam.handler({lam.EVENT_GROUP_KEY: group}, None)
        assert tuple(outputs) == contract.LATEST_MODEL_OUTPUTS
        assert outputs["ModelPackageArn"] == arns[4] and outputs["ImageUri"] == f"{REPOSITORY}:3.0-5"
        assert outputs["ModelDataUrl"] == f"s3://{DATA}/verified-models/{runs[4]['model_sha']}/model.tar.gz"
        assert read(outputs["ModelDataUrl"]) == model_archive(4)
        reference = outputs["ReferenceDataUri"]
        assert reference == f"s3://{DATA}/verified-models/{runs[4]['reference_sha']}/"
        assert read(reference + "reference.data") == b"ref 4\n"
        assert read(outputs["ImputationUri"] + "nested/extra.json") == b"{}"


def test_artifacts_changed_after_approval_are_refused(registry):
    run = registry.train(1)
    arn = registry.register(run)
    registry.put("models/dev/run-1/model/model.tar.gz", model_archive(666))  # the trainer overwrites it
    with pytest.raises(lam.ModelIntegrityError, match="changed after registration") as err:
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})
    assert arn in str(err.value)
    assert not boto3.client("s3").list_objects_v2(Bucket=DATA).get("KeyCount")  # nothing copied


@pytest.mark.parametrize("tamper", ["models/dev/run-1/reference/reference.data",
                                    "models/dev/run-1/imputation/added-later.json"])
def test_a_changed_or_added_reference_file_is_refused(registry, tamper):
    registry.register(registry.train(1))
    registry.put(tamper, b"poisoned")
    with pytest.raises(lam.ModelIntegrityError, match="changed after registration"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})


@pytest.mark.parametrize("image", ["999999999999.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5",
                                   f"{REPOSITORY}-evil:3.0-5", "public.ecr.aws/x/xgboost:latest"])
def test_an_image_outside_the_aws_algorithm_repository_is_refused(registry, image):
    registry.register(registry.train(1), image=image)
    with pytest.raises(lam.ModelIntegrityError, match="not the AWS algorithm image"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})


def test_artifacts_outside_the_registry_bucket_or_across_prefixes_are_refused(registry):
    run = registry.train(1)
    registry.register(run, **{contract.METADATA_REFERENCE_URI: "s3://attacker-bucket/models/dev/run-1/reference"})
    with pytest.raises(lam.ModelIntegrityError, match="outside the registry bucket"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})
    prod = registry.train(2, source="prod")
    registry.register(run, **{contract.METADATA_REFERENCE_URI: prod["reference"]})
    with pytest.raises(lam.ModelIntegrityError, match="not all under one prefix"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})


def test_a_stack_skips_versions_trained_where_it_does_not_read(registry, monkeypatch):
    monkeypatch.setenv(lam.ENV_SERVED, "models/dev/")
    monkeypatch.setenv(lam.ENV_UNSERVED, "models/prod/")
    dev = registry.register(registry.train(1, source="dev"))
    registry.register(registry.train(2, source="prod"))  # newer, but prod's: dev does not read it
    assert lam.handler({lam.EVENT_GROUP_KEY: GROUP})["ModelPackageArn"] == dev


def test_only_versions_this_stack_does_not_serve_is_no_approved_model(registry, monkeypatch):
    monkeypatch.setenv(lam.ENV_SERVED, "models/dev/")
    monkeypatch.setenv(lam.ENV_UNSERVED, "models/prod/")
    registry.register(registry.train(2, source="prod"))
    with pytest.raises(lam.NoApprovedModelError, match=r"^No approved model package .*1 approved version\(s\) "
                                                       "trained by stacks this one does not serve"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})


def test_a_version_registered_without_digests_is_a_clear_error(registry):
    run = registry.train(1)
    arn = registry.sagemaker.create_model_package(
        ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved",
        InferenceSpecification={"Containers": [{"Image": f"{REPOSITORY}:3.0-5", "ModelDataUrl": run["model"]}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        CustomerMetadataProperties={contract.METADATA_REFERENCE_URI: run["reference"]})["ModelPackageArn"]
    with pytest.raises(lam.ModelPackageMetadataError, match="lacks ImputationUri, model_data_sha256") as err:
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})
    assert arn in str(err.value) and "trained again" in str(err.value)


def test_a_newly_approved_older_version_does_not_beat_a_newer_one(registry):
    first = registry.register(registry.train(1), "PendingManualApproval")
    second = registry.register(registry.train(2))
    registry.sagemaker.update_model_package(ModelPackageArn=first, ModelApprovalStatus="Approved")
    assert lam.handler({lam.EVENT_GROUP_KEY: GROUP})["ModelPackageArn"] == second


def test_no_approved_version_is_a_clear_error_not_drift(registry):
    registry.register(registry.train(1), "PendingManualApproval")
    registry.register(registry.train(2), "Rejected")
    with pytest.raises(lam.NoApprovedModelError, match=rf"^No approved model package in group '{GROUP}': approve"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})


def test_every_page_is_read(registry):
    for n in range(1, 6):
        registry.register(registry.train(n), "Rejected" if n == 2 else "Approved")
    calls = []
    registry.sagemaker.meta.events.register("after-call.sagemaker.ListModelPackages",
                                            lambda **kw: calls.append(kw["parsed"]))
    newest = lam.newest_approved_package(GROUP, registry.sagemaker, page_size=2)
    assert newest["ModelPackageArn"].endswith(f"/{GROUP}/5")
    assert [len(c["ModelPackageSummaryList"]) for c in calls] == [2, 2]  # 4 approved, 2 pages


@pytest.mark.parametrize("setting", ["0", "101", "ten"])
def test_bad_page_size_is_rejected(registry, monkeypatch, setting):
    monkeypatch.setenv(lam.ENV_PAGE_SIZE, setting)
    with pytest.raises(ValueError, match=f"{lam.ENV_PAGE_SIZE} must be an integer from 1 to 100"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP}, None)


def test_missing_group_names_both_ways_to_give_it(aws, monkeypatch):
    monkeypatch.delenv(lam.ENV_GROUP, raising=False)
    with pytest.raises(ValueError, match=f"'{lam.EVENT_GROUP_KEY}' in the event or set {lam.ENV_GROUP}"):
        lam.handler({}, None)


def test_a_function_deployed_without_its_policy_says_so(aws, monkeypatch):
    for key in (lam.ENV_ARTIFACTS_BUCKET, lam.ENV_SERVED, lam.ENV_IMAGE_REPOSITORY, lam.ENV_VERIFIED_BUCKET):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValueError, match="lacks MODEL_ARTIFACTS_BUCKET, SERVED_MODEL_PREFIXES"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP}, None)


def test_what_the_evaluate_step_records_is_what_the_function_verifies(registry, tmp_path):
    """End to end: the digests evaluate.py writes for its inputs are those the Lambda checks."""
    from ml.steps import evaluate

    run = registry.train(7)
    for name, uri in (("model", run["model"]), ("reference", run["reference"]), ("imputation", run["imputation"])):
        bucket, key = uri[5:].split("/", 1)
        for obj in registry.s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]:
            relative = obj["Key"][len(key):].lstrip("/") or evaluate.MODEL_ARCHIVE
            target = tmp_path / evaluate.INPUT_DIRS[name] / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read(f"s3://{bucket}/{obj['Key']}"))
    recorded = evaluate.artifact_digests(tmp_path)
    arn = registry.register(run, **recorded)
    assert lam.handler({lam.EVENT_GROUP_KEY: GROUP})["ModelPackageArn"] == arn
    assert recorded == {"model_data_sha256": run["model_sha"], "reference_data_sha256": run["reference_sha"],
                        "imputation_sha256": run["imputation_sha"]}


def test_one_models_lookup_refuses_a_version_whose_files_are_another_models(registry, monkeypatch):
    # Per model, the platform sets the prefixes of that model's own training outputs
    # (iam_documents.workload.model_lookup_environment): the first model's under
    # models/<stack>/mlops-<stack>-training/, another model's under models/<stack>/<model>/....
    first = "models/dev/mlops-dev-training/"
    other = "models/dev/wdbc/mlops-dev-wdbc-training/"
    for prefix in (first, other):
        monkeypatch.setitem(PREFIXES, "dev", prefix)
        run = registry.train(1 if prefix == first else 2)
        if prefix == other:
            registry.register(run)  # a version of the other model's files, in the first model's group
    monkeypatch.setenv(lam.ENV_SERVED, first)
    monkeypatch.setenv(lam.ENV_UNSERVED, "models/prod/mlops-prod-training/")
    with pytest.raises(lam.ModelIntegrityError, match="not all under one prefix"):
        lam.handler({lam.EVENT_GROUP_KEY: GROUP})
    # The other model's own lookup serves exactly those files.
    monkeypatch.setenv(lam.ENV_SERVED, other)
    monkeypatch.setenv(lam.ENV_UNSERVED, "models/prod/wdbc/mlops-prod-wdbc-training/")
    assert read(lam.handler({lam.EVENT_GROUP_KEY: GROUP})["ModelDataUrl"]) == model_archive(2)
