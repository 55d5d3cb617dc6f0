"""Rules over a whole stack: what no single resource shows.

A bucket is only as hardened as its companion resources (encryption, public-access block,
versioning, policy), a key only needs keeping if it encrypts kept data, and the workload
stacks must point at the registry's group and key. Each check returns (message, urn).
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from mlops_policies import documents as d
from mlops_policies import pipelines, storage
from mlops_policies.model import Resource, StackContext

Violation = tuple[str, str | None]
STACK_REFERENCE = "pulumi:pulumi:StackReference"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
COMPANIONS = {
    "SSE-KMS encryption (BucketServerSideEncryptionConfiguration)": storage.SSE,
    "a public access block (BucketPublicAccessBlock)": storage.PUBLIC_ACCESS_BLOCK,
    "versioning (BucketVersioning)": storage.VERSIONING,
    "a TLS-only bucket policy (BucketPolicy)": storage.BUCKET_POLICY,
}


def identifiers(res: Resource) -> set[str]:
    """Values by which other inputs name this resource when its id is known."""
    keys = ("bucket", "arn", "keyId", "id", "url")
    return {v for k in keys if isinstance(v := res.props.get(k), str) and v}


def refers_to(res: Resource, prop: str, target: Resource) -> bool:
    """Whether `res.prop` was computed from `target` (engine dependency) or names it outright."""
    if target.urn and target.urn in res.dependencies.get(prop, ()):
        return True
    return bool(identifiers(target) & set(d.string_leaves(res.props.get(prop))))


def _buckets(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if r.type in (storage.BUCKET, storage.BUCKET_V2)]


def check_bucket_companions(resources: list[Resource], ctx: StackContext | None) -> list[Violation]:
    """Every bucket has its encryption, public-access block, versioning and TLS-only policy."""
    out: list[tuple[str, str | None]] = []
    for bucket in _buckets(resources):
        for what, types in COMPANIONS.items():
            if not any(r.type in types and refers_to(r, "bucket", bucket) for r in resources):
                out.append((f"S3 bucket {bucket.name} has no {what}. Fix: build buckets with the "
                            "HardenedBucket component, which adds all four.", bucket.urn or None))
    return out


def data_keys(resources: list[Resource]) -> list[Resource]:
    """KMS keys that encrypt a bucket of this stack."""
    encryption = [r for r in resources if r.type in storage.SSE]
    return [k for k in resources if k.type == storage.KMS_KEY and any(refers_to(e, "rules", k) for e in encryption)]


def check_retention(resources: list[Resource], ctx: StackContext) -> list[Violation]:
    """Stacks that keep their data (prod, the registry) keep buckets and their keys on destroy.

    The engine does not show `retain_on_delete` to policy packs, so in a real preview the
    visible signals are checked: no force_destroy on buckets, the longest deletion window on
    keys. Where the option is visible (the offline harness), it is checked too.
    """
    if not ctx.retain_data:
        return []
    out: list[tuple[str, str | None]] = []
    for bucket in _buckets(resources):
        if bucket.get("forceDestroy") is True or bucket.retain_on_delete is False:
            out.append((f"S3 bucket {bucket.name} of stack {ctx.stack or ctx.role} would be emptied and deleted by "
                        f"`pulumi destroy` (force_destroy={bucket.get('forceDestroy')!r}, retain_on_delete="
                        f"{bucket.retain_on_delete!r}). Fix: retain_on_delete=True and force_destroy=False "
                        "(config retainData: true).", bucket.urn or None))
    for key in data_keys(resources):
        window = key.get("deletionWindowInDays")
        if key.retain_on_delete is False or window != 30:
            out.append((f"KMS key {key.name} encrypts kept data but would be scheduled for deletion "
                        f"(retain_on_delete={key.retain_on_delete!r}, deletion_window_in_days={window!r}). "
                        "Fix: retain_on_delete=True and deletion_window_in_days=30.", key.urn or None))
    return out


def check_cross_account(resources: list[Resource], ctx: StackContext) -> list[Violation]:
    """The registry shares its key with dev and prod; workloads use the registry's group and key."""
    if ctx.role == "registry":
        return _registry_wiring(resources, ctx)
    return _workload_wiring(resources, ctx)


def _registry_wiring(resources: list[Resource], ctx: StackContext) -> list[Violation]:
    out: list[tuple[str, str | None]] = []
    groups = {r.props.get("modelPackageGroupName") for r in resources
              if r.type == "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"}
    for group in ctx.group_names:
        if group not in groups:
            out.append((f"No model package group policy for {group}: dev and prod cannot register that model's "
                        "versions. Fix: the registry stack creates a ModelRegistry for every model in "
                        "config `models`.", None))
    for key in data_keys(resources):
        granted: set[str | None] = set()
        for _where, _kind, doc in d.documents(key):
            for stmt in d.statements(doc):
                if d.allows(stmt):
                    granted.update(d.account_of(p) for p in d.aws_principals(stmt))
        missing = sorted(r for r in ("dev", "prod") if ctx.accounts[r] not in granted)
        if missing:
            out.append((f"Artifacts key {key.name} does not let the {missing} account(s) use it, so their "
                        "pipelines cannot write or read models. Fix: grant their roles in the key policy.",
                        key.urn or None))
    return out


def _workload_wiring(resources: list[Resource], ctx: StackContext) -> list[Violation]:
    out: list[tuple[str, str | None]] = []
    refs = [r for r in resources if r.type == STACK_REFERENCE]
    if ctx.registry_stack and not any(r.props.get("name") == ctx.registry_stack for r in refs):
        out.append((f"No StackReference to the registry stack {ctx.registry_stack} (config registryStack). "
                    "Fix: read the registry's outputs through that StackReference.", None))
    outputs = next((r.props.get("outputs") for r in refs if isinstance(r.props.get("outputs"), Mapping)), None) or {}
    grants = [(s, p) for p in resources if p.type == ROLE_POLICY
              for _w, _k, doc in d.documents(p) for s in d.statements(doc) if d.allows(s)]
    group_arns = registry_groups(outputs) or set(ctx.group_arns)
    for group_arn in sorted(group_arns):
        if not any(_covers(_resources(s), group_arn) and "sagemaker:createmodelpackage" in _lower(d.actions(s))
                   for s, _ in grants):
            out.append((f"No role may register into the central group {group_arn}. Fix: the SageMaker execution "
                        "role allows sagemaker:CreateModelPackage on the registry's groups "
                        "(model-package-group/* of the registry account).", None))
    key_prefix = f"arn:aws:kms:{ctx.region}:{ctx.accounts['registry']}:key/"
    registry_keys = {r for s, _ in grants if "kms:decrypt" in _lower(d.actions(s))
                     for r in _resources(s) if r.startswith(key_prefix)}
    expected = outputs.get("artifactsKeyArn")
    if not registry_keys or (expected and expected not in registry_keys):
        out.append((f"No role may use the registry's artifacts key ({expected or key_prefix + '...'}; found "
                    f"{sorted(registry_keys)}). Fix: allow kms:Decrypt/GenerateDataKey on the key ARN the "
                    "registry stack exports as artifactsKeyArn.", None))
    for res in resources:
        if pipelines.is_pipeline(res):
            for group in pipelines.registered_groups(res):
                if group not in group_arns:
                    out.append((f"Pipeline {res.name} registers into {group!r}, not one of the registry's groups "
                                f"{sorted(group_arns)}. Fix: PipelineSettings(model_package_group_arn=<the model's "
                                "group from the registry's modelPackageGroups output>).", res.urn or None))
    return out


def registry_groups(outputs: Mapping[str, Any]) -> set[str]:
    """Every group ARN the registry stack exports: each model's (`modelPackageGroups`) and the
    first model's under its older name (`modelPackageGroupArn`)."""
    groups = outputs.get("modelPackageGroups")
    out = {str(g["arn"]) for g in groups.values() if isinstance(g, Mapping) and g.get("arn")} \
        if isinstance(groups, Mapping) else set()
    if outputs.get("modelPackageGroupArn"):
        out.add(str(outputs["modelPackageGroupArn"]))
    return out


def _covers(patterns: list[str], arn: str) -> bool:
    """Whether an IAM resource list covers `arn` (exactly or by a `*`/`?` pattern)."""
    return any(fnmatch.fnmatchcase(arn, p) for p in patterns)


def _resources(stmt: Any) -> list[str]:
    return [str(r) for r in d.as_list(stmt.get("Resource"))]


def _lower(items: Iterable[str]) -> set[str]:
    return {i.lower() for i in items}
