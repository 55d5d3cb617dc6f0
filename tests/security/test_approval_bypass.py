"""Path 1 (critical): a workload account publishing a model that prod serves without a review.

The attacker controls the dev account (its administrator rewrites the dev roles' policies and
removes their boundary), so only the registry's own policy can stop it.
"""
from __future__ import annotations

import pytest

from tests.security.names import GROUP, NEW_VERSION, REGION, ask, role
from tests.security.verdicts import assert_allowed, assert_closed, assert_refused
from tests.security.world import ALLOW_EVERYTHING

TRAINING = role("dev", "sagemaker-execution")
STATUS = "sagemaker:ModelApprovalStatus"


def compromised(world, arn=TRAINING):
    return world.with_role(arn, policies=[ALLOW_EVERYTHING], boundary=None)


@pytest.mark.parametrize("resource", [GROUP, NEW_VERSION])
@pytest.mark.parametrize("status", ["Approved", None])
def test_a_compromised_workload_cannot_register_a_version_that_is_not_pending(world, before, resource, status):
    request = ask(TRAINING, "sagemaker:CreateModelPackage", resource, {STATUS: status} if status else {})
    assert_closed(compromised(world), compromised(before), request)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_training_still_registers_versions_pending_approval(world, stack):
    trainer = role(stack, "sagemaker-execution")
    for resource in (GROUP, NEW_VERSION):
        assert_allowed(world, ask(trainer, "sagemaker:CreateModelPackage", resource, {STATUS: "PendingManualApproval"}))


def test_no_workload_role_approves_even_with_every_permission_of_its_account(world):
    for arn in (TRAINING, role("prod", "model-lookup-lambda")):
        request = ask(arn, "sagemaker:UpdateModelPackage", NEW_VERSION, {STATUS: "Approved"})
        assert_refused(compromised(world, arn), request)


def test_the_registry_approver_still_approves(world):
    assert_allowed(world, ask(role("registry", "github-model-approver"), "sagemaker:UpdateModelPackage",
                              NEW_VERSION, {STATUS: "Approved"}))


def test_jobs_pull_images_only_from_the_aws_algorithm_account(world, before):
    # An image the attacker publishes under the same repository name, shared with everyone.
    attacker_repo = f"arn:aws:ecr:{REGION}:999999999999:repository/sagemaker-xgboost"
    shared = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Resource": "*"}]}
    now, then = (w.with_resource(attacker_repo, account="999999999999", policy=shared) for w in (world, before))
    assert_closed(now, then, ask(TRAINING, "ecr:BatchGetImage", attacker_repo))
    # AWS shares its algorithm images with every account the same way.
    aws_repo = f"arn:aws:ecr:{REGION}:141502667606:repository/sagemaker-xgboost"
    assert_allowed(world.with_resource(aws_repo, account="141502667606", policy=shared),
                   ask(TRAINING, "ecr:BatchGetImage", aws_repo))
