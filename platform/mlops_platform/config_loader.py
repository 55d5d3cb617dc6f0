"""Reads the stack's config into `Settings`, collecting every problem before failing.

Kept apart from Pulumi's `Config` class behind a tiny protocol, so validation is plain
Python: the program passes real `pulumi.Config` readers, tests may pass dicts.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Protocol

from mlops_platform import validators as v
from mlops_platform.settings import (
    ROLES,
    WORKLOAD_ROLES,
    Accounts,
    ConfigError,
    GitHubSettings,
    Settings,
    VpcSettings,
    WorkloadSettings,
)

PROJECT = "mlops-platform"
DEFAULT_GROUP = "mammo-severity-model-package"


class ConfigReader(Protocol):
    def get(self, key: str) -> str | None: ...


class _Collector:
    """Reads raw values, records a problem per bad key and returns None for it."""

    def __init__(self, project: ConfigReader, aws: ConfigReader, is_secret: Callable[[str], bool]):
        self.project, self.aws, self.is_secret = project, aws, is_secret
        self.problems: list[str] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def raw(self, key: str, reader: ConfigReader | None = None) -> str | None:
        value = (reader or self.project).get(key.split(":", 1)[1] if ":" in key else key)
        return None if value is None or value == "" else value

    def text(self, key: str, *, required: bool, fix: str, default: str | None = None) -> str | None:
        value = self.raw(f"{PROJECT}:{key}")
        if value is None:
            if required:
                self.fail(f"{PROJECT}:{key}", f"is required. {fix}")
            return default
        return value

    def structured(self, key: str, kind: type, *, required: bool, fix: str) -> Any:
        value = self.raw(f"{PROJECT}:{key}")
        if value is None:
            if required:
                self.fail(f"{PROJECT}:{key}", f"is required. {fix}")
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, kind):
            self.fail(f"{PROJECT}:{key}", f"must be a {'map' if kind is dict else 'list'}. {fix}")
            return None
        return parsed

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(f"{PROJECT}:{key}")
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(f"{PROJECT}:{key}", f"must be true or false, got {value!r}.")
        return default


def load_settings(project: ConfigReader, aws: ConfigReader, *, stack: str,
                  is_secret: Callable[[str], bool] = lambda _: False,
                  github: ConfigReader | None = None) -> Settings:
    """Parse and validate one stack's config; raise `ConfigError` listing every problem."""
    c = _Collector(project, aws, is_secret)

    role = c.text("role", required=True, fix="Set it to one of registry, dev, prod in Pulumi.<stack>.yaml.")
    if role is not None and role not in ROLES:
        c.fail(f"{PROJECT}:role", f"must be one of {', '.join(ROLES)}, got {role!r}.")
        role = None

    accounts = _accounts(c)
    region = _region(c)
    _allowed_accounts(c, accounts, role)
    gh = _github(c, role, github)
    tags = _tags(c)

    email = c.text("notificationEmail", required=True,
                   fix="Set the address that receives pipeline and model alerts.")
    if email is not None and not v.EMAIL.fullmatch(email):
        c.fail(f"{PROJECT}:notificationEmail", f"{email!r} is not an e-mail address.")

    group = c.text("modelPackageGroupName", required=False, fix="", default=DEFAULT_GROUP)
    if group is not None and not v.SAGEMAKER_NAME.fullmatch(group):
        c.fail(f"{PROJECT}:modelPackageGroupName",
               f"{group!r} must be 1-63 letters, digits and hyphens, starting with a letter or digit.")

    retain = c.flag("retainData", default=(role == "prod"))
    workload = _workload(c) if role in WORKLOAD_ROLES else None
    organization = _organization(c, role, workload)

    if c.problems:
        raise ConfigError(c.problems)
    return Settings(project=PROJECT, stack=stack, role=role, region=region, accounts=accounts,
                    github=gh, tags=tags, notification_email=email, retain_data=retain,
                    model_package_group_name=group, workload=workload,
                    pulumi_organization=organization)


def _accounts(c: _Collector) -> Accounts | None:
    fix = ("Set mlops-platform:accounts in Pulumi.yaml to a map of registry, dev and prod "
           "12-digit AWS account ids (quoted strings).")
    raw = c.structured("accounts", dict, required=True, fix=fix)
    if raw is None:
        return None
    ok = True
    for role in ROLES:
        value = raw.get(role)
        if not isinstance(value, str) or not v.ACCOUNT_ID.fullmatch(value):
            c.fail(f"{PROJECT}:accounts.{role}",
                   f"must be a 12-digit AWS account id as a quoted string, got {value!r}.")
            ok = False
    if ok and len({raw[r] for r in ROLES}) != 3:
        c.fail(f"{PROJECT}:accounts", "registry, dev and prod must be three different accounts: "
               "the platform isolates them by account.")
        ok = False
    return Accounts(**{r: raw[r] for r in ROLES}) if ok else None


def _region(c: _Collector) -> str | None:
    region = c.raw("aws:region", c.aws)
    shared = c.text("region", required=True, fix="Set the platform's region in Pulumi.yaml.")
    if region is None:
        c.fail("aws:region", "is required in every Pulumi.<stack>.yaml (e.g. aws:region: eu-west-1).")
    elif not v.REGION.fullmatch(region):
        c.fail("aws:region", f"{region!r} is not an AWS region name such as eu-west-1.")
        region = None
    if region and shared and region != shared:
        c.fail("aws:region", f"is {region!r} but mlops-platform:region is {shared!r}: all three stacks "
               "must use the platform's region, because pipelines register into the central "
               "model package group, which lives in one region.")
    return region


def _allowed_accounts(c: _Collector, accounts: Accounts | None, role: str | None) -> None:
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
    if accounts and role and ids != [accounts.of(role)]:
        c.fail(key, f"is {ids} but the {role} account in mlops-platform:accounts is "
               f"{accounts.of(role)}: set it to [\"{accounts.of(role)}\"].")


def _github(c: _Collector, role: str | None, github: ConfigReader | None) -> GitHubSettings | None:
    fix = "Set mlops-platform:github in Pulumi.yaml to {owner: <org or user>, repository: <name>}."
    raw = c.structured("github", dict, required=True, fix=fix)
    if github is not None and github.get("token") is not None and not c.is_secret("github:token"):
        c.fail("github:token", "is stored in plain text: run `pulumi config set --secret github:token "
               "<token>` so it is encrypted in the stack file.")
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
    reviewers = _logins(c, "reviewers", required=(role == "prod"),
                        why="prod deployments wait for these reviewers")
    approvers = _logins(c, "modelApprovers", required=(role == "registry"),
                        why="model approvals wait for these reviewers")
    return GitHubSettings(owner, repo, reviewers, approvers) if ok else None


def _logins(c: _Collector, key: str, *, required: bool, why: str) -> tuple[str, ...]:
    fix = f"Set it to a list of GitHub logins ({why})."
    raw = c.structured(key, list, required=required, fix=fix)
    if raw is None:
        return ()
    if required and not raw:
        c.fail(f"{PROJECT}:{key}", f"must name at least one reviewer: {why}.")
    if len(raw) > 6:
        c.fail(f"{PROJECT}:{key}", f"names {len(raw)} reviewers; a GitHub environment takes at most 6.")
    bad = [x for x in raw if not isinstance(x, str) or not v.GITHUB_OWNER.fullmatch(x)]
    if bad:
        c.fail(f"{PROJECT}:{key}", f"{bad} are not GitHub logins.")
    return tuple(sorted(raw)) if not bad else ()


def _organization(c: _Collector, role: str | None, workload: WorkloadSettings | None) -> str | None:
    # The registry stack publishes it to GitHub (PULUMI_ORGANIZATION); workloads must agree with it.
    key = f"{PROJECT}:pulumiOrganization"
    org = c.text("pulumiOrganization", required=(role == "registry"),
                 fix="Set it in Pulumi.yaml to the Pulumi Cloud organization that holds the stacks.")
    if org is not None and not v.PULUMI_ORG.fullmatch(org):
        c.fail(key, f"{org!r} is not a Pulumi organization name (letters, digits, '-', '_', '.').")
        return None
    if org and workload and workload.registry_stack.split("/")[0] != org:
        c.fail(f"{PROJECT}:registryStack", f"{workload.registry_stack!r} is not in the organization "
               f"{org!r} of {key}: use {org}/{PROJECT}/registry.")
    return org


def _tags(c: _Collector) -> dict[str, str] | None:
    fix = "Set mlops-platform:tags in Pulumi.yaml to {owner: <team>, costCenter: <code>}."
    raw = c.structured("tags", dict, required=True, fix=fix)
    if raw is None:
        return None
    for key in ("owner", "costCenter"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            c.fail(f"{PROJECT}:tags.{key}", f"is required for cost allocation. {fix}")
    bad = [k for k, val in raw.items() if not isinstance(val, str) or not v.TAG.fullmatch(f"{k}{val}")]
    if bad:
        c.fail(f"{PROJECT}:tags", f"values of {sorted(bad)} must be strings of letters, digits, "
               "spaces and _.:/=+-@ (AWS tag rules).")
    return {k: raw[k] for k in sorted(raw)}


def _workload(c: _Collector) -> WorkloadSettings | None:
    before = len(c.problems)
    ref = c.text("registryStack", required=True,
                 fix="Name the registry stack, e.g. <org>/mlops-platform/registry.")
    if ref is not None and not v.STACK_REF.fullmatch(ref):
        c.fail(f"{PROJECT}:registryStack", f"{ref!r} must look like <org>/<project>/<stack>.")
    schedule = c.text("inferenceSchedule", required=True,
                      fix="Set an EventBridge schedule such as cron(0 6 * * ? *) or rate(1 day).")
    if schedule is not None and (err := v.schedule_problem(schedule)):
        c.fail(f"{PROJECT}:inferenceSchedule", err)
    threshold = _number(c, "aucThreshold", float, lambda x: 0 < x < 1, "a number between 0 and 1 "
                        "(exclusive), e.g. 0.85", default=None)
    cooldown = _number(c, "retrainCooldownMinutes", int, lambda x: 1 <= x <= 10080,
                       "a whole number of minutes from 1 to 10080 (a week)", default=360)
    first = c.flag("firstTrainingRun", default=c.raw(f"{PROJECT}:role") == "dev")
    vpc = _vpc(c)
    if len(c.problems) > before:
        return None
    return WorkloadSettings(ref, schedule, threshold, first, cooldown, vpc)


def _number(c: _Collector, key: str, kind: type, ok: Callable[[Any], bool], what: str, default):
    raw = c.raw(f"{PROJECT}:{key}")
    if raw is None:
        if default is None:
            c.fail(f"{PROJECT}:{key}", f"is required: set it to {what}.")
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not ok(value):
        c.fail(f"{PROJECT}:{key}", f"must be {what}, got {raw!r}.")
        return default
    return value


def _vpc(c: _Collector) -> VpcSettings | None:
    raw = c.structured("vpc", dict, required=False,
                       fix="Set {subnetIds: [...], securityGroupIds: [...], networkIsolation: true}.")
    if raw is None:
        return None
    subnets, groups = raw.get("subnetIds") or [], raw.get("securityGroupIds") or []
    key = f"{PROJECT}:vpc"
    if not subnets or not all(isinstance(s, str) and re.fullmatch(r"subnet-[0-9a-f]{8,17}", s) for s in subnets):
        c.fail(f"{key}.subnetIds", "must list subnet ids such as subnet-0abc12345def67890.")
    if not groups or not all(isinstance(g, str) and re.fullmatch(r"sg-[0-9a-f]{8,17}", g) for g in groups):
        c.fail(f"{key}.securityGroupIds", "must list security group ids such as sg-0abc12345def67890 "
               "(VPC-only jobs need both subnets and security groups).")
    isolation = raw.get("networkIsolation", True)
    if not isinstance(isolation, bool):
        c.fail(f"{key}.networkIsolation", "must be true or false.")
    return VpcSettings(tuple(sorted(subnets)), tuple(sorted(groups)), bool(isolation))
