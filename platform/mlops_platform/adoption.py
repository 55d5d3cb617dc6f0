"""Deploying again after `pulumi destroy`: adopting what the destroy kept.

`retain_on_delete` keeps a resource in AWS but drops it from the stack's state, so the next
`pulumi up` would try to create it again. Resources with fixed names then fail
(`EntityAlreadyExists` for the OIDC provider, the boundary and the trust-anchor roles,
`BucketAlreadyOwnedByYou` for a kept bucket), and a kept KMS key is silently replaced by a
new one, leaving the data it encrypted unreadable to the new roles.

With `mlops-platform:adoptRetained: true` the program sets the `import` resource option on
every kept resource, with the id AWS knows it by, so that `up` adopts it instead of creating
it. A kept key has no name to derive its id from: list it in `retainedKeyIds`. Once adopted,
the option is harmless (the engine treats a resource already in state with the same id like
any other); remove the switch before deploying into a fresh account, where nothing exists to
adopt. Idempotent writes (inline role policies, bucket settings) need no adoption.
CI's destroy of dev keeps what CI needs in state instead (destroy-dev.yml), so dev needs none.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from mlops_facts import arn

ADOPT_KEY = "adoptRetained"
KEY_IDS_KEY = "retainedKeyIds"
# The KMS keys each stack role keeps on destroy (with retainData), by logical name.
RETAINED_KEYS = {"registry": ("artifacts-key",), "dev": ("data-key",), "prod": ("data-key",)}
KMS_KEY_ID = re.compile(r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


@dataclass(frozen=True)
class Adoption:
    """Whether this `up` adopts the resources a previous destroy kept, and the kept keys' ids."""

    enabled: bool = False
    key_ids: dict[str, str] = field(default_factory=dict)


def read(c: Any, project: str, role: str | None, retain_data: bool) -> Adoption:
    """Parse `adoptRetained` and `retainedKeyIds` with the config loader's collector `c`."""
    enabled = c.flag(ADOPT_KEY, default=False)
    raw = c.structured(KEY_IDS_KEY, dict, required=False,
                       fix="Map each kept key's logical name to its key id, e.g. {data-key: 1234abcd-...}.")
    if raw is None:
        return Adoption(enabled)
    key = f"{project}:{KEY_IDS_KEY}"
    if not enabled:
        c.fail(key, f"is read only with {project}:{ADOPT_KEY}: true: set that too, or remove this key.")
    kept = RETAINED_KEYS.get(role or "", ()) if retain_data else ()
    ids = {}
    for name, key_id in sorted(raw.items()):
        if role is not None and name not in kept:
            why = (f"this stack keeps {', '.join(kept)}" if kept
                   else "this stack keeps no key (retainData is false)")
            c.fail(f"{key}.{name}", f"{name!r} is not a key this stack keeps on destroy: {why}.")
        elif not isinstance(key_id, str) or not KMS_KEY_ID.fullmatch(key_id):
            c.fail(f"{key}.{name}", f"{key_id!r} is not a KMS key id: use the KeyId of the kept key "
                   "(`aws kms list-aliases` no longer shows it once its alias is gone; see the key's tags).")
        else:
            ids[name] = key_id
    return Adoption(enabled, ids)


def _oidc_arn(region: str, account: str, props: dict[str, Any]) -> str | None:
    url = props.get("url")
    if not isinstance(url, str):
        return None
    return arn("iam", region, account, f"oidc-provider/{url.removeprefix('https://')}")


def _policy_arn(region: str, account: str, props: dict[str, Any]) -> str | None:
    name = props.get("name")
    return arn("iam", region, account, f"policy/{name}") if isinstance(name, str) else None


def _plain(prop: str) -> Callable[[str, str, dict[str, Any]], str | None]:
    return lambda _region, _account, props: props[prop] if isinstance(props.get(prop), str) else None


# How AWS identifies each kind of kept resource whose create fails when it already exists,
# computed from its (snake_case) inputs: the ids `pulumi import` takes for these types.
IMPORT_IDS: dict[str, Callable[[str, str, dict[str, Any]], str | None]] = {
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_arn,
    "aws:iam/policy:Policy": _policy_arn,
    "aws:iam/role:Role": _plain("name"),
    "aws:s3/bucket:Bucket": _plain("bucket"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _plain("model_package_group_name"),
}


def import_id(adoption: Adoption, region: str, account: str, typ: str, name: str,
              props: dict[str, Any]) -> str | None:
    """The id to adopt a kept resource by, or None when it is created as usual."""
    if typ == "aws:kms/key:Key":
        return adoption.key_ids.get(name)
    derive = IMPORT_IDS.get(typ)
    return derive(region, account, props) if derive else None


def register(adoption: Adoption, region: str, account: str) -> None:
    """Adopt every resource kept on destroy (`retain_on_delete`) in this `up`, when enabled."""
    if not adoption.enabled:
        return

    def adopt(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not args.opts or not args.opts.retain_on_delete or args.opts.import_:
            return None
        found = import_id(adoption, region, account, args.type_, args.name, dict(args.props))
        if found is None:
            return None
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(import_=found)))

    pulumi.runtime.register_stack_transformation(adopt)
