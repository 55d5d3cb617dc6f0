"""Deploying again after a destroy: with `adoptRetained`, every resource the destroy kept is
adopted by the id AWS knows it by (the `import` option), instead of failing with
EntityAlreadyExists / BucketAlreadyOwnedByYou or silently replacing a kept key."""
from __future__ import annotations

import copy

import pytest

from mlops_platform.adoption import RETAINED_KEYS
from mlops_platform.settings import ConfigError
from tests.github.pulumi_urns import resource_graph
from tests.platform.shipped import models, names
from tests.support.stacks import StackRun, run_stack, stack_config

P = "mlops-platform"
ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
# Kept resources whose create fails when they exist (or, for a key, would be replaced).
ADOPTED_TYPES = {"aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws:iam/policy:Policy",
                 "aws:iam/role:Role", "aws:s3/bucket:Bucket", "aws:kms/key:Key",
                 "aws:sagemaker/modelPackageGroup:ModelPackageGroup"}


def config_with(stack: str, **values) -> tuple[dict, list[str]]:
    config, secret_keys = stack_config(stack)
    return {**copy.deepcopy(config), **{f"{P}:{k}": v for k, v in values.items()}}, secret_keys


def graph(stack: str, registry, **values):
    config, secret_keys = config_with(stack, **values)
    kwargs = {} if stack == "registry" else {"registry_outputs": registry.outputs}
    return resource_graph(stack, config=config, secret_keys=secret_keys, **kwargs)


def expected_id(node, stack: str) -> str | None:
    account = ACCOUNTS[stack]
    by_type = {
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com",
        "aws:s3/bucket:Bucket": f"mlops-{stack}-{'artifacts' if stack == 'registry' else 'data'}-{account}-eu-west-1",
        "aws:kms/key:Key": KEY_ID,
    }
    if node.type == "aws:sagemaker/modelPackageGroup:ModelPackageGroup":  # every model's, by its name
        return next(m.group_name for m in models(stack) if names(stack, m).logical("model-registry") == node.name)
    if node.type == "aws:iam/role:Role":
        return f"mlops-{stack}-{node.name}"  # github-deploy -> mlops-prod-github-deploy
    if node.type == "aws:iam/policy:Policy":
        return f"arn:aws:iam::{account}:policy/mlops-{stack}-{node.name}"  # the boundaries
    return by_type.get(node.type)


@pytest.mark.parametrize("stack", ["registry", "prod"])
def test_every_kept_resource_that_cannot_be_created_twice_is_adopted_by_its_aws_id(stack, registry):
    kept_keys = {name: KEY_ID for name in RETAINED_KEYS[stack]}
    nodes = graph(stack, registry, adoptRetained=True, retainedKeyIds=kept_keys).values()
    adopted = {n.urn: n.import_id for n in nodes if n.import_id}
    must = [n for n in nodes if n.retain_on_delete and n.type in ADOPTED_TYPES]
    assert must, "a stack that keeps nothing would prove nothing"
    assert {n.urn: expected_id(n, stack) for n in must} == adopted
    # Only kept resources are adopted: the rest is created as usual.
    assert all(n.retain_on_delete for n in nodes if n.import_id)


def test_the_trust_anchors_and_the_kept_bucket_of_prod_are_among_them(registry):
    nodes = graph("prod", registry, adoptRetained=True).values()
    adopted = {(n.type, n.name) for n in nodes if n.import_id}
    assert {("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github"),
            ("aws:iam/policy:Policy", "permissions-boundary"), ("aws:iam/role:Role", "github-deploy"),
            ("aws:s3/bucket:Bucket", "data")} <= adopted
    # Idempotent writes (inline policies, bucket settings) need no adoption; a key needs its id.
    assert not {t for t, _ in adopted} - ADOPTED_TYPES
    assert ("aws:kms/key:Key", "data-key") not in adopted


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_without_the_switch_nothing_is_imported(stack, registry):
    assert not [n.urn for n in graph(stack, registry).values() if n.import_id]


@pytest.mark.parametrize("stack", ["registry", "prod"])
def test_the_keys_adoption_knows_are_the_keys_the_stack_keeps(stack, stacks):
    kept = {r.name for r in stacks[stack].of_type("aws:kms/key:Key") if r.retain_on_delete}
    assert kept == set(RETAINED_KEYS[stack])


def rejected(stack: str, registry, **values) -> str:
    config, secret_keys = config_with(stack, **values)
    run = StackRun(stack)
    with pytest.raises(ConfigError) as err:
        run_stack(stack, config=config, secret_keys=secret_keys, registry_outputs=registry.outputs, run=run)
    assert run.resources == []
    return str(err.value)


@pytest.mark.parametrize("stack, values, key, fix", [
    ("prod", {"adoptRetained": "yes"}, f"{P}:adoptRetained", "true or false"),
    ("prod", {"retainedKeyIds": {"data-key": KEY_ID}}, f"{P}:retainedKeyIds", "adoptRetained: true"),
    ("prod", {"adoptRetained": True, "retainedKeyIds": {"artifacts-key": KEY_ID}},
     f"{P}:retainedKeyIds.artifacts-key", "keeps data-key"),
    ("prod", {"adoptRetained": True, "retainedKeyIds": {"data-key": "alias/mlops-prod-data"}},
     f"{P}:retainedKeyIds.data-key", "not a KMS key id"),
    ("dev", {"adoptRetained": True, "retainedKeyIds": {"data-key": KEY_ID}},
     f"{P}:retainedKeyIds.data-key", "retainData is false"),
    ("prod", {"adoptRetained": True, "retainedKeyIds": ["data-key"]}, f"{P}:retainedKeyIds", "must be a map"),
])
def test_adoption_config_is_validated(stack, values, key, fix, registry):
    message = rejected(stack, registry, **values)
    assert f"{key}: " in message and fix in message, message
