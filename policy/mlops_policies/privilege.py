"""Rules about what roles can give themselves: boundaries that cap resources, and trust anchors
(the roles GitHub assumes, the central group's policy) that no policy of the stack may change.

Stack rules: they relate roles, their inline policies and the managed policies that are their
permissions boundaries. Each returns (message, urn).
"""
from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from mlops_facts import partition
from mlops_facts.unscoped import is_unscoped
from mlops_policies import documents as d
from mlops_policies.model import Resource, StackContext

Violation = tuple[str, str | None]
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"

# Writes that change who may do what: on a role, a key's policy, a bucket's policy.
ROLE_WRITES = ("iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
               "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
               "iam:UpdateAssumeRolePolicy", "iam:UpdateRole")
# Key administration. Not kms:TagResource: tagging on creation needs it on every key (AWS KMS),
# and whether a tag grants anything is up to the statements that read tags (see _account_wide).
KEY_WRITES = ("kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion")
BUCKET_WRITES = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock",
                 "s3:PutEncryptionConfiguration")
GROUP_POLICY_WRITES = ("sagemaker:PutModelPackageGroupPolicy", "sagemaker:DeleteModelPackageGroupPolicy",
                       "sagemaker:DeleteModelPackageGroup")


def boundaries(resources: list[Resource]) -> list[Resource]:
    """Managed policies that some role of the stack carries as its permissions boundary."""
    roles = [r for r in resources if r.type == ROLE and r.props.get("permissionsBoundary")]
    out = []
    for policy in (r for r in resources if r.type == MANAGED_POLICY):
        names = {v for k in ("arn", "id") if isinstance(v := policy.props.get(k), str)}
        if any((policy.urn and policy.urn in r.dependencies.get("permissionsBoundary", ()))
               or r.props["permissionsBoundary"] in names for r in roles):
            out.append(policy)
    return out


def _sensitive(action: str) -> bool:
    """Whether an action (or a wildcard pattern) covers a role, key-policy or bucket-policy write."""
    return any(d.covers(action, write) for write in ROLE_WRITES + KEY_WRITES + BUCKET_WRITES)


def _account_wide(resource: str, stmt: Mapping) -> bool:
    """A resource pattern that names no resource of its own: `*`, `role/*`, `key/*` without a
    condition on the key's own tags, a bucket ARN of `*`."""
    if resource == "*":
        return True
    name = resource.split(":", 5)[-1]
    if ":s3:::" in resource:  # the bucket names the resource; `/...` are its objects
        return name.split("/", 1)[0].startswith("*")
    last = name.split("/", 1)[-1] if "/" in name else name
    if name.startswith("key/") and last.startswith("*"):
        conditions = stmt.get("Condition") or {}
        return not any(k.lower().startswith("aws:resourcetag/") for block in conditions.values()
                       if isinstance(block, Mapping) for k in block)
    return last.startswith("*") or last == ""


def check_boundary_scoping(resources: list[Resource], ctx: StackContext | None) -> list[Violation]:
    """A permissions boundary caps resources too: role, key and bucket-policy writes only on
    resources of the stack (a name prefix, or keys with the stack's resource tags)."""
    out = []
    for policy in boundaries(resources):
        for where, _kind, doc in d.documents(policy):
            for i, stmt in enumerate(d.statements(doc)):
                if not d.allows(stmt):
                    continue
                writes = sorted(a for a in d.actions(stmt) if _sensitive(a) and not is_unscoped(a))
                wide = [str(r) for r in d.as_list(stmt.get("Resource")) if _account_wide(str(r), stmt)]
                if writes and wide:
                    out.append((f"{where} {d.label(stmt, i)} lets every role carrying it do {writes} on {wide}: a role "
                                "CI creates could rewrite roles, keys or buckets outside the stack. Fix: scope the "
                                "boundary to the stack's roles (name prefix), its keys (aws:ResourceTag) and its "
                                "bucket.", policy.urn or None))
    return out


def _anchor_roles(resources: list[Resource], ctx: StackContext) -> dict[str, Resource]:
    """The roles GitHub assumes (web identity trust), by ARN."""
    out = {}
    for role in (r for r in resources if r.type == ROLE):
        for _where, _kind, doc in d.documents(role):
            if any(isinstance(s.get("Principal"), Mapping) and s["Principal"].get("Federated")
                   for s in d.statements(doc) if d.allows(s)):
                name = role.props.get("name") or role.name
                out[f"arn:{partition(ctx.region)}:iam::{ctx.account}:role/{name}"] = role
    return out


def _denied(doc: Mapping, action: str, resource: str) -> bool:
    """Whether an unconditional Deny of `doc` covers `action` on `resource` (by Action, or by
    NotAction: every action but those listed)."""
    return any(stmt.get("Effect") == "Deny" and not stmt.get("Condition") and _names(stmt, action)
               and any(fnmatch.fnmatchcase(resource, str(r)) for r in d.as_list(stmt.get("Resource")))
               for stmt in d.statements(doc))


def _names(stmt: Mapping, action: str) -> bool:
    if "NotAction" in stmt:
        return not any(d.covers(str(a), action) for a in d.as_list(stmt["NotAction"]))
    return any(d.covers(a, action) for a in d.actions(stmt))


def check_trust_anchors(resources: list[Resource], ctx: StackContext) -> list[Violation]:
    """No policy of the stack lets a role change the roles GitHub assumes or the central group's
    policy: who may deploy, preview or approve changes only in an administrator's run.

    A role policy must not allow it; a boundary must not allow it unless it also denies it.
    """
    anchors = _anchor_roles(resources, ctx)
    groups = [f"arn:{partition(ctx.region)}:sagemaker:{ctx.region}:{ctx.account}:model-package-group/"
              f"{g.props.get('modelPackageGroupName')}" for g in resources if g.type == GROUP_POLICY]
    targets = [(arn, ROLE_WRITES) for arn in anchors] + [(arn, GROUP_POLICY_WRITES) for arn in groups]
    out = []
    for policy in (r for r in resources if r.type in (ROLE_POLICY, MANAGED_POLICY)):
        for where, _kind, doc in d.documents(policy):
            for i, stmt in enumerate(d.statements(doc)):
                if not d.allows(stmt):
                    continue
                for target, writes in targets:
                    hits = sorted({w for w in writes for a in d.actions(stmt) if d.covers(a, w)
                                   and any(fnmatch.fnmatchcase(target, str(r)) for r in d.as_list(stmt.get("Resource")))
                                   and not (policy.type == MANAGED_POLICY and _denied(doc, w, target))})
                    if hits:
                        out.append((f"{where} {d.label(stmt, i)} allows {hits} on the trust anchor {target}: CI could "
                                    "re-trust or widen a role that deploys or approves models. Fix: scope role writes "
                                    "to the roles CI creates (exact ARNs) and deny trust-anchor changes in the "
                                    "boundary.", policy.urn or None))
    return out
