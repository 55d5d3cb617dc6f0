"""Typed platform settings, parsed and validated once from the stack's config.

One type per stack role: `RegistrySettings` for the central registry, `WorkloadSettings` (with
its non-optional `workload` part) for dev and prod. Every problem is collected and reported
together, each naming the config key and the fix, before the program registers a single
resource; a settings object exists only when there is none, so no field is ever None for a
value that was bad.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ml.models import ModelSpec
from ml.serving_config import Pin
from mlops_facts.stack_config import ROLES, WORKLOAD_ROLES, Role
from mlops_platform.adoption import Adoption
from mlops_platform.github_settings import DEFAULT_PREVIEW_TEAM, SealedSecret

__all__ = ["ROLES", "WORKLOAD_ROLES", "Accounts", "ConfigError", "GitHubSettings", "RegistrySettings", "Role",
           "Settings", "VpcSettings", "Workload", "WorkloadSettings"]

# Tags the platform sets on every resource; a user tag of the same key would be overwritten.
PLATFORM_TAG_KEYS = ("managed-by", "platform-role", "project", "stack")


class ConfigError(ValueError):
    """The stack's config is invalid; the message lists every problem and its fix."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class Accounts:
    """The three AWS account ids, shared by every stack."""

    registry: str
    dev: str
    prod: str

    def of(self, role: Role) -> str:
        return {"registry": self.registry, "dev": self.dev, "prod": self.prod}[role]

    @property
    def workloads(self) -> dict[str, str]:
        return {"dev": self.dev, "prod": self.prod}


@dataclass(frozen=True)
class GitHubSettings:
    """Where the platform's code lives and who approves what."""

    owner: str
    repository: str
    reviewers: tuple[str, ...] = ()  # users who approve deployments of this stack's environment
    model_approvers: tuple[str, ...] = ()  # registry only: reviewers of the model-approval environment
    actions_secrets: tuple[SealedSecret, ...] = ()  # sealed for this stack's environments (github_settings)
    preview_team: str = DEFAULT_PREVIEW_TEAM  # the Pulumi Cloud team whose read-only token previews use

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repository}"


@dataclass(frozen=True)
class VpcSettings:
    """Run every SageMaker job inside these subnets and security groups."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    network_isolation: bool


@dataclass(frozen=True)
class Workload:
    """What only the dev and prod stacks need, for all their models alike (what differs by model,
    such as the schedule, threshold and cool-down, is on each `ModelSpec`)."""

    registry_stack: str
    vpc: VpcSettings | None = None  # None only where allowed: dev, or prod with the explicit opt-out


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What every stack has, already validated. Build one through `config_loader.load_settings`,
    which returns the role's own type."""

    project: str
    stack: str
    role: Role
    region: str
    accounts: Accounts
    github: GitHubSettings
    tags: dict[str, str]
    notification_email: str
    retain_data: bool
    # The platform's models, resolved for this stack (overrides applied), the first model first:
    # it keeps the names and URNs the platform had before models were configurable.
    models: tuple[ModelSpec, ...]
    pulumi_organization: str | None = None  # where the stacks live; the workflows log in to it
    adoption: Adoption = field(default_factory=Adoption)  # adopt what a destroy kept (adoption.py)
    # What the program tells the person running it without failing (`pulumi.log.warn`), e.g. a
    # model served by endpoint that pins no version yet; the offline plan prints them too.
    notes: tuple[str, ...] = ()

    @property
    def account_id(self) -> str:
        return self.accounts.of(self.role)

    @property
    def first_model(self) -> ModelSpec:
        return self.models[0]

    @property
    def is_registry(self) -> bool:
        return self.role == "registry"

    @property
    def is_prod(self) -> bool:
        return self.role == "prod"

    @property
    def default_tags(self) -> dict[str, str]:
        """Tags applied to every taggable resource through the provider."""
        return {
            **self.tags,
            "project": self.project,
            "stack": self.stack,
            "platform-role": self.role,
            "managed-by": "pulumi",
        }


@dataclass(frozen=True, kw_only=True)
class RegistrySettings(Settings):
    """The central registry stack: the model package group, the artifacts bucket and key."""


@dataclass(frozen=True, kw_only=True)
class WorkloadSettings(Settings):
    """A dev or prod stack: its workload part is always there."""

    workload: Workload
    # The version each endpoint serves in this stack (`mlops-platform:servedVersions`), by model:
    # only models whose serving mode includes an endpoint, and of those only the pinned ones.
    served_versions: dict[str, Pin] = field(default_factory=dict)
