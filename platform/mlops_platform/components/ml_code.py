"""Step scripts, their shared modules, the models' schemas, Lambda code and seed data, uploaded
under content-addressed keys."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath

import pulumi
import pulumi_aws as aws

from ml import contract, packaging
from ml.models import PROJECT_ROOT, ModelSpec
from ml.superseded_code import SupersededCode, SupersededCodeArgs
from mlops_platform import naming

LAMBDA_HANDLERS = {  # function purpose -> handler module in ml/lambdas/
    "latest-approved-model": "latest_approved_model",
    "retrain-gate": "retrain_gate",
}
# What the first-training switch uploads per model (ml/datasets.py `seed_objects`), and under
# which of the model's prefixes: the first model's keys are contract.SEED_OBJECTS, as before.
SEED_PREFIXES = {"initial_train": "training_data_prefix", "batch_clean": "batch_data_prefix"}
# What the derived seed bytes depend on besides our code and the inputs (a split's rows can
# change with scikit-learn's or numpy's version, a number's text with pandas').
SEED_DISTRIBUTIONS = ("numpy", "pandas", "scikit-learn")


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


def seed_datasets(model: ModelSpec) -> dict[str, bytes]:
    """The model's initial training set and clean batch, derived (seeded) from its data file in
    its own layout (ml/datasets.py), or the same bytes from the definition cache: deriving needs
    pandas and scikit-learn (seconds to import) and is a pure function of the inputs hashed here."""
    from ml.pipelines.cache import cached_files

    def derive() -> dict[str, bytes]:
        from ml import datasets  # pandas: only when seeding, never to build an IAM document

        return datasets.seed_objects(model)

    data = (PROJECT_ROOT / model.data_file).read_bytes()
    inputs = {"model": model.name, "schema": model.schema.document(model.name),
              "data_sha256": hashlib.sha256(data).hexdigest()}
    return cached_files("seed", inputs, derive, distributions=SEED_DISTRIBUTIONS)


def seed_keys(names: naming.ModelNames) -> dict[str, str]:
    """Where a model's seed sets go: under its training-data and latest-batch prefixes."""
    return {name: getattr(names, prefix) + PurePosixPath(contract.SEED_OBJECTS[name]).name
            for name, prefix in SEED_PREFIXES.items()}


@dataclass(frozen=True)
class MlCodeArgs:
    bucket_name: str
    region: str
    models: tuple[ModelSpec, ...]  # the stack's models, the first model first
    stack_role: str


class MlCode(pulumi.ComponentResource):
    """Uploads what the pipelines and Lambdas run, into the stack's data bucket: the step
    scripts and their shared modules (one set for all models), each model's schema document,
    the Lambda packages, and the seed data of each model whose first-training switch is on.

    Keys carry the content hash, so a changed script is a new object that the definition
    then references, and an unchanged script is never re-uploaded. The object a changed
    script, module or schema replaces is kept, not deleted (`retain_on_delete`): an execution
    in flight reads each later step's code and schema by the URI it started with.
    `SupersededCode` marks superseded scripts and modules, and the bucket expires marked ones
    only, weeks later (ml/superseded_code.py says why that way).
    """

    def __init__(self, name: str, args: MlCodeArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:MlCode", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        # Retained: Pulumi state decides, so a script changed in the very deploy that first
        # sets this option is still deleted once (pulumi/pulumi#13428); every later one is kept.
        kept = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True))
        code_keys = self._steps_code(args, kept)
        SupersededCode("superseded-scripts", SupersededCodeArgs(
            bucket=args.bucket_name, region=args.region, keys=sorted(code_keys)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._code_uploads))
        self.schema_uris: dict[str, str] = {}
        for model in args.models:
            names = naming.ModelNames(args.stack_role, model.name, model.first)
            self.schema_uris[model.name] = self._schema(args.bucket_name, model, names, kept)
            if model.first_training_run:
                self._seed(args.bucket_name, model, names, child)
        self.lambdas: dict[str, LambdaPackage] = {}
        self.uploads: list[pulumi.Resource] = []
        # Lambda copies its code when the function is created or updated: an old zip can go.
        for purpose, (package, archive) in lambda_packages().items():
            self.lambdas[purpose] = package
            self.uploads.append(aws.s3.BucketObjectv2(
                f"lambda-{purpose}", bucket=args.bucket_name, key=package.key,
                content_base64=base64.b64encode(archive).decode(), content_type="application/zip",
                opts=child))
        self.register_outputs({})

    def _steps_code(self, args: MlCodeArgs, kept: pulumi.ResourceOptions) -> list[str]:
        """Upload the step scripts and shared modules; set `script_uris` and `library_uris`; the keys."""
        prefix = contract.STEP_SCRIPTS_PREFIX
        scripts, library = packaging.script_artifacts(), packaging.library_artifacts()
        self.script_uris = packaging.script_uris(args.bucket_name, prefix, scripts)
        self.library_uris = packaging.library_uris(args.bucket_name, prefix, library)
        uploads = {f"script-{n.removesuffix('.py')}": (k, scripts[n]) for n, k in
                   packaging.script_keys(prefix, scripts).items()}
        uploads.update({f"library-{n.removesuffix('.py')}": (k, library[n]) for n, k in
                        packaging.library_keys(prefix, library).items()})
        self._code_uploads = [
            aws.s3.BucketObjectv2(logical, bucket=args.bucket_name, key=key, content=data.decode(),
                                  content_type="text/x-python", opts=kept)
            for logical, (key, data) in sorted(uploads.items())]
        return [key for key, _ in uploads.values()]

    def _schema(self, bucket: str, model: ModelSpec, names: naming.ModelNames, kept: pulumi.ResourceOptions) -> str:
        """Upload the model's schema document; its URI."""
        document = model.schema.document_bytes(model.name)
        aws.s3.BucketObjectv2(names.logical("schema"), bucket=bucket, key=packaging.schema_key(document),
                              content=document.decode(), content_type="application/json", opts=kept)
        return packaging.schema_uri(bucket, document)

    def _seed(self, bucket: str, model: ModelSpec, names: naming.ModelNames, child: pulumi.ResourceOptions) -> None:
        keys = seed_keys(names)
        for name, data in seed_datasets(model).items():
            aws.s3.BucketObjectv2(names.logical(f"seed-{name.replace('_', '-')}"), bucket=bucket,
                                  key=keys[name], content=data.decode(), opts=child)
