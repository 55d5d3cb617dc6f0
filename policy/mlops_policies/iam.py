"""Rules for IAM: managed policies, wildcards, `Resource: "*"`, OIDC trusts, users."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from mlops_facts.unscoped import UNSCOPED_ACTIONS
from mlops_policies import documents as d
from mlops_policies.model import Resource, StackContext
from mlops_policies.privilege import boundaries

ATTACHMENTS = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment",
               "aws:iam/userPolicyAttachment:UserPolicyAttachment",
               "aws:iam/groupPolicyAttachment:GroupPolicyAttachment")
ROLE = "aws:iam/role:Role"
MANAGED_POLICY = "aws:iam/policy:Policy"
USER_TYPES = ("aws:iam/user:User", "aws:iam/accessKey:AccessKey", "aws:iam/userLoginProfile:UserLoginProfile")

# Broad AWS-managed policies: a role holding one can do far more than its job.
_BROAD = re.compile(r"(FullAccess|^AdministratorAccess|^PowerUserAccess)")

# Actions that may be allowed on `Resource: "*"`, each with the reason "*" is unavoidable (shared facts).
RESOURCE_STAR_ALLOWED: dict[str, str] = {action.lower(): why for action, why in UNSCOPED_ACTIONS.items()}


def check_managed_policies(res: Resource, ctx: StackContext | None) -> list[str]:
    """No *FullAccess, AdministratorAccess or PowerUserAccess policy is attached."""
    arns = [res.props.get("policyArn")] if res.type in ATTACHMENTS else list(d.as_list(res.get("managedPolicyArns")))
    bad = [a for a in arns if isinstance(a, str) and _BROAD.search(a.rsplit("/", 1)[-1])]
    return [f"{res.name} attaches the broad managed policy {a}. Fix: replace it with an inline policy that "
            "lists only the actions this role needs on this stack's resources." for a in bad]


def check_wildcard_actions(res: Resource, ctx: StackContext | None) -> list[str]:
    """No Allow statement uses a wildcard action or NotAction (Deny statements may).

    Managed policies are checked by the stack rule (`check_managed_policy_wildcards`): one that is
    a role's permissions boundary may cap configuration reads by verb prefix."""
    if res.type == MANAGED_POLICY:
        return []
    return wildcard_violations(res, lambda action: False)


# Read verbs a boundary may cap by prefix, and reads of data no prefix may cover even there.
READ_VERBS = ("Get", "List", "Describe")
DATA_READS = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "logs:GetLogEvents", "s3:GetObject",
              "s3:GetObjectVersion", "secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters",
              "ssm:GetParametersByPath")


def configuration_read_prefix(action: str) -> bool:
    """`<service>:<Get|List|Describe>...*`: one trailing `*` after a read verb, reaching no data
    read (`s3:GetBucket*` is the bucket's configuration; `s3:Get*` would reach its objects)."""
    service, _, name = action.partition(":")
    return (bool(service) and "*" not in service and name.startswith(READ_VERBS) and name.count("*") == 1
            and name.endswith("*") and "?" not in name and not any(d.covers(action, r) for r in DATA_READS))


def wildcard_violations(res: Resource, allowed: Callable[[str], bool]) -> list[str]:
    """Wildcard actions (but those `allowed`) and NotAction in Allow statements of `res`."""
    out = []
    for where, _kind, doc in d.documents(res):
        for i, stmt in enumerate(d.statements(doc)):
            if not d.allows(stmt):
                continue
            if "NotAction" in stmt:
                out.append(f"{where} {d.label(stmt, i)} allows NotAction (everything but a list). "
                           "Fix: list the allowed actions explicitly.")
            wild = [a for a in d.actions(stmt) if d.has_wildcard(a) and not allowed(a)]
            if wild:
                out.append(f"{where} {d.label(stmt, i)} allows wildcard actions {wild}. "
                           "Fix: name each action the principal needs.")
    return out


def check_managed_policy_wildcards(resources: list[Resource], ctx: StackContext | None) -> list[tuple[str, str | None]]:
    """Managed policies name their actions; a permissions boundary may also cap configuration
    reads by verb prefix (`configuration_read_prefix`): it grants nothing (the roles' own policies
    name each action), and a boundary holding every action of a stack's CI roles would not fit in
    IAM's 6,144 characters otherwise. Never `*`, `<service>:*`, a write verb or a data read."""
    bounding = {id(p) for p in boundaries(resources)}
    out = []
    for policy in (r for r in resources if r.type == MANAGED_POLICY):
        allowed = configuration_read_prefix if id(policy) in bounding else (lambda action: False)
        out += [(m, policy.urn or None) for m in wildcard_violations(policy, allowed)]
    return out


def check_resource_star(res: Resource, ctx: StackContext | None) -> list[str]:
    """Allow statements name resources; `"*"` only for actions in RESOURCE_STAR_ALLOWED.

    In a KMS key policy `"*"` means the key itself (a key policy cannot name its own ARN).
    Managed policies are checked by the stack rule: one that is a role's permissions
    boundary caps actions and grants nothing, so `"*"` is its normal form.
    """
    if res.type == MANAGED_POLICY:
        return []
    return resource_star_violations(res)


def resource_star_violations(res: Resource) -> list[str]:
    out = []
    for where, kind, doc in d.documents(res):
        if kind in (d.KEY, d.TRUST):
            continue
        for i, stmt in enumerate(d.statements(doc)):
            if not d.allows(stmt):
                continue
            if "NotResource" in stmt:
                out.append(f"{where} {d.label(stmt, i)} allows NotResource. Fix: list the resources explicitly.")
            if "*" not in [str(r) for r in d.as_list(stmt.get("Resource"))]:
                continue
            extra = sorted(a for a in d.actions(stmt) if a.lower() not in RESOURCE_STAR_ALLOWED)
            if extra:
                out.append(f"{where} {d.label(stmt, i)} allows {extra} on Resource \"*\". Fix: scope them to "
                           "this stack's ARNs; only actions without resource-level permissions (listed with "
                           "reasons in RESOURCE_STAR_ALLOWED, policy/mlops_policies/iam.py) may use \"*\".")
    return out


def check_managed_policy_resource_star(resources: list[Resource], ctx: StackContext | None) -> list[tuple[str, str | None]]:
    """`check_resource_star` for managed policies that are not a role's permissions boundary."""
    roles = [r for r in resources if r.type == ROLE and r.props.get("permissionsBoundary")]
    out = []
    for policy in (r for r in resources if r.type == MANAGED_POLICY):
        names = {v for k in ("arn", "id") if isinstance(v := policy.props.get(k), str)}
        if any(policy.urn in r.dependencies.get("permissionsBoundary", ()) or r.props["permissionsBoundary"] in names
               for r in roles):
            continue
        out += [(m, policy.urn or None) for m in resource_star_violations(policy)]
    return out


def check_oidc_trust(res: Resource, ctx: StackContext | None) -> list[str]:
    """Roles assumed with web identity pin the audience and an exact subject."""
    out = []
    for where, _kind, doc in d.documents(res):
        for i, stmt in enumerate(d.statements(doc)):
            federated = stmt.get("Principal", {}).get("Federated") if isinstance(stmt.get("Principal"), Mapping) else None
            web = any(d.covers(a, "sts:AssumeRoleWithWebIdentity") for a in d.actions(stmt))
            if not d.allows(stmt) or not (web or federated):
                continue
            providers = [str(p).split("oidc-provider/", 1)[-1] for p in d.as_list(federated) if "oidc-provider/" in str(p)]
            if not providers:
                out.append(f"{where} {d.label(stmt, i)} trusts web identities without an OIDC provider principal. "
                           "Fix: set Principal.Federated to the account's OIDC provider ARN.")
                continue
            for host in providers:
                out += _pinned(where, d.label(stmt, i), stmt, host, ctx)
    return out


def _pinned(where: str, label: str, stmt: Mapping, host: str, ctx: StackContext | None) -> list[str]:
    out = []
    aud = d.condition_values(stmt, "StringEquals", f"{host}:aud")
    if not aud or any(d.has_wildcard(a) for a in aud):
        out.append(f"{where} {label} does not pin {host}:aud with StringEquals. "
                   f"Fix: add Condition StringEquals {{'{host}:aud': 'sts.amazonaws.com'}}.")
    sub = d.condition_values(stmt, "StringEquals", f"{host}:sub")
    loose = [op for op in (stmt.get("Condition") or {}) if op.lower() != "stringequals"
             and any(k.lower() == f"{host}:sub" for k in (stmt["Condition"][op] or {}))]
    if not sub or any(d.has_wildcard(s) for s in sub) or loose:
        out.append(f"{where} {label} does not pin an exact {host}:sub (StringEquals, no wildcards; "
                   f"found {sub or loose}). Fix: StringEquals {{'{host}:sub': "
                   "'repo:<owner>/<repo>:environment:<stack>'}.")
    elif ctx and ctx.github_repository and host == "token.actions.githubusercontent.com":
        foreign = [s for s in sub if not s.startswith(f"repo:{ctx.github_repository}:")]
        if foreign:
            out.append(f"{where} {label} trusts subjects {foreign} outside repo:{ctx.github_repository}. "
                       "Fix: trust only this repository's environments.")
    return out


def check_no_users(res: Resource, ctx: StackContext | None) -> list[str]:
    """No IAM users or long-lived access keys: people and CI use roles (CI through OIDC)."""
    return [f"{res.type.rsplit(':', 1)[-1]} {res.name} creates a long-lived IAM identity or credential. "
            "Fix: use a role (GitHub Actions assumes it through OIDC)."]
