"""GitHub side of the control plane: the explicit GitHub provider, this stack's deployment
environment with its variables, and (registry stack only) the `model-approval` environment
and the repository variables.

Ownership is split so that two stacks never fight over one value: each stack writes only its
own environment; repository-level variables belong to the registry stack alone. The
workflows need no secrets: every value here is an identifier, and AWS access is by OIDC.
"""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_github as github

from mlops_platform import naming
from mlops_platform.components.github_oidc import MODEL_APPROVAL, GitHubOidc
from mlops_platform.settings import ROLES, Settings

# Environments that are not prod deploy from this branch only.
MAIN_BRANCH = "main"


def github_provider(settings: Settings, opts: pulumi.ResourceOptions | None = None) -> github.Provider:
    """The GitHub provider for `settings.github.owner`.

    The token is the stack's secret config `github:token`; without it the provider reads
    the GITHUB_TOKEN environment variable when it runs (an administrator's local bootstrap).
    """
    token = pulumi.Config("github").get_secret("token")
    return github.Provider("github", owner=settings.github.owner, token=token, opts=opts)


def reviewer_ids(logins: tuple[str, ...], opts: pulumi.InvokeOutputOptions) -> pulumi.Output[list[int]]:
    """GitHub user ids of `logins`, in the given order: environments take ids, not logins."""
    ids = [github.get_user_output(username=login, opts=opts).id.apply(int) for login in logins]
    return pulumi.Output.all(*ids).apply(list)


@dataclass(frozen=True)
class GitHubEnvironmentArgs:
    repository: str
    environment: str
    variables: dict[str, pulumi.Input[str]]
    reviewers: tuple[str, ...] = ()  # GitHub logins; any one of them approves a job
    # True: only branches with protection rules deploy (prod); False: only `main`.
    protected_branches_only: bool = False


class GitHubEnvironment(pulumi.ComponentResource):
    """A deployment environment: who may approve, which branches may deploy, its variables.

    Admins cannot bypass its rules; with reviewers, the person who started a job cannot
    approve it (prevent_self_review).
    """

    def __init__(self, name: str, args: GitHubEnvironmentArgs, provider: github.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:github:GitHubEnvironment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        reviewers = None
        if args.reviewers:
            ids = reviewer_ids(args.reviewers, pulumi.InvokeOutputOptions(parent=self, provider=provider))
            reviewers = [{"users": ids}]
        self.environment = github.RepositoryEnvironment(
            name, repository=args.repository, environment=args.environment,
            reviewers=reviewers, prevent_self_review=bool(args.reviewers), can_admins_bypass=False,
            deployment_branch_policy={"protected_branches": args.protected_branches_only,
                                      "custom_branch_policies": not args.protected_branches_only},
            opts=child)
        env_name = self.environment.environment
        if not args.protected_branches_only:
            github.RepositoryEnvironmentDeploymentPolicy(
                f"{name}-{MAIN_BRANCH}", repository=args.repository, environment=env_name,
                branch_pattern=MAIN_BRANCH, opts=child)
        for variable, value in sorted(args.variables.items()):
            github.ActionsEnvironmentVariable(
                f"{name}-{variable}", repository=args.repository, environment=env_name,
                variable_name=variable, value=value, opts=child)
        self.name = env_name
        self.register_outputs({"name": env_name})


def repository_variables(settings: Settings) -> dict[str, str]:
    """What every workflow reads, whatever its environment: region, Pulumi organization and
    the preview role of each stack (deterministic ARNs: each stack creates its own role)."""
    out = {"AWS_REGION": settings.region, "PULUMI_ORGANIZATION": settings.pulumi_organization}
    for role in ROLES:
        out[f"AWS_PREVIEW_ROLE_ARN_{role.upper()}"] = naming.role_arn(
            settings.accounts.of(role), role, naming.GITHUB_PREVIEW)
    return out


class GitHubControlPlane(pulumi.ComponentResource):
    """This stack's GitHub environment (and, for the registry, `model-approval` and the
    repository variables), wired to the roles of `oidc`."""

    def __init__(self, name: str, settings: Settings, oidc: GitHubOidc,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:github:GitHubControlPlane", name, None, opts)
        s = settings
        self.provider = github_provider(s, pulumi.ResourceOptions(parent=self))
        repo = s.github.repository
        child = pulumi.ResourceOptions(parent=self)
        self.environments = {s.stack: GitHubEnvironment(s.stack, GitHubEnvironmentArgs(
            repository=repo, environment=s.stack, reviewers=s.github.reviewers, protected_branches_only=s.is_prod,
            variables={"AWS_DEPLOY_ROLE_ARN": oidc.deploy_role.arn, "AWS_REGION": s.region,
                       "PULUMI_STACK": s.stack}), self.provider, opts=child)}
        if s.is_registry:
            self.environments[MODEL_APPROVAL] = GitHubEnvironment(MODEL_APPROVAL, GitHubEnvironmentArgs(
                repository=repo, environment=MODEL_APPROVAL, reviewers=s.github.model_approvers,
                variables={"AWS_MODEL_APPROVER_ROLE_ARN": oidc.approver_role.arn, "AWS_REGION": s.region,
                           "MODEL_PACKAGE_GROUP_NAME": s.model_package_group_name}), self.provider, opts=child)
            for variable, value in sorted(repository_variables(s).items()):
                github.ActionsVariable(f"repo-{variable}", repository=repo, variable_name=variable, value=value,
                                       opts=pulumi.ResourceOptions(parent=self, provider=self.provider))
        self.register_outputs({})


def build(settings: Settings, boundary, opts: pulumi.ResourceOptions) -> tuple[GitHubOidc, GitHubControlPlane]:
    """The one call the program makes after the account component."""
    oidc = GitHubOidc("github-oidc", settings, boundary, opts=opts)
    return oidc, GitHubControlPlane("github", settings, oidc, opts=opts)
