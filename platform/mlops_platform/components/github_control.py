"""GitHub side of the control plane: the explicit GitHub provider, this stack's deployment
environment with its variables and sealed secrets, and (registry stack only) the
`model-approval` environment, the repository variables and the ruleset that protects `main`.

Ownership is split so that two stacks never fight over one value: each stack writes only its
own environment; repository-level things belong to the registry stack alone. Every
environment deploys from `main` only, and `main` changes only through reviewed pull requests
whose previews passed (the ruleset), so an environment's promise does not rest on a setting
made by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_github as github

from mlops_platform import naming
from mlops_platform.components.github_oidc import MODEL_APPROVAL, MODEL_REVIEWER, GitHubOidc
from mlops_platform.github_settings import SealedSecret
from mlops_platform.settings import ROLES, Settings

# The one branch every environment deploys from, and the one the ruleset protects.
MAIN_BRANCH = "main"
# The checks a pull request into main must pass: the job names preview.yml reports
# (tests/github checks they match the workflow).
REQUIRED_CHECKS = ("Tests", *(f"Preview {role}" for role in ROLES))
# Checks count only when GitHub Actions reports them (the app id of GitHub Actions), so no
# other app or commit status can stand in for a preview.
GITHUB_ACTIONS_APP_ID = 15368
REQUIRED_APPROVALS = 1


def github_provider(settings: Settings, opts: pulumi.ResourceOptions | None = None) -> github.Provider:
    """The GitHub provider for `settings.github.owner`.

    It holds no token: it reads GITHUB_TOKEN when it runs, a GitHub App installation token
    minted for one deploy job (deploy.yml) or an administrator's token at bootstrap.
    Stack config never holds one: every preview can decrypt stack config.
    """
    return github.Provider("github", owner=settings.github.owner, opts=opts)


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
    secrets: tuple[SealedSecret, ...] = ()  # sealed for this environment's public key


class GitHubEnvironment(pulumi.ComponentResource):
    """A deployment environment: who may approve, that only `main` deploys, its variables and
    secrets.

    Admins cannot bypass its rules; with reviewers, the person who started a job cannot
    approve it (prevent_self_review). Only `main` may deploy (a custom branch policy, not "any
    protected branch", which a new protected branch would widen).
    """

    def __init__(self, name: str, args: GitHubEnvironmentArgs, provider: github.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:github:GitHubEnvironment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        reviewers: list[Any] | None = None
        if args.reviewers:
            ids = reviewer_ids(args.reviewers, pulumi.InvokeOutputOptions(parent=self, provider=provider))
            reviewers = [{"users": ids}]
        self.environment = github.RepositoryEnvironment(
            name, repository=args.repository, environment=args.environment,
            reviewers=reviewers, prevent_self_review=bool(args.reviewers), can_admins_bypass=False,
            deployment_branch_policy={"protected_branches": False, "custom_branch_policies": True},
            opts=child)
        env_name = self.environment.environment
        github.RepositoryEnvironmentDeploymentPolicy(
            f"{name}-{MAIN_BRANCH}", repository=args.repository, environment=env_name,
            branch_pattern=MAIN_BRANCH, opts=child)
        for variable, value in sorted(args.variables.items()):
            github.ActionsEnvironmentVariable(
                f"{name}-{variable}", repository=args.repository, environment=env_name,
                variable_name=variable, value=value, opts=child)
        for secret in sorted(args.secrets, key=lambda s: s.name):
            self._secret(name, args.repository, env_name, secret, child)
        self.name = env_name
        self.register_outputs({"name": env_name})

    @staticmethod
    def _secret(name: str, repository: str, environment: pulumi.Input[str], secret: SealedSecret,
                child: pulumi.ResourceOptions) -> None:
        # Sealed by GitHub for this environment: the plaintext never reaches Pulumi. Still a
        # Pulumi secret, so neither the sealed text nor anything derived from it is printed.
        github.ActionsEnvironmentSecret(
            f"{name}-{secret.name}", repository=repository, environment=environment,
            secret_name=secret.name, key_id=secret.key_id,
            value_encrypted=pulumi.Output.secret(secret.sealed_value),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                additional_secret_outputs=["valueEncrypted", "encryptedValue", "value", "plaintextValue"])))


class MainBranchRuleset(pulumi.ComponentResource):
    """`main` changes only through a reviewed pull request whose tests and previews passed:
    no direct push, no force-push, no deletion, and no one bypasses it.

    Every environment deploys from `main`, so this ruleset is what makes "only reviewed code
    deploys" true; managing it here means it cannot drift from that promise unnoticed.
    """

    def __init__(self, name: str, repository: str, provider: github.Provider,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:github:MainBranchRuleset", name, None, opts)
        self.ruleset = github.RepositoryRuleset(
            name, repository=repository, name="main: reviewed and previewed", target="branch",
            enforcement="active", bypass_actors=[],
            conditions={"ref_name": {"includes": [f"refs/heads/{MAIN_BRANCH}"], "excludes": []}},
            rules={
                "deletion": True,
                "non_fast_forward": True,
                "pull_request": {
                    "required_approving_review_count": REQUIRED_APPROVALS,
                    "dismiss_stale_reviews_on_push": True,
                    "require_last_push_approval": True,
                    "require_code_owner_review": False,
                    "required_review_thread_resolution": False,
                },
                "required_status_checks": {
                    "strict_required_status_checks_policy": True,
                    "required_checks": [{"context": check, "integration_id": GITHUB_ACTIONS_APP_ID}
                                        for check in REQUIRED_CHECKS],
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=provider))
        self.register_outputs({})


def repository_variables(settings: Settings) -> dict[str, str]:
    """What every workflow reads, whatever its environment: region, Pulumi organization and
    preview team, the preview role of each stack and the registry's model reviewer role
    (deterministic ARNs: each stack creates its own roles)."""
    out = {"AWS_REGION": settings.region, "PULUMI_ORGANIZATION": settings.pulumi_organization or "",
           "PULUMI_PREVIEW_TEAM": settings.github.preview_team}
    for role in ROLES:
        out[f"AWS_PREVIEW_ROLE_ARN_{role.upper()}"] = naming.role_arn(
            settings.region, settings.accounts.of(role), role, naming.GITHUB_PREVIEW)
    # The read-only role the approve-model workflow shows a version's details with.
    out["AWS_MODEL_REVIEWER_ROLE_ARN"] = naming.role_arn(
        settings.region, settings.accounts.registry, "registry", MODEL_REVIEWER)
    # Which groups approve-model.yml approves versions of, read by both of its jobs (its review job
    # has no environment, so this is a repository variable): every model as `<model>=<group>`,
    # space-separated (neither name can hold a space or `=`), so a run's summary names the model.
    out["MODEL_PACKAGE_GROUPS"] = " ".join(f"{m.name}={m.group_name}" for m in settings.models)
    return out


def approval_variables(settings: Settings) -> dict[str, str]:
    """The model-approval environment's own variables beyond role and region: the first model's
    group, as before models were configurable (approve-model.yml reads MODEL_PACKAGE_GROUPS)."""
    return {"MODEL_PACKAGE_GROUP_NAME": settings.first_model.group_name}


def _secrets_of(settings: Settings, environment: str) -> tuple[SealedSecret, ...]:
    return tuple(s for s in settings.github.actions_secrets if s.environment == environment)


class GitHubControlPlane(pulumi.ComponentResource):
    """This stack's GitHub environment (and, for the registry, `model-approval`, the
    repository variables and main's ruleset), wired to the roles of `oidc`."""

    def __init__(self, name: str, settings: Settings, oidc: GitHubOidc,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:github:GitHubControlPlane", name, None, opts)
        s = settings
        self.provider = github_provider(s, pulumi.ResourceOptions(parent=self))
        repo = s.github.repository
        child = pulumi.ResourceOptions(parent=self)
        self.environments = {s.stack: GitHubEnvironment(s.stack, GitHubEnvironmentArgs(
            repository=repo, environment=s.stack, reviewers=s.github.reviewers,
            secrets=_secrets_of(s, s.stack),
            variables={"AWS_DEPLOY_ROLE_ARN": oidc.deploy_role.arn, "AWS_REGION": s.region,
                       "PULUMI_STACK": s.stack}), self.provider, opts=child)}
        if s.is_registry:
            assert oidc.approver_role is not None, "the registry stack always has an approver role"
            self.environments[MODEL_APPROVAL] = GitHubEnvironment(MODEL_APPROVAL, GitHubEnvironmentArgs(
                repository=repo, environment=MODEL_APPROVAL, reviewers=s.github.model_approvers,
                secrets=_secrets_of(s, MODEL_APPROVAL),
                variables={"AWS_MODEL_APPROVER_ROLE_ARN": oidc.approver_role.arn, "AWS_REGION": s.region,
                           **approval_variables(s)}), self.provider, opts=child)
            for variable, value in sorted(repository_variables(s).items()):
                github.ActionsVariable(f"repo-{variable}", repository=repo, variable_name=variable, value=value,
                                       opts=pulumi.ResourceOptions(parent=self, provider=self.provider))
            self.ruleset = MainBranchRuleset("main-branch", repo, self.provider, opts=child)
        self.register_outputs({})


def build(settings: Settings, oidc: GitHubOidc, opts: pulumi.ResourceOptions) -> tuple[GitHubOidc, GitHubControlPlane]:
    """The one call the program makes after the account component (the OIDC roles come before
    the account: its keys' policies name the deploy role)."""
    return oidc, GitHubControlPlane("github", settings, oidc, opts=opts)
