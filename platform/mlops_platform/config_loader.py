"""Reads the stack's config into the role's settings type, collecting every problem before failing.

Kept apart from Pulumi's `Config` class behind a tiny protocol, so validation is plain
Python: the program passes real `pulumi.Config` readers, tests may pass dicts. Every check
runs whatever else is wrong (a bad role does not hide the workload checks, a bad account id
does not hide a wrong allowedAccountIds), and a settings object is built only when nothing is.
The keys the project knows are the keys this loader reads: a key in the `mlops-platform:`
namespace that it never reads is refused with the closest known name.
"""
from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from mlops_facts import stack_config as sc
from mlops_facts.stack_config import PROJECT, ROLES, Role
from mlops_platform import adoption as adopt
from mlops_platform import config_checks as check
from mlops_platform import config_models, config_serving, config_workload, github_settings
from mlops_platform.settings import ConfigError, RegistrySettings, WorkloadSettings

__all__ = ["PROJECT", "ConfigReader", "known_keys", "load_settings"]

T = TypeVar("T")


class ConfigReader(Protocol):
    def get(self, key: str) -> str | None: ...


class _Collector:
    """Reads raw values, records a problem per bad key (and every key it reads)."""

    def __init__(self, project: ConfigReader, aws: ConfigReader, is_secret: Callable[[str], bool]):
        self.project, self.aws, self.is_secret = project, aws, is_secret
        self.problems: list[str] = []
        self.read: set[str] = set()

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def raw(self, key: str, reader: ConfigReader | None = None) -> str | None:
        self.read.add(key)
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
            return sc.decode(value, kind)
        except sc.ConfigValueError:
            self.fail(f"{PROJECT}:{key}", f"must be a {'map' if kind is dict else 'list'}. {fix}")
            return None

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(f"{PROJECT}:{key}")
        if value is None:
            return default
        try:
            return sc.boolean(value)
        except sc.ConfigValueError as err:
            self.fail(f"{PROJECT}:{key}", f"{err}.")
            return default

    def number(self, key: str, kind: Callable[[str], Any], ok: Callable[[Any], bool], what: str, *,
               required: bool) -> Any:
        """A number parsed by `kind` and accepted by `ok`; None (with a problem where due) otherwise."""
        raw = self.raw(f"{PROJECT}:{key}")
        if raw is None:
            if required:
                self.fail(f"{PROJECT}:{key}", f"is required: set it to {what}.")
            return None
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or not ok(value):
            self.fail(f"{PROJECT}:{key}", f"must be {what}, got {raw!r}.")
            return None
        return value


def load_settings(project: ConfigReader, aws: ConfigReader, *, stack: str,
                  is_secret: Callable[[str], bool] = lambda _: False,
                  github: ConfigReader | None = None, present_keys: Iterable[str] | None = None,
                  stack_roles: Mapping[str, str | None] | None = None,
                  project_keys: Iterable[str] | None = None) -> RegistrySettings | WorkloadSettings:
    """Parse and validate one stack's config; raise `ConfigError` listing every problem.

    `present_keys`: every config key the stack has (to refuse unknown ones); `stack_roles`: the
    role each stack file of this project sets (to check `registryStack` and the stack's name);
    `project_keys`: the keys Pulumi.yaml sets (what belongs in a stack file is refused there).
    """
    c = _Collector(project, aws, is_secret)
    role, parts = _collect(c, stack, github, stack_roles, project_keys)
    if present_keys is not None:
        _unknown_keys(c, present_keys)
    if c.problems or role is None:
        raise ConfigError(c.problems)
    if role == "registry":
        return RegistrySettings(
            project=PROJECT, stack=stack, role=role, region=_need(parts["region"]), accounts=_need(parts["accounts"]),
            github=_need(parts["github"]), tags=_need(parts["tags"]), notification_email=_need(parts["email"]),
            retain_data=parts["retain"], models=_need(parts["models"]),
            pulumi_organization=parts["organization"], adoption=parts["adoption"])
    return WorkloadSettings(
        project=PROJECT, stack=stack, role=role, region=_need(parts["region"]), accounts=_need(parts["accounts"]),
        github=_need(parts["github"]), tags=_need(parts["tags"]), notification_email=_need(parts["email"]),
        retain_data=parts["retain"], models=_need(parts["models"]),
        pulumi_organization=parts["organization"], adoption=parts["adoption"], workload=_need(parts["workload"]),
        served_versions=_need(parts["served"]), notes=tuple(parts["notes"]))


def _collect(c: _Collector, stack: str, github: ConfigReader | None, stack_roles: Mapping[str, str | None] | None,
             project_keys: Iterable[str] | None = None) -> tuple[Role | None, dict[str, Any]]:
    """Run every check; return the role (None if bad) and each part (None where bad)."""
    role = _role(c, stack)
    accounts, valid_accounts = check.accounts(c)
    region = check.region(c)
    check.allowed_accounts(c, valid_accounts, role)
    gh = check.github(c, role, github)
    secrets = github_settings.read_actions_secrets(c, PROJECT, role, stack)
    team = github_settings.read_preview_team(c, PROJECT)
    gh = replace(gh, actions_secrets=secrets, preview_team=team) if gh else None
    tags = check.tags(c)
    email = check.notification_email(c)
    models = config_models.models(c, role, project_keys)
    served, notes = config_serving.served_versions(c, role, models, region, accounts, project_keys)
    # Where models live (registry, prod), data is kept unless the stack file says otherwise.
    retain = c.flag("retainData", default=sc.retain_data_default(role))
    adoption = adopt.read(c, PROJECT, role, retain)
    workload = config_workload.workload(c, role, stack_roles) if role != "registry" else None
    organization = check.organization(c, role, c.raw(f"{PROJECT}:registryStack") if role != "registry" else None)
    return role, {"accounts": accounts, "region": region, "github": gh, "tags": tags, "email": email,
                  "models": models, "retain": retain, "adoption": adoption, "workload": workload,
                  "organization": organization, "served": served, "notes": notes}


def _role(c: _Collector, stack: str) -> Role | None:
    key = f"{PROJECT}:role"
    role = c.text("role", required=True, fix="Set it to one of registry, dev, prod in Pulumi.<stack>.yaml.")
    if role is None:
        return None
    if role not in ROLES:
        c.fail(key, f"must be one of {', '.join(ROLES)}, got {role!r}.")
        return None
    if role != stack:
        # Names, accounts, GitHub environments and OIDC subjects all follow the role: one stack per role.
        c.fail(key, f"is {role!r} in Pulumi.{stack}.yaml: the platform names everything after the role and "
               f"deploys one stack per role, so the {role} stack must be called {role!r}. Set role: "
               f"{stack if stack in ROLES else '<the stack name>'} or use the stack {role!r}.")
        # Judge the rest as the stack its file name says, so its other problems are the real ones.
        return next((r for r in ROLES if r == stack), None)
    return next(r for r in ROLES if r == role)


def _unknown_keys(c: _Collector, present: Iterable[str]) -> None:
    known = known_keys() | c.read
    names = sorted(k.split(":", 1)[1] for k in known if k.startswith(f"{PROJECT}:"))
    for key in sorted(k for k in set(present) if k.startswith(f"{PROJECT}:") and k not in known):
        near = difflib.get_close_matches(key.split(":", 1)[1], names, n=1, cutoff=0.6)
        hint = f"did you mean {PROJECT}:{near[0]}?" if near else f"the project reads {', '.join(names)}."
        c.fail(key, f"is not a setting of this project: {hint} Fix its name or remove it (a misspelled "
               "key would otherwise leave its setting at the default).")


@functools.cache
def known_keys() -> frozenset[str]:
    """Every key the loader reads for some role: run its checks on an empty config per role."""
    read: set[str] = set()
    for role in ROLES:
        c = _Collector(_OnlyRole(role), _OnlyRole(None), lambda _: False)
        _collect(c, role, None, None)
        read |= c.read
    return frozenset(read)


class _OnlyRole:
    def __init__(self, role: str | None):
        self.role = role

    def get(self, key: str) -> str | None:
        return self.role if key == "role" else None


def _need(value: T | None) -> T:
    """A part that exists once no problem was recorded; None here is a bug in a check."""
    if value is None:
        raise AssertionError("a settings part is missing although no problem was recorded")
    return value
