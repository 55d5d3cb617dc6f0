"""Settings: every stack's real config parses; bad config fails before any resource exists,
with a message that names the key and says how to fix it."""
from __future__ import annotations

import copy

import pytest

from mlops_platform.settings import ConfigError
from tests.support.stacks import StackRun, run_stack, stack_config

P = "mlops-platform"


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_real_stack_configs_are_valid(stack, stacks):
    assert stacks[stack].outputs["role"] == stack


def _set(key, value):
    def change(cfg):
        cfg[key] = value
    return change


def _drop(key):
    def change(cfg):
        cfg.pop(key, None)
    return change


def _patch(key, **fields):
    def change(cfg):
        cfg[key] = {**cfg[key], **fields}
    return change


# (stack, change, the key the message must name, a fragment of the fix it must give)
BAD_CONFIGS = {
    "role missing": ("dev", _drop(f"{P}:role"), f"{P}:role", "registry, dev, prod"),
    "role unknown": ("dev", _set(f"{P}:role", "staging"), f"{P}:role", "must be one of"),
    "account id too short": ("dev", _patch(f"{P}:accounts", dev="12345"), f"{P}:accounts.dev", "12-digit"),
    "account id as a number": ("prod", _patch(f"{P}:accounts", prod=333333333333), f"{P}:accounts.prod",
                               "quoted string"),
    "accounts not distinct": ("dev", _patch(f"{P}:accounts", prod="222222222222"), f"{P}:accounts",
                              "three different accounts"),
    "accounts not a map": ("registry", _set(f"{P}:accounts", ["111111111111"]), f"{P}:accounts", "map of"),
    "region missing": ("dev", _drop("aws:region"), "aws:region", "is required"),
    "region malformed": ("dev", _set("aws:region", "Ireland"), "aws:region", "eu-west-1"),
    "region differs from the platform's": ("prod", _set("aws:region", "us-east-1"), "aws:region",
                                           "platform's region"),
    "allowedAccountIds missing": ("dev", _drop("aws:allowedAccountIds"), "aws:allowedAccountIds",
                                  "wrong account"),
    "allowedAccountIds names another account": ("prod", _set("aws:allowedAccountIds", ["222222222222"]),
                                                "aws:allowedAccountIds", '["333333333333"]'),
    "registry stack missing": ("dev", _drop(f"{P}:registryStack"), f"{P}:registryStack",
                               "<org>/mlops-platform/registry"),
    "registry stack malformed": ("dev", _set(f"{P}:registryStack", "registry"), f"{P}:registryStack",
                                 "<org>/<project>/<stack>"),
    "e-mail malformed": ("prod", _set(f"{P}:notificationEmail", "ops-at-example"), f"{P}:notificationEmail",
                         "not an e-mail"),
    "cron with five fields": ("dev", _set(f"{P}:inferenceSchedule", "cron(0 6 * * *)"),
                              f"{P}:inferenceSchedule", "6 fields"),
    "cron without ?": ("dev", _set(f"{P}:inferenceSchedule", "cron(0 6 * * * *)"), f"{P}:inferenceSchedule",
                       "exactly one of day-of-month and day-of-week"),
    "rate with wrong plural": ("dev", _set(f"{P}:inferenceSchedule", "rate(1 days)"), f"{P}:inferenceSchedule",
                               "singular"),
    "schedule not cron or rate": ("dev", _set(f"{P}:inferenceSchedule", "daily"), f"{P}:inferenceSchedule",
                                  "cron(0 6 * * ? *)"),
    "AUC threshold above 1": ("dev", _set(f"{P}:aucThreshold", "1.5"), f"{P}:aucThreshold", "between 0 and 1"),
    "AUC threshold not a number": ("prod", _set(f"{P}:aucThreshold", "high"), f"{P}:aucThreshold",
                                   "between 0 and 1"),
    "cool-down of zero": ("dev", _set(f"{P}:retrainCooldownMinutes", "0"), f"{P}:retrainCooldownMinutes",
                          "1 to 10080"),
    "GitHub owner invalid": ("dev", _patch(f"{P}:github", owner="-bad-"), f"{P}:github.owner",
                             "GitHub user or organisation"),
    "GitHub repository missing": ("registry", _set(f"{P}:github", {"owner": "example-org"}),
                                  f"{P}:github.repository", "repository name"),
    "prod without reviewers": ("prod", _set(f"{P}:reviewers", []), f"{P}:reviewers", "at least one reviewer"),
    "registry without model approvers": ("registry", _drop(f"{P}:modelApprovers"), f"{P}:modelApprovers",
                                         "model approvals"),
    "cost centre tag missing": ("dev", _set(f"{P}:tags", {"owner": "team"}), f"{P}:tags.costCenter",
                                "cost allocation"),
    "retainData not a boolean": ("prod", _set(f"{P}:retainData", "sometimes"), f"{P}:retainData",
                                 "true or false"),
    "VPC without security groups": ("prod", _patch(f"{P}:vpc", securityGroupIds=[]),
                                    f"{P}:vpc.securityGroupIds", "both subnets and security groups"),
    "VPC subnet id malformed": ("prod", _patch(f"{P}:vpc", subnetIds=["subnet-xyz"]), f"{P}:vpc.subnetIds",
                                "subnet-0abc"),
    "model package group name invalid": ("registry", _set(f"{P}:modelPackageGroupName", "bad_name!"),
                                         f"{P}:modelPackageGroupName", "letters, digits and hyphens"),
    "GitHub token in plain text": ("dev", _set("github:token", "ghp_plaintext"), "github:token",
                                   "pulumi config set --secret"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_rejected_with_a_clear_message_and_nothing_registered(case, registry):
    stack, change, key, fix = BAD_CONFIGS[case]
    config, secrets = stack_config(stack)
    config = copy.deepcopy(config)
    change(config)
    run = StackRun(stack)
    with pytest.raises(ConfigError) as err:
        run_stack(stack, config=config, secret_keys=secrets, registry_outputs=registry.outputs, run=run)
    message = str(err.value)
    assert f"{key}:" in message, message
    assert fix in message, message
    assert run.resources == [], f"{len(run.resources)} resources registered before the config error"


def test_every_problem_is_reported_at_once(registry):
    config, secrets = stack_config("dev")
    config = copy.deepcopy(config)
    config[f"{P}:aucThreshold"] = "2"
    config[f"{P}:notificationEmail"] = "nope"
    config.pop("aws:region")
    with pytest.raises(ConfigError) as err:
        run_stack("dev", config=config, secret_keys=secrets, registry_outputs=registry.outputs)
    assert len(err.value.problems) == 3


def test_secret_github_token_is_accepted_when_stored_as_secret(registry):
    config, _ = stack_config("dev")
    config = {**config, "github:token": "ghs_from_secure_value"}
    run = run_stack("dev", config=config, secret_keys=["github:token"], registry_outputs=registry.outputs)
    assert run.outputs["role"] == "dev"


def test_there_are_at_least_fifteen_distinct_bad_configs():
    assert len({(s, k) for s, _, k, _ in BAD_CONFIGS.values()}) >= 15
