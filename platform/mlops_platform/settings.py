"""Typed platform settings, parsed and validated once from the stack's config.

Every problem is collected and reported together, each naming the config key and the fix,
before the program registers a single resource.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["registry", "dev", "prod"]
ROLES: tuple[Role, ...] = ("registry", "dev", "prod")
WORKLOAD_ROLES: tuple[Role, ...] = ("dev", "prod")


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
        return getattr(self, role)

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
class WorkloadSettings:
    """What only the dev and prod stacks need."""

    registry_stack: str
    inference_schedule: str
    auc_threshold: float
    first_training_run: bool
    retrain_cooldown_minutes: int
    vpc: VpcSettings | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the program needs for one stack, already validated."""

    project: str
    stack: str
    role: Role
    region: str
    accounts: Accounts
    github: GitHubSettings
    tags: dict[str, str]
    notification_email: str
    retain_data: bool
    model_package_group_name: str
    workload: WorkloadSettings | None = None
    pulumi_organization: str | None = None  # where the stacks live; the workflows log in to it

    @property
    def account_id(self) -> str:
        return self.accounts.of(self.role)

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
