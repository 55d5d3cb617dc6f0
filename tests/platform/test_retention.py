"""prod keeps its data and keys on `pulumi destroy`; dev destroys cleanly."""
from __future__ import annotations

import copy

import pytest

from ml import contract
from mlops_platform.components.github_oidc import TRUST_ANCHORS, is_trust_anchor
from tests.support.stacks import run_stack, stack_config

DATA = ("aws:s3/bucket:Bucket", "aws:kms/key:Key")


def _data_resources(run):
    return [r for r in run.resources if r.type in DATA and r.name != "notifications-key"]


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_every_stack_keeps_its_github_trust_anchors(stack, stacks):
    # CI's destroy runs as the deploy role, which the boundary forbids to touch them.
    present = {(r.type, r.name) for r in stacks[stack].resources if is_trust_anchor(r.type, r.name)}
    kept = {(r.type, r.name) for r in stacks[stack].resources if r.retain_on_delete}
    assert len(present) >= 7 and present <= kept
    assert {(r.type, r.name) for r in stacks[stack].resources} & TRUST_ANCHORS <= present


def test_a_kept_bucket_keeps_its_hardening(prod, registry):
    for run in (prod, registry):
        bucket = run.one("aws:s3/bucket:Bucket")
        children = [r for r in run.resources if r.parent == bucket.parent and r.type.startswith("aws:s3/")]
        assert len(children) == 7  # bucket, ownership, public access, versioning, SSE, lifecycle, policy
        assert all(r.retain_on_delete for r in children), [r.type for r in children if not r.retain_on_delete]


def test_prod_retains_buckets_and_data_keys(prod):
    kept = _data_resources(prod)
    assert {r.name for r in kept} == {"data", "data-key"}
    assert all(r.retain_on_delete for r in kept)
    assert prod.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is False
    assert prod.one("aws:kms/key:Key", "data-key").inputs["deletionWindowInDays"] == 30


def test_registry_retains_the_artifacts_that_every_model_lives_in(registry):
    assert all(r.retain_on_delete for r in _data_resources(registry))


def test_dev_destroys_cleanly_but_for_the_trust_anchors_ci_may_not_delete(dev):
    kept = {(r.type, r.name) for r in dev.resources if r.retain_on_delete or r.protect}
    # Step scripts, their shared modules and the models' schemas are kept when a deploy replaces
    # them (ml/superseded_code.py); on destroy the force-destroyed bucket empties itself, so they go with it.
    kept -= {(r.type, r.name) for r in dev.resources if r.type == "aws:s3/bucketObjectv2:BucketObjectv2"
             and r.inputs["key"].startswith(contract.CODE_ROOT)}
    assert kept == {(r.type, r.name) for r in dev.resources if is_trust_anchor(r.type, r.name)}
    assert dev.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is True
    assert dev.one("aws:kms/key:Key", "data-key").inputs["deletionWindowInDays"] == 7


def test_prod_operator_can_opt_out_of_retention(registry):
    config, secrets = stack_config("prod")
    config = copy.deepcopy(config)
    config["mlops-platform:retainData"] = False
    run = run_stack("prod", config=config, secret_keys=secrets, registry_outputs=registry.outputs)
    assert not any(r.retain_on_delete for r in _data_resources(run))
    assert run.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is True


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_retention_follows_the_stack_file(stack, stacks):
    expected = stack_config(stack)[0]["mlops-platform:retainData"]
    assert all(r.retain_on_delete == expected for r in _data_resources(stacks[stack]))


def test_a_registry_file_that_loses_retain_data_still_keeps_every_model(registry):
    # Issue 12.1: the default was role == "prod", so the registry's artifacts went to force_destroy.
    config, secrets = stack_config("registry")
    config = copy.deepcopy(config)
    config.pop("mlops-platform:retainData")
    run = run_stack("registry", config=config, secret_keys=secrets)
    assert all(r.retain_on_delete for r in _data_resources(run))
    assert run.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is False
    assert run.one("aws:kms/key:Key", "artifacts-key").inputs["deletionWindowInDays"] == 30

