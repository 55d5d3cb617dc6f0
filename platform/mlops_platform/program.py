"""The Pulumi program: read validated settings, build the stack's role."""
from __future__ import annotations

import pulumi
import pulumi_aws as aws

from mlops_platform.config_loader import PROJECT, load_settings
from mlops_platform.project_stacks import project_config_keys, project_root, stack_roles
from mlops_platform.settings import RegistrySettings, Settings, WorkloadSettings


def read_settings() -> RegistrySettings | WorkloadSettings:
    """Validate the whole config first: a bad value fails before any resource exists."""
    from pulumi.runtime import config as runtime_config

    # Every key the stack has: set by the engine (PULUMI_CONFIG) or, under mocks, by set_all_config.
    present = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    root = project_root()
    return load_settings(pulumi.Config(PROJECT), pulumi.Config("aws"), stack=pulumi.get_stack(),
                         is_secret=runtime_config.is_config_secret, github=pulumi.Config("github"),
                         present_keys=present, stack_roles=stack_roles(root), project_keys=project_config_keys(root))


def aws_provider(settings: Settings) -> aws.Provider:
    """One explicit provider: pinned region and account, and the platform's default tags."""
    return aws.Provider("aws", region=settings.region, allowed_account_ids=[settings.account_id],
                        default_tags={"tags": settings.default_tags})


def main() -> None:
    """Validate the config, then build the stack's account and GitHub as its control plane."""
    settings = read_settings()
    for note in settings.notes:  # not errors: what the person running it should know (e.g. no pin yet)
        pulumi.log.warn(note)
    # Imported only once the config is valid: a bad value is reported without the wait.
    from mlops_platform import adoption, exports
    from mlops_platform.components import github_control
    from mlops_platform.components.github_oidc import GitHubOidc, PermissionsBoundary
    from mlops_platform.components.model_lifecycle import ModelLifecycle
    from mlops_platform.components.registry_account import RegistryAccount
    from mlops_platform.components.workload_account import WorkloadAccount

    # After a destroy, adopt what it kept instead of failing to create it again (adoption.py).
    adoption.register(settings.adoption, settings.region, settings.account_id)
    opts = pulumi.ResourceOptions(providers={"aws": aws_provider(settings)})
    # The permissions boundary comes first: a transformation puts it on every role below.
    boundary = PermissionsBoundary("permissions-boundary", settings, opts=opts)
    opts = boundary.bound(opts)
    # The GitHub roles next: the keys' policies name the deploy role as their administrator.
    oidc = GitHubOidc("github-oidc", settings, boundary, opts=opts)
    deployer = oidc.deploy_role.arn
    if isinstance(settings, RegistrySettings):
        exports.registry(settings, RegistryAccount("registry", settings, deployer, opts=opts))
    else:
        account = WorkloadAccount(settings.role, settings, deployer, opts=opts)
        lifecycle = ModelLifecycle("model-lifecycle", settings, account, opts=opts)
        exports.workload(settings, account, lifecycle)
    exports.github(settings, *github_control.build(settings, oidc, opts))
