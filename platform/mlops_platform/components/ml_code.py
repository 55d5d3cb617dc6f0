"""Step scripts, Lambda code and seed data, uploaded under content-addressed keys."""
from __future__ import annotations

import base64
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from ml import contract, datasets, packaging
from ml.pipelines.settings import PipelineSettings

_DEFAULTS = PipelineSettings.__dataclass_fields__
# Where the first-deploy switch puts the seeded sets: under the pipelines' default inputs.
SEED_OBJECTS = {
    "initial_train": f"{_DEFAULTS['training_data_key'].default}initial_train.data",
    "batch_clean": f"{_DEFAULTS['batch_data_key'].default}batch_clean.data",
}
CODE_PREFIX = "code/steps"
LAMBDA_PREFIX = "code/lambdas"
LAMBDA_HANDLERS = {  # function purpose -> handler module in ml/lambdas/
    "latest-approved-model": "latest_approved_model",
    "retrain-gate": "retrain_gate",
}


@dataclass(frozen=True)
class LambdaPackage:
    key: str
    handler: str
    source_code_hash: str  # base64 sha256, as Lambda reports it


def lambda_packages() -> dict[str, tuple[LambdaPackage, bytes]]:
    """Each Lambda's handler zipped alone, deterministically (same code, same bytes, same key)."""
    out = {}
    for purpose, module in sorted(LAMBDA_HANDLERS.items()):
        source = (contract.LAMBDAS_DIR / f"{module}.py").read_bytes()
        archive = packaging.deterministic_zip({f"{module}.py": source})
        digest = base64.b64encode(hashlib.sha256(archive).digest()).decode()
        key = packaging.content_key(LAMBDA_PREFIX, archive, f"{purpose}.zip")
        out[purpose] = (LambdaPackage(key, f"{module}.handler", digest), archive)
    return out


def seed_datasets() -> dict[str, bytes]:
    """The initial training set and the clean batch, derived (seeded) from the shipped data,
    in the raw UCI layout `datasets.write_raw` gives them."""
    sets = datasets.derive_datasets(datasets.read_raw())
    with tempfile.TemporaryDirectory() as tmp:
        return {name: datasets.write_raw(sets[name], Path(tmp) / name).read_bytes() for name in SEED_OBJECTS}


@dataclass(frozen=True)
class MlCodeArgs:
    bucket_name: str
    seed_data: bool


class MlCode(pulumi.ComponentResource):
    """Uploads what the pipelines and Lambdas run, into the stack's data bucket.

    Keys carry the content hash, so a changed script is a new object that the definition
    then references: executions in flight keep the code they started with, and an unchanged
    script is never re-uploaded. With `seed_data` (the first-deploy switch) it also uploads a
    training set and a clean batch, so the first run needs no manual upload.
    """

    def __init__(self, name: str, args: MlCodeArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:MlCode", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        scripts = packaging.script_artifacts()
        self.script_uris = packaging.script_uris(args.bucket_name, CODE_PREFIX, scripts)
        keys = packaging.script_keys(CODE_PREFIX, scripts)
        for script, data in sorted(scripts.items()):
            aws.s3.BucketObjectv2(f"script-{script.removesuffix('.py')}", bucket=args.bucket_name,
                                  key=keys[script], content=data.decode(), content_type="text/x-python",
                                  opts=child)
        self.lambdas: dict[str, LambdaPackage] = {}
        self.uploads: list[pulumi.Resource] = []
        for purpose, (package, archive) in lambda_packages().items():
            self.lambdas[purpose] = package
            self.uploads.append(aws.s3.BucketObjectv2(
                f"lambda-{purpose}", bucket=args.bucket_name, key=package.key,
                content_base64=base64.b64encode(archive).decode(), content_type="application/zip",
                opts=child))
        if args.seed_data:
            for name, data in seed_datasets().items():
                aws.s3.BucketObjectv2(f"seed-{name.replace('_', '-')}", bucket=args.bucket_name,
                                      key=SEED_OBJECTS[name], content=data.decode(), opts=child)
        self.register_outputs({})
