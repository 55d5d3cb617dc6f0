"""Serving in the pack: endpoints hardened like the jobs (CMK for volumes and captured traffic,
the stack's VPC and isolation, a rollout that rolls itself back), and the one wildcard a managed
policy may hold: a permissions boundary capping configuration reads by verb prefix."""
from __future__ import annotations

import dataclasses

import pytest

from mlops_policies import catalog, iam, serving
from mlops_policies.model import Vpc
from tests.policy.fixtures import CMK, allow, ctx, doc, res

VPC = Vpc(frozenset({"subnet-0a"}), frozenset({"sg-0a"}), True)
ALARMS = {"alarms": [{"alarmName": "mlops-prod-m-errors"}, {"alarmName": "mlops-prod-m-latency"}]}
CANARY = {"trafficRoutingConfiguration": {"type": "CANARY"}}


def test_a_model_in_a_vpc_stack_serves_in_its_subnets_network_isolated():
    good = res(serving.MODEL, enableNetworkIsolation=True, vpcConfig={"subnets": ["subnet-0a"],
                                                                      "securityGroupIds": ["sg-0a"]})
    assert serving.check_endpoint(good, ctx("prod", vpc=VPC)) == []
    assert serving.check_endpoint(res(serving.MODEL), ctx("dev")) == []  # no VPC asked for
    elsewhere = dataclasses.replace(good, props={**good.props, "vpcConfig": {"subnets": ["subnet-0b"]}})
    [message] = serving.check_endpoint(elsewhere, ctx("prod", vpc=VPC))
    assert "subnet-0b" in message and "Fix:" in message
    open_ = dataclasses.replace(good, props={**good.props, "enableNetworkIsolation": False})
    assert "network isolation" in serving.check_endpoint(open_, ctx("prod", vpc=VPC))[0]


@pytest.mark.parametrize("props, problem", [
    ({"dataCaptureConfig": {"enableCapture": True, "kmsKeyId": CMK}}, "volumes"),
    ({"kmsKeyArn": CMK, "dataCaptureConfig": {"enableCapture": True}}, "captures"),
    ({"kmsKeyArn": "alias/aws/sagemaker", "dataCaptureConfig": {"enableCapture": True, "kmsKeyId": CMK}}, "volumes"),
])
def test_an_endpoint_configuration_encrypts_volumes_and_capture_with_a_cmk(props, problem):
    assert serving.check_endpoint(res(serving.ENDPOINT_CONFIG, kmsKeyArn=CMK, dataCaptureConfig={
        "enableCapture": True, "kmsKeyId": CMK}), ctx()) == []
    [message] = serving.check_endpoint(res(serving.ENDPOINT_CONFIG, **props), ctx())
    assert problem in message


@pytest.mark.parametrize("deployment", [{}, {"blueGreenUpdatePolicy": CANARY},
                                        {"autoRollbackConfiguration": ALARMS},
                                        {"blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type": "ALL_AT_ONCE"}},
                                         "autoRollbackConfiguration": ALARMS}])
def test_an_endpoint_rolls_out_as_a_canary_or_linear_shift_that_alarms_roll_back(deployment):
    guarded = res(serving.ENDPOINT, deploymentConfig={"blueGreenUpdatePolicy": CANARY,
                                                      "autoRollbackConfiguration": ALARMS})
    assert serving.check_endpoint(guarded, ctx()) == []
    assert serving.check_endpoint(res(serving.ENDPOINT, deploymentConfig=deployment), ctx())


def test_the_served_stacks_endpoints_fail_the_rule_once_broken(served_views):
    resources, context = served_views["prod"]
    rule = next(r for r in catalog.RESOURCE_RULES if r.name == "sagemaker-endpoint-hardened")
    models = [r for r in resources if r.type == serving.MODEL]
    assert models and all(catalog.evaluate_resource(rule, m, context) == [] for m in models)
    broken = dataclasses.replace(models[0], props={**models[0].props, "enableNetworkIsolation": False})
    assert catalog.evaluate_resource(rule, broken, context)


BOUNDARY = "arn:aws:iam::222222222222:policy/mlops-dev-permissions-boundary"


def _stack(*actions, boundary=True):
    policy = res(iam.MANAGED_POLICY, name="permissions-boundary", arn=BOUNDARY,
                 policy=doc(allow(list(actions), "arn:aws:iam::222222222222:role/mlops-dev-*")))
    role = res(iam.ROLE, name="github-deploy", permissionsBoundary=BOUNDARY if boundary else None,
               assumeRolePolicy=doc())
    return [policy, role]


def test_a_boundary_may_cap_configuration_reads_by_verb_prefix():
    assert iam.check_managed_policy_wildcards(_stack("iam:Get*", "iam:List*", "s3:GetBucket*", "iam:PassRole"), ctx()) == []


@pytest.mark.parametrize("action", ["*", "iam:*", "iam:Put*", "s3:Get*", "s3:GetObject*", "iam:*Role", "dynamodb:Get*",
                                    "ssm:GetParameter*", "i?m:GetRole"])
def test_no_other_wildcard_even_in_a_boundary(action):
    [(message, _urn)] = iam.check_managed_policy_wildcards(_stack(action), ctx())
    assert action in message


def test_a_managed_policy_that_is_no_boundary_names_every_action():
    assert iam.check_managed_policy_wildcards(_stack("iam:Get*", boundary=False), ctx())
    # ...and the resource rule leaves managed policies to this stack rule
    assert iam.check_wildcard_actions(_stack("iam:Get*")[0], ctx()) == []
