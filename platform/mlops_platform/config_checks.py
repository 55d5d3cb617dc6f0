"""The checks of what every stack has: accounts, region, GitHub, tags, alerts, organization.

Each function reads its keys through the loader's collector, records every problem with the
key and the fix, and returns the parsed value or None when it was bad. None never reaches a
settings object: the loader builds one only when no problem was recorded.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlops_facts import regions
from mlops_facts.stack_config import PROJECT, ROLES, Role
from mlops_platform import validators as v
from mlops_platform.settings import PLATFORM_TAG_KEYS, Accounts, GitHubSettings

if TYPE_CHECKING:
    from mlops_platform.config_loader import ConfigReader, _Collector


def accounts(c: _Collector) -> tuple[Accounts | None, dict[str, str]]:
    """The three accounts, and every well-formed id on its own (so that a bad dev id does not
    hide a wrong allowedAccountIds in the prod stack)."""
    fix = ("Set mlops-platform:accounts in Pulumi.yaml to a map of registry, dev and prod "
           "12-digit AWS account ids (quoted strings).")
    raw = c.structured("accounts", dict, required=True, fix=fix)
    if raw is None:
        return None, {}
    valid: dict[str, str] = {}
    for role in ROLES:
        value = raw.get(role)
        if isinstance(value, str) and v.ACCOUNT_ID.fullmatch(value):
            valid[role] = value
        else:
            c.fail(f"{PROJECT}:accounts.{role}",
                   f"must be a 12-digit AWS account id as a quoted string, got {value!r}.")
    if len(valid) == len(ROLES) and len(set(valid.values())) != len(ROLES):
        c.fail(f"{PROJECT}:accounts", "registry, dev and prod must be three different accounts: "
               "the platform isolates them by account.")
        return None, valid
    if len(valid) != len(ROLES):
        return None, valid
    return Accounts(registry=valid["registry"], dev=valid["dev"], prod=valid["prod"]), valid


def region(c: _Collector) -> str | None:
    name = c.raw("aws:region", c.aws)
    shared = c.text("region", required=True, fix="Set the platform's region in Pulumi.yaml.")
    if shared is not None and (problem := regions.region_problem(shared)):
        c.fail(f"{PROJECT}:region", problem)
    if name is None:
        c.fail("aws:region", "is required in every Pulumi.<stack>.yaml (e.g. aws:region: eu-west-1).")
        return None
    if problem := regions.region_problem(name):
        c.fail("aws:region", problem)
        return None
    if shared and name != shared:
        c.fail("aws:region", f"is {name!r} but mlops-platform:region is {shared!r}: all three stacks "
               "must use the platform's region, because pipelines register into the central "
               "model package group, which lives in one region.")
    return name


def allowed_accounts(c: _Collector, valid_accounts: dict[str, str], role: Role | None) -> None:
    raw = c.raw("aws:allowedAccountIds", c.aws)
    key = "aws:allowedAccountIds"
    if raw is None:
        c.fail(key, "is required so that this stack can never be applied to the wrong account: "
               'set it to ["<this stack\'s account id>"].')
        return
    try:
        ids = json.loads(raw)
    except json.JSONDecodeError:
        ids = None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        c.fail(key, 'must be a list of quoted account ids, e.g. ["123456789012"].')
        return
    expected = valid_accounts.get(role) if role else None
    if expected and ids != [expected]:
        c.fail(key, f"is {ids} but the {role} account in mlops-platform:accounts is "
               f"{expected}: set it to [\"{expected}\"].")


def github(c: _Collector, role: Role | None, reader: ConfigReader | None) -> GitHubSettings | None:
    fix = "Set mlops-platform:github in Pulumi.yaml to {owner: <org or user>, repository: <name>}."
    raw = c.structured("github", dict, required=True, fix=fix)
    if reader is not None and reader.get("token") is not None:
        # Every preview decrypts stack config: CI mints a short-lived GitHub App token per job instead.
        c.fail("github:token", "is no longer read: a GitHub token in stack config is readable by every preview. "
               "Remove it (`pulumi config rm github:token`); CI mints a GitHub App token per job and an "
               "administrator's run uses GITHUB_TOKEN (README, Bootstrap).")
    # A bad role must not hide these: unknown role -> check what is there, require nothing.
    reviewers = _logins(c, "reviewers", required=(role in ("prod", "registry")),
                        why="deployments of this stack wait for these reviewers")
    approvers = _logins(c, "modelApprovers", required=(role == "registry"),
                        why="model approvals wait for these reviewers")
    if raw is None:
        return None
    owner, repo = raw.get("owner"), raw.get("repository")
    ok = True
    if not isinstance(owner, str) or not v.GITHUB_OWNER.fullmatch(owner):
        c.fail(f"{PROJECT}:github.owner", f"{owner!r} is not a GitHub user or organisation name.")
        ok = False
    if not isinstance(repo, str) or not v.GITHUB_REPO.fullmatch(repo):
        c.fail(f"{PROJECT}:github.repository", f"{repo!r} is not a GitHub repository name.")
        ok = False
    if not ok or reviewers is None or approvers is None:
        return None
    return GitHubSettings(str(owner), str(repo), reviewers, approvers)


def _logins(c: _Collector, key: str, *, required: bool, why: str) -> tuple[str, ...] | None:
    fix = f"Set it to a list of GitHub logins ({why})."
    raw = c.structured(key, list, required=required, fix=fix)
    if raw is None:
        return None if required else ()
    full = f"{PROJECT}:{key}"
    ok = True
    if required and not raw:
        c.fail(full, f"must name at least one reviewer: {why}.")
        ok = False
    if len(raw) > 6:
        c.fail(full, f"names {len(raw)} reviewers; a GitHub environment takes at most 6.")
        ok = False
    bad = [x for x in raw if not isinstance(x, str) or not v.GITHUB_OWNER.fullmatch(x)]
    if bad:
        c.fail(full, f"{bad} are not GitHub logins.")
        return None
    seen: dict[str, str] = {}
    for login in raw:
        if login.lower() in seen:
            c.fail(full, f"names {seen[login.lower()]!r} and {login!r}: GitHub logins are case-insensitive, "
                   "so that is one reviewer twice; keep one.")
            ok = False
        seen.setdefault(login.lower(), login)
    return tuple(sorted(raw)) if ok else None


def organization(c: _Collector, role: Role | None, registry_stack: str | None) -> str | None:
    # The registry stack publishes it to GitHub (PULUMI_ORGANIZATION); workloads must agree with it.
    key = f"{PROJECT}:pulumiOrganization"
    org = c.text("pulumiOrganization", required=(role == "registry"),
                 fix="Set it in Pulumi.yaml to the Pulumi Cloud organization that holds the stacks.")
    if org is not None and not v.PULUMI_ORG.fullmatch(org):
        c.fail(key, f"{org!r} is not a Pulumi organization name (letters, digits, '-', '_', '.').")
        return None
    if org and registry_stack and v.STACK_REF.fullmatch(registry_stack) and registry_stack.split("/")[0] != org:
        c.fail(f"{PROJECT}:registryStack", f"{registry_stack!r} is not in the organization "
               f"{org!r} of {key}: use {org}/{PROJECT}/registry.")
    return org


def notification_email(c: _Collector) -> str | None:
    email = c.text("notificationEmail", required=True,
                   fix="Set the address that receives pipeline and model alerts.")
    if email is not None and not v.EMAIL.fullmatch(email):
        c.fail(f"{PROJECT}:notificationEmail", f"{email!r} is not an e-mail address.")
        return None
    return email


def tags(c: _Collector) -> dict[str, str] | None:
    """User tags as AWS and the pipeline settings accept them; numbers are read as their text."""
    fix = "Set mlops-platform:tags in Pulumi.yaml to {owner: <team>, costCenter: <code>}."
    raw = c.structured("tags", dict, required=True, fix=fix)
    if raw is None:
        return None
    before = len(c.problems)
    out = {str(k): text for k, value in raw.items() if (text := _tag_text(c, str(k), value)) is not None}
    for key in ("owner", "costCenter"):
        if key not in raw or (key in out and not out[key].strip()):
            c.fail(f"{PROJECT}:tags.{key}", f"is required for cost allocation. {fix}")
    for key in sorted(out):
        _tag_rules(c, key, out[key])
    total = len(out) + len(PLATFORM_TAG_KEYS)
    if total > v.MAX_TAGS:
        c.fail(f"{PROJECT}:tags", f"has {len(out)} tags; with the platform's {len(PLATFORM_TAG_KEYS)} that is "
               f"{total}, more than the {v.MAX_TAGS} the pipelines accept: remove {total - v.MAX_TAGS}.")
    return {k: out[k] for k in sorted(out)} if len(c.problems) == before else None


def _tag_text(c: _Collector, key: str, value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # `costCenter: 4711` in YAML: a tag value is text, the number's digits are it
    c.fail(f"{PROJECT}:tags.{key}", f"is {value!r} ({type(value).__name__}); tag values are text: "
           f"write it in quotes, e.g. {key}: \"{value}\".")
    return None


def _tag_rules(c: _Collector, key: str, value: str) -> None:
    full = f"{PROJECT}:tags.{key}"
    if key in PLATFORM_TAG_KEYS:
        c.fail(full, f"is set by the platform on every resource ({', '.join(PLATFORM_TAG_KEYS)}) and would "
               "overwrite yours: remove it or use another key.")
    elif key.lower().startswith("aws:"):
        c.fail(full, "starts with `aws:`, a prefix AWS reserves for its own tags: rename the key.")
    elif not v.TAG_KEY.fullmatch(key):
        c.fail(full, "is not a tag key AWS accepts: 1-128 letters, digits, spaces and _.:/=+-@.")
    if not v.TAG_VALUE.fullmatch(value):
        c.fail(full, f"value {value[:40]!r}{'...' if len(value) > 40 else ''} ({len(value)} characters) is "
               "not one AWS accepts: at most 256 letters, digits, spaces and _.:/=+-@.")
