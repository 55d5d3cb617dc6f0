"""What every rule reads: one resource as the policy engine shows it, and the stack's context.

Standard library only: the rules run in the pack's own virtualenv (pulumi-policy pins
protobuf 5.x) and in the project's test suite (protobuf 6.x), so they import neither. How a
config value reads (JSON-encoded maps, booleans, the retention default) and how ARNs are
built come from the shared facts (`mlops_facts`), so the pack and the program agree on them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_facts import arn
from mlops_facts import stack_config as sc
from mlops_facts.stack_config import PROJECT, ROLES


@dataclass(frozen=True)
class Resource:
    """One resource: its type, name and inputs (camelCase, as the engine serializes them).

    `dependencies` maps an input name to the URNs of the resources that input was computed
    from (the engine's property dependencies), so companions of a bucket whose id is still
    unknown during a first preview can be matched to it. `retain_on_delete` is None when the
    caller cannot see it: the policy engine does not pass that option to policy packs.
    """

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    protect: bool = False
    retain_on_delete: bool | None = None
    dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def get(self, *path: str, default: Any = None) -> Any:
        """The input at `path` (keys into nested objects), or `default` if any step is missing."""
        node: Any = self.props
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                return default
            node = node[key]
        return node


class ContextError(ValueError):
    """The stack config the pack needs is missing or malformed; the message names key and fix."""


@dataclass(frozen=True)
class Vpc:
    subnets: frozenset[str]
    security_groups: frozenset[str]
    network_isolation: bool


@dataclass(frozen=True)
class StackContext:
    """The few settings of the stack under check that rules compare resources against."""

    stack: str
    role: str
    region: str
    accounts: Mapping[str, str]
    group_names: tuple[str, ...]  # every model's group, the first model's first
    retain_data: bool
    registry_stack: str | None = None
    github_repository: str | None = None  # owner/name
    vpc: Vpc | None = None

    @property
    def account(self) -> str:
        return self.accounts[self.role]

    @property
    def group_name(self) -> str:
        """The first model's group (the one group before models were configurable)."""
        return self.group_names[0]

    def group_arn(self, group_name: str | None = None) -> str:
        """A model's package group (default: the first model's), in the registry account."""
        return arn("sagemaker", self.region, self.accounts["registry"],
                   f"model-package-group/{group_name or self.group_name}")

    @property
    def group_arns(self) -> tuple[str, ...]:
        return tuple(self.group_arn(g) for g in self.group_names)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], stack: str = "") -> StackContext:
        """Build from stack config as the engine passes it (PULUMI_CONFIG: every value a
        string, objects JSON-encoded) or already structured; raise ContextError naming the key."""
        c = _Reader(config)
        role = c.text("role")
        if role not in ROLES:
            raise ContextError(f"{PROJECT}:role is {role!r}; set it to one of {list(ROLES)} in Pulumi.<stack>.yaml")
        accounts = c.structured("accounts", dict)
        missing = [r for r in ROLES if not str(accounts.get(r, "")).isdigit() or len(str(accounts[r])) != 12]
        if missing:
            raise ContextError(f"{PROJECT}:accounts needs 12-digit ids for {missing}; set them in Pulumi.yaml")
        region = c.text("region", optional=True) or c.raw("aws:region")
        if not region:
            raise ContextError(f"{PROJECT}:region (or aws:region) is missing; set it in Pulumi.yaml")
        github = c.structured("github", dict, optional=True) or {}
        repo = f"{github['owner']}/{github['repository']}" if github.get("owner") and github.get("repository") else None
        vpc_raw = c.structured("vpc", dict, optional=True)
        vpc = None
        if vpc_raw:
            vpc = Vpc(frozenset(vpc_raw.get("subnetIds") or ()), frozenset(vpc_raw.get("securityGroupIds") or ()),
                      c.boolean(vpc_raw.get("networkIsolation", True), "vpc.networkIsolation"))
        retain = c.text("retainData", optional=True)
        return cls(
            stack=stack, role=role, region=region,
            accounts={r: str(accounts[r]) for r in ROLES},
            group_names=_group_names(c),
            # Where models live (registry, prod) data is kept unless the stack says otherwise.
            retain_data=c.boolean(retain, "retainData") if retain is not None else sc.retain_data_default(role),
            registry_stack=c.text("registryStack", optional=True),
            github_repository=repo, vpc=vpc)


def _group_names(c: _Reader) -> tuple[str, ...]:
    """Every model's group as the program derives it (ml/model_config.py): the entry's
    `modelPackageGroupName`, else the legacy per-stack key for the first model, else
    `<model>-model-package`. The first model's group first."""
    models = c.structured("models", dict, optional=True) or {}
    legacy = c.text("modelPackageGroupName", optional=True)
    if not models:
        if legacy is None:
            raise ContextError(f"{PROJECT}:models is missing from the stack config the pack received; it is "
                               "declared in Pulumi.yaml, which `pulumi preview --policy-pack policy` passes")
        return (str(legacy),)
    first = c.text("firstModel", optional=True) or (next(iter(models)) if len(models) == 1 else None)
    out = []
    for name in sorted(models, key=lambda m: (m != first, m)):
        entry = models[name] if isinstance(models[name], Mapping) else {}
        group = entry.get("modelPackageGroupName") or (legacy if name == first else None) or f"{name}-model-package"
        out.append(str(group))
    return tuple(out)


class _Reader:
    def __init__(self, config: Mapping[str, Any]):
        self.config = config

    def raw(self, key: str) -> Any:
        return self.config.get(key)

    def text(self, key: str, optional: bool = False) -> Any:
        value = self.config.get(sc.key(key))
        if value is None and not optional:
            raise ContextError(f"{PROJECT}:{key} is missing from the stack config the pack received; "
                               "run the pack through `pulumi preview --policy-pack policy` in the project, "
                               "which passes the stack's config")
        return value if value is None or isinstance(value, str | bool) else str(value)

    def structured(self, key: str, kind: type, optional: bool = False) -> Any:
        value = self.config.get(sc.key(key))
        if value is None:
            return self.text(key, optional)
        try:
            return sc.decode(value, kind)
        except sc.ConfigValueError as err:
            raise ContextError(f"{PROJECT}:{key} {err}; fix it in the stack config") from err

    @staticmethod
    def boolean(value: Any, key: str) -> bool:
        try:
            return sc.boolean(value)
        except sc.ConfigValueError as err:
            raise ContextError(f"{PROJECT}:{key} {err}") from err
