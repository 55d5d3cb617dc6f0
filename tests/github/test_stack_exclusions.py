"""The workflows' `--exclude` lists, checked against the stacks' real resource graphs (engine
URNs and dependencies rebuilt from mocked runs, see pulumi_urns.py).

destroy-dev must keep in state exactly what CI needs and everything that depends on: the
GitHub environment and its settings, the roles GitHub assumes, the OIDC provider, every kept
resource that could not be created a second time, and what those hang from; nothing kept may
depend on anything destroyed. The drift check must leave out exactly the GitHub resources.
"""
from __future__ import annotations

import base64
import copy

import pytest

from mlops_platform.adoption import IMPORT_IDS
from mlops_platform.github_settings import APP_SECRETS
from tests.github.pulumi_urns import closure, matching, resource_graph
from tests.github.workflow_files import GITHUB_APP_TOKEN, PULUMI, STACKS, steps_using, workflow
from tests.support.stacks import stack_config

SEALED = base64.b64encode(bytes(range(64)) * 2).decode()


def exclude_patterns(name: str, job_id: str) -> list[str]:
    (step,) = steps_using(workflow(name)["jobs"][job_id], PULUMI)
    return [line.strip() for line in step["with"]["exclude"].splitlines() if line.strip()]


def ci_needs(graph) -> set[str]:
    """What must survive destroy-dev: every GitHub resource (the environment, its branch policy,
    variables and secrets); the OIDC provider and the roles GitHub assumes, with their policies
    (the GitHubOidc component's resources); and every kept resource whose create fails when it
    exists (the boundaries): out of state but still in AWS, it would break the next deploy with
    EntityAlreadyExists."""
    oidc = {urn for urn, n in graph.items() if n.type == "mlops:github:GitHubOidc"}
    return {urn for urn, n in graph.items()
            if n.type.startswith("github:") or n.parent in oidc or (n.retain_on_delete and n.type in IMPORT_IDS)}


@pytest.fixture(scope="module")
def dev_graph(registry):
    # With the App secrets configured, as after the bootstrap.
    config, secret_keys = stack_config("dev")
    config = {**copy.deepcopy(config), "mlops-platform:actionsSecrets": {
        "dev": {"keyId": "1", "secrets": {name: SEALED for name in APP_SECRETS}}}}
    return resource_graph("dev", config=config, secret_keys=[*secret_keys, "mlops-platform:actionsSecrets"],
                          registry_outputs=registry.outputs)


@pytest.fixture(scope="module")
def kept(dev_graph):
    return matching(exclude_patterns("destroy-dev.yml", "destroy"), set(dev_graph))


def test_destroy_dev_keeps_exactly_what_ci_needs_and_what_that_depends_on(dev_graph, kept):
    needed = closure(dev_graph, ci_needs(dev_graph))
    assert kept == needed, {"kept but not needed": sorted(kept - needed), "needed but destroyed": sorted(needed - kept)}


def test_no_kept_resource_depends_on_a_destroyed_one(dev_graph, kept):
    dangling = {urn: sorted(dev_graph[urn].dependencies - kept) for urn in kept if dev_graph[urn].dependencies - kept}
    assert dangling == {}


def test_what_ci_needs_survives_by_name(dev_graph, kept):
    survivors = {(dev_graph[u].type, dev_graph[u].name) for u in kept}
    assert {
        ("github:index/repositoryEnvironment:RepositoryEnvironment", "dev"),
        ("github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy", "dev-main"),
        ("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable", "dev-AWS_DEPLOY_ROLE_ARN"),
        ("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret", "dev-MLOPS_APP_PRIVATE_KEY"),
        ("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github"),
        ("aws:iam/role:Role", "github-deploy"), ("aws:iam/rolePolicy:RolePolicy", "github-deploy"),
        ("aws:iam/role:Role", "github-preview"), ("aws:iam/rolePolicy:RolePolicy", "github-preview"),
        ("aws:iam/policy:Policy", "permissions-boundary"),
    } <= survivors


def test_the_workload_itself_is_destroyed(dev_graph, kept):
    destroyed = {(n.type, n.name) for u, n in dev_graph.items() if u not in kept}
    assert ("aws:s3/bucket:Bucket", "data") in destroyed
    assert ("aws:kms/key:Key", "data-key") in destroyed
    assert any(t == "aws:lambda/function:Function" for t, _ in destroyed)
    assert len(destroyed) > len(kept)


def test_destroy_deletes_no_github_resource_so_it_needs_no_github_token(dev_graph, kept):
    assert {u for u, n in dev_graph.items() if n.type.startswith(("github:", "pulumi:providers:github"))} <= kept
    assert not steps_using(workflow("destroy-dev.yml")["jobs"]["destroy"], GITHUB_APP_TOKEN)


def test_every_destroy_pattern_selects_something(dev_graph):
    for pattern in exclude_patterns("destroy-dev.yml", "destroy"):
        assert matching([pattern], set(dev_graph)), f"{pattern} matches nothing: a renamed resource?"


@pytest.mark.parametrize("stack", STACKS)
def test_the_drift_check_leaves_out_exactly_the_github_resources(stack, registry):
    graph = resource_graph(stack, registry_outputs=None if stack == "registry" else registry.outputs)
    left_out = matching(exclude_patterns("infra-drift.yml", "drift"), set(graph))
    assert left_out == {u for u, n in graph.items() if n.type.startswith("github:index/")}
    assert left_out, "every stack has GitHub resources"
