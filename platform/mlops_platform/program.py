"""The Pulumi program: read validated settings, build the stack's role."""
from __future__ import annotations

import pulumi
import pulumi_aws as aws

from mlops_platform.config_loader import PROJECT, load_settings
from mlops_platform.settings import Settings


def read_settings() -> Settings:
    """Validate the whole config first: a bad value fails before any resource exists."""
    from pulumi.runtime.config import is_config_secret

    return load_settings(pulumi.Config(PROJECT), pulumi.Config("aws"), stack=pulumi.get_stack(),
                         is_secret=is_config_secret, github=pulumi.Config("github"))


def aws_provider(settings: Settings) -> aws.Provider:
    """One explicit provider: pinned region and account, and the platform's default tags."""
    return aws.Provider("aws", region=settings.region, allowed_account_ids=[settings.account_id],
                        default_tags={"tags": settings.default_tags})


def main() -> None:
    """Validate the config, then build the stack's account and GitHub as its control plane."""
    settings = read_settings()
    # Imported only once the config is valid: a bad value is reported without the wait.
    from mlops_platform import exports
    from mlops_platform.components import github_control
    from mlops_platform.components.github_oidc import PermissionsBoundary
    from mlops_platform.components.model_lifecycle import ModelLifecycle
    from mlops_platform.components.registry_account import RegistryAccount
    from mlops_platform.components.workload_account import WorkloadAccount

    opts = pulumi.ResourceOptions(providers={"aws": aws_provider(settings)})
    # The permissions boundary comes first: a transformation puts it on every role below.
    boundary = PermissionsBoundary("permissions-boundary", settings, opts=opts)
    opts = boundary.bound(opts)
    if settings.is_registry:
        exports.registry(settings, RegistryAccount("registry", settings, opts=opts))
    else:
        account = WorkloadAccount(settings.role, settings, opts=opts)
        lifecycle = ModelLifecycle("model-lifecycle", settings, account, opts=opts)
        exports.workload(settings, account, lifecycle)
    exports.github(settings, *github_control.build(settings, boundary, opts))
