"""What one stack manages, named the way every IAM document of the platform scopes it.

ARNs take their partition from the region (`mlops_facts.arn`), so a GovCloud or China stack
writes `arn:aws-us-gov:`/`arn:aws-cn:` documents.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlops_facts import arn
from mlops_facts.names import artifacts_bucket, data_bucket
from mlops_platform import naming
from mlops_platform.settings import Settings, VpcSettings, WorkloadSettings

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The boundary of the GitHub roles (trust anchors) and the one of the roles CI may create.
CI_BOUNDARY_PURPOSE = "permissions-boundary"
WORKLOAD_BOUNDARY_PURPOSE = "workload-boundary"
# The roles a workload stack creates in CI, by purpose. CI may create, change and delete
# exactly these, each only with the workload boundary; every other role is a trust anchor.
SERVICE_ROLES = (naming.SAGEMAKER_EXECUTION, naming.MODEL_LOOKUP_LAMBDA, naming.RETRAIN_GATE_LAMBDA,
                 naming.EVENTS_INVOKE)
# The GitHub roles share this name part, so one pattern covers every trust-anchor role.
GITHUB_ROLES = "github-"


@dataclass(frozen=True)
class Scope:
    """One stack's names, accounts and switches, as the IAM documents need them."""

    role: str
    stack: str
    project: str
    account: str
    region: str
    registry_account: str
    workload_accounts: tuple[tuple[str, str], ...]  # (stack role, account) of dev and prod
    retain_data: bool
    seed_data: bool = False  # some model of the stack seeds its data sets on the first deploy
    vpc: VpcSettings | None = None

    @classmethod
    def of(cls, s: Settings) -> Scope:
        workload = s.workload if isinstance(s, WorkloadSettings) else None
        return cls(role=s.role, stack=s.stack, project=s.project, account=s.account_id, region=s.region,
                   registry_account=s.accounts.registry,
                   workload_accounts=tuple(sorted(s.accounts.workloads.items())),
                   retain_data=s.retain_data,
                   seed_data=bool(workload) and any(m.first_training_run for m in s.models),
                   vpc=workload.vpc if workload else None)

    # ------------------------------------------------------------ names

    @property
    def pre(self) -> str:
        return naming.prefix(self.role)

    @property
    def is_registry(self) -> bool:
        return self.role == "registry"

    @property
    def partition(self) -> str:
        return arn("iam", self.region, self.account, "root").split(":")[1]

    def arn(self, service: str, resource: str, account: str | None = None) -> str:
        """`resource` of `service` in this stack's region, in this account or `account`."""
        return arn(service, self.region, account or self.account, resource)

    def iam(self, resource: str, account: str | None = None) -> str:
        return arn("iam", self.region, account or self.account, resource)

    def s3(self, resource: str) -> str:
        return arn("s3", self.region, "", resource)

    # ------------------------------------------------------------ IAM

    @property
    def oidc_provider_arn(self) -> str:
        return self.iam(f"oidc-provider/{GITHUB_OIDC_HOST}")

    @property
    def ci_boundary_arn(self) -> str:
        return self.iam(f"policy/{naming.role_name(self.role, CI_BOUNDARY_PURPOSE)}")

    @property
    def workload_boundary_arn(self) -> str:
        return self.iam(f"policy/{naming.role_name(self.role, WORKLOAD_BOUNDARY_PURPOSE)}")

    def role_arn(self, purpose: str, stack_role: str | None = None, account: str | None = None) -> str:
        return self.iam(f"role/{naming.role_name(stack_role or self.role, purpose)}", account)

    @property
    def roles(self) -> str:
        """Every role of the stack (reading them only: writes name exact roles)."""
        return self.iam(f"role/{self.pre}-*")

    @property
    def service_roles(self) -> list[str]:
        return [] if self.is_registry else [self.role_arn(p) for p in SERVICE_ROLES]

    @property
    def github_roles(self) -> str:
        return self.iam(f"role/{self.pre}-{GITHUB_ROLES}*")

    @property
    def serving_roles(self) -> str:
        """Every served model's role in this stack (`role/mlops-dev-serving-*`), by one pattern."""
        return self.iam(f"role/{naming.serving_roles_pattern(self.role)}")

    def serving_roles_of(self, stack_role: str, account: str) -> str:
        """Every served model's role of a workload stack, for the registry's resource policies."""
        return self.iam(f"role/{naming.serving_roles_pattern(stack_role)}", account)

    def serving_role(self, stack_role: str, account: str, model: str) -> str:
        """One model's serving role in a workload stack (for that model's group policy)."""
        return naming.ModelNames(stack_role, model, False).serving_role_arn(self.region, account)

    # ------------------------------------------------------------ storage and keys

    @property
    def bucket_name(self) -> str:
        """The stack's one bucket: the registry's artifacts bucket or a workload's data bucket."""
        return artifacts_bucket(self.account, self.region) if self.is_registry \
            else data_bucket(self.role, self.account, self.region)

    @property
    def bucket(self) -> str:
        return self.s3(self.bucket_name)

    @property
    def registry_bucket(self) -> str:
        return self.s3(artifacts_bucket(self.registry_account, self.region))

    @property
    def keys(self) -> str:
        return self.arn("kms", "key/*")

    @property
    def registry_keys(self) -> str:
        return self.arn("kms", "key/*", self.registry_account)

    @property
    def stack_tags(self) -> dict[str, str]:
        """Tags the provider's default tags put on every key of this stack: they tell our keys from
        others. Conditions on them read the *resource's* tags, which only this stack sets."""
        return {"aws:ResourceTag/project": self.project, "aws:ResourceTag/stack": self.stack}

    # ------------------------------------------------------------ the model registry

    # One pattern for every model's group, never one ARN per model, so that no document grows
    # with the number of models. The registry account holds the platform's groups; what another
    # account may do to a group is decided by that group's own resource policy, which only the
    # platform's groups have (a workload's grant on the pattern reaches no other group).

    @property
    def groups_arn(self) -> str:
        """Every model package group of the registry account (`model-package-group/*`)."""
        return self.arn("sagemaker", "model-package-group/*", self.registry_account)

    @property
    def packages_arn(self) -> str:
        """Every version of every group of the registry account (`model-package/<group>/<version>`)."""
        return self.arn("sagemaker", "model-package/*", self.registry_account)

    def group_arn(self, group_name: str) -> str:
        """One model's group (for the resource policy that group carries)."""
        return self.arn("sagemaker", f"model-package-group/{group_name}", self.registry_account)

    def group_packages_arn(self, group_name: str) -> str:
        """Every version of one model's group."""
        return self.arn("sagemaker", f"model-package/{group_name}/*", self.registry_account)

    def models_prefix(self, stack_role: str | None = None) -> str:
        """Where a workload stack's training writes in the registry bucket (`models/<stack>`)."""
        return naming.models_prefix(stack_role or self.role)

    @property
    def model_sources(self) -> tuple[str, ...]:
        return served_by(self.role, [stack for stack, _ in self.workload_accounts])


def served_by(stack: str, workload_stacks: list[str]) -> tuple[str, ...]:
    """Workload stacks whose trained models `stack` serves: dev serves its own, prod serves
    dev's and its own (a version trained in dev is approved for prod)."""
    return tuple(sorted(workload_stacks)) if stack == "prod" else (stack,)
