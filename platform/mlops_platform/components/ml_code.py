"""Step scripts, Lambda code and seed data, uploaded under content-addressed keys."""
from __future__ import annotations

import base64
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from ml import contract, packaging
from ml.superseded_code import SupersededCode, SupersededCodeArgs

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
        key = packaging.content_key(contract.LAMBDA_PACKAGES_PREFIX, archive, f"{purpose}.zip")
        out[purpose] = (LambdaPackage(key, f"{module}.handler", digest), archive)
    return out


def seed_datasets() -> dict[str, bytes]:
    """The initial training set and the clean batch, derived (seeded) from the shipped data,
    in the raw UCI layout `datasets.write_raw` gives them."""
    from ml import datasets  # pandas: only when seeding, never to build an IAM document

    sets = datasets.derive_datasets(datasets.read_raw())
    with tempfile.TemporaryDirectory() as tmp:
        return {name: datasets.write_raw(sets[name], Path(tmp) / name).read_bytes()
                for name in contract.SEED_OBJECTS}


@dataclass(frozen=True)
class MlCodeArgs:
    bucket_name: str
    region: str
    seed_data: bool


class MlCode(pulumi.ComponentResource):
    """Uploads what the pipelines and Lambdas run, into the stack's data bucket.

    Keys carry the content hash, so a changed script is a new object that the definition
    then references, and an unchanged script is never re-uploaded. The object a changed
    script replaces is kept, not deleted (`retain_on_delete`): an execution in flight reads
    each later step's script by the URI it started with. `SupersededCode` marks it, and the
    bucket expires marked scripts only, weeks later (ml/superseded_code.py says why that way).
    With `seed_data` (the first-deploy switch) it also uploads a training set and a clean
    batch, so the first run needs no manual upload.
    """

    def __init__(self, name: str, args: MlCodeArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:MlCode", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        scripts = packaging.script_artifacts()
        self.script_uris = packaging.script_uris(args.bucket_name, contract.STEP_SCRIPTS_PREFIX, scripts)
        keys = packaging.script_keys(contract.STEP_SCRIPTS_PREFIX, scripts)
        # Retained: Pulumi state decides, so a script changed in the very deploy that first
        # sets this option is still deleted once (pulumi/pulumi#13428); every later one is kept.
        kept = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True))
        uploads = [aws.s3.BucketObjectv2(f"script-{script.removesuffix('.py')}", bucket=args.bucket_name,
                                         key=keys[script], content=data.decode(), content_type="text/x-python",
                                         opts=kept)
                   for script, data in sorted(scripts.items())]
        SupersededCode("superseded-scripts", SupersededCodeArgs(
            bucket=args.bucket_name, region=args.region, keys=sorted(keys.values())),
            opts=pulumi.ResourceOptions(parent=self, depends_on=uploads))
        self.lambdas: dict[str, LambdaPackage] = {}
        self.uploads: list[pulumi.Resource] = []
        # Lambda copies its code when the function is created or updated: an old zip can go.
        for purpose, (package, archive) in lambda_packages().items():
            self.lambdas[purpose] = package
            self.uploads.append(aws.s3.BucketObjectv2(
                f"lambda-{purpose}", bucket=args.bucket_name, key=package.key,
                content_base64=base64.b64encode(archive).decode(), content_type="application/zip",
                opts=child))
        if args.seed_data:
            for name, data in seed_datasets().items():
                aws.s3.BucketObjectv2(f"seed-{name.replace('_', '-')}", bucket=args.bucket_name,
                                      key=contract.SEED_OBJECTS[name], content=data.decode(), opts=child)
        self.register_outputs({})
