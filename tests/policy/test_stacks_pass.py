"""The three mocked stacks pass every rule; the same resources, broken, do not."""
from __future__ import annotations

import dataclasses

import pytest

from mlops_policies import catalog, storage
from mlops_policies.model import StackContext

STACKS = ("registry", "dev", "prod")


@pytest.mark.parametrize("name", STACKS)
def test_every_rule_passes_on_the_stack(stack_views, name):
    resources, ctx = stack_views[name]
    found = catalog.evaluate_all(resources, ctx)
    assert set(found) == {r.name for r in catalog.RESOURCE_RULES} | {r.name for r in catalog.STACK_RULES}
    assert {rule: messages for rule, messages in found.items() if messages} == {}


@pytest.mark.parametrize("name", STACKS)
def test_every_rule_passes_on_the_stack_serving_every_model(served_views, name):
    resources, ctx = served_views[name]
    found = catalog.evaluate_all(resources, ctx)
    assert {rule: messages for rule, messages in found.items() if messages} == {}


def test_the_stacks_exercise_every_rule_that_has_resources_to_check(stack_views, served_views):
    # A rule that never meets its resource types would pass vacuously (endpoints exist where a stack serves).
    views = [*stack_views.values(), *served_views.values()]
    applied = {r.name for r in catalog.RESOURCE_RULES for resources, _ in views for res in resources
               if r.applies_to(res.type)}
    unexercised = {r.name for r in catalog.RESOURCE_RULES} - applied
    assert unexercised == {"iam-no-users"}  # the program creates no IAM users, by design


def test_the_context_comes_from_each_stack_config(stack_views):
    roles = {name: ctx.role for name, (_r, ctx) in stack_views.items()}
    assert roles == {"registry": "registry", "dev": "dev", "prod": "prod"}
    _, prod = stack_views["prod"]
    assert isinstance(prod, StackContext) and prod.retain_data and prod.vpc and prod.vpc.network_isolation


def _replace(resources, type_, **props):
    return [dataclasses.replace(r, props={**r.props, **props}) if r.type == type_ else r for r in resources]


def test_prod_with_a_destroyable_bucket_fails_retention(stack_views):
    resources, ctx = stack_views["prod"]
    broken = _replace(resources, storage.BUCKET, forceDestroy=True)
    assert catalog.evaluate_all(broken, ctx)["retain-data-on-delete"]
    # dev may be destroyed: it does not retain data, so the same change is allowed there.
    dev_resources, dev_ctx = stack_views["dev"]
    assert catalog.evaluate_all(_replace(dev_resources, storage.BUCKET, forceDestroy=True), dev_ctx)[
        "retain-data-on-delete"] == []


def test_prod_with_its_data_key_deletable_fails_retention(stack_views):
    resources, ctx = stack_views["prod"]
    [key] = [k for k in resources if k.type == storage.KMS_KEY and k.retain_on_delete]
    broken = [dataclasses.replace(r, retain_on_delete=False) if r is key else r for r in resources]
    messages = catalog.evaluate_all(broken, ctx)["retain-data-on-delete"]
    assert len(messages) == 1 and key.name in messages[0]


def test_a_stack_bucket_without_its_public_access_block_fails(stack_views):
    resources, ctx = stack_views["dev"]
    broken = [r for r in resources if r.type not in storage.PUBLIC_ACCESS_BLOCK]
    assert catalog.evaluate_all(broken, ctx)["s3-bucket-companions"]


def test_a_workload_pointing_at_another_registry_fails_the_wiring(stack_views):
    resources, ctx = stack_views["dev"]
    elsewhere = dataclasses.replace(ctx, accounts={**ctx.accounts, "registry": "444444444444"})
    assert catalog.evaluate_all(resources, elsewhere)["cross-account-wiring"]


def test_without_stack_config_context_rules_fail_closed_and_the_others_still_run(stack_views):
    resources, _ = stack_views["registry"]
    missing = catalog.context_from({}, "registry")
    found = catalog.evaluate_all(resources, missing)
    assert found["registry-group-policy"] and "mlops-platform:role is missing" in found["registry-group-policy"][0]
    assert found["cross-account-wiring"] and found["kms-key-rotation"] == []


@pytest.fixture(scope="module")
def five_models():
    """Every stack with five models (generated: tests/support/many_models.py), as the pack sees it."""
    from mlops_policies.catalog import context_from
    from tests.policy.adapter import resources_of
    from tests.support.many_models import many_models_config
    from tests.support.stacks import encode, run_stack

    runs, contexts = {}, {}
    for name in STACKS:
        config, secret_keys = many_models_config(name, 5)
        kwargs = {} if name == "registry" else {"registry_outputs": runs["registry"].outputs}
        runs[name] = run_stack(name, config=config, secret_keys=secret_keys, **kwargs)
        contexts[name] = context_from(encode(config), name)
    return {name: (resources_of(run, runs["registry"].outputs), contexts[name]) for name, run in runs.items()}


@pytest.mark.parametrize("name", STACKS)
def test_every_rule_passes_with_five_models(five_models, name):
    resources, ctx = five_models[name]
    assert len(ctx.group_names) == 5
    found = catalog.evaluate_all(resources, ctx)
    assert {rule: messages for rule, messages in found.items() if messages} == {}


def test_a_model_whose_group_has_no_policy_fails_the_registry_wiring(five_models):
    resources, ctx = five_models["registry"]
    last = ctx.group_names[-1]
    without = [r for r in resources if r.props.get("modelPackageGroupName") != last]
    messages = catalog.evaluate_all(without, ctx)["cross-account-wiring"]
    assert any(f"No model package group policy for {last}" in m for m in messages)


def test_a_pipeline_registering_outside_the_registrys_groups_fails_the_wiring(five_models):
    resources, ctx = five_models["dev"]
    pipeline = next(r for r in resources if r.name == "m01-training")
    text = pipeline.props["definition"]
    group = next(g for g in ctx.group_arns if g in text)
    forged = dataclasses.replace(pipeline, props={**pipeline.props, "definition": text.replace(
        group, group.replace("model-package-group/", "model-package-group/not-ours-"))})
    messages = catalog.evaluate_all([forged if r is pipeline else r for r in resources], ctx)["cross-account-wiring"]
    assert any("m01-training registers into" in m for m in messages)
