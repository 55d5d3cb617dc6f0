"""The stack context the pack builds from config: engine-encoded strings or structured values."""
from __future__ import annotations

import json

import pytest

from mlops_policies.model import ContextError, StackContext
from tests.policy.adapter import context_for

ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
BASE = {"mlops-platform:role": "prod", "mlops-platform:accounts": json.dumps(ACCOUNTS),
        "mlops-platform:region": "eu-west-1", "mlops-platform:modelPackageGroupName": "models"}


def test_engine_encoded_config_gives_the_same_context_as_structured_config():
    structured = {**BASE, "mlops-platform:accounts": ACCOUNTS, "mlops-platform:retainData": True}
    encoded = {**BASE, "mlops-platform:retainData": "true"}
    assert StackContext.from_config(structured, "prod") == StackContext.from_config(encoded, "prod")


def test_every_models_group_lives_in_the_registry_account_the_first_models_first():
    ctx = context_for("dev")
    assert ctx.group_arn() == "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/mammo-severity-model-package"
    assert ctx.group_arns == (ctx.group_arn(), ctx.group_arn("wdbc-diagnosis-model-package"))


def test_groups_are_derived_from_the_models_as_the_program_derives_them():
    models = {"b": {"modelPackageGroupName": "b-group"}, "a": {}, "c": {}}
    config = {**BASE, "mlops-platform:models": json.dumps(models), "mlops-platform:firstModel": "c"}
    # The first model's entry, else the legacy per-stack key; every other model `<name>-model-package`.
    assert StackContext.from_config(config).group_names == ("models", "a-model-package", "b-group")
    without_legacy = {k: v for k, v in config.items() if k != "mlops-platform:modelPackageGroupName"}
    assert StackContext.from_config(without_legacy).group_names[0] == "c-model-package"


def test_prod_retains_data_unless_config_says_otherwise():
    assert StackContext.from_config(BASE).retain_data is True
    assert StackContext.from_config({**BASE, "mlops-platform:retainData": "false"}).retain_data is False


def test_the_registry_retains_data_by_default_like_prod_and_dev_does_not():
    # Where models live (registry, prod), a stack file that loses retainData must not turn the
    # retention rule off: it used to default to role == "prod" and return early for the registry.
    assert StackContext.from_config({**BASE, "mlops-platform:role": "registry"}).retain_data is True
    assert StackContext.from_config({**BASE, "mlops-platform:role": "dev"}).retain_data is False


def test_group_arn_takes_the_partition_from_the_region():
    ctx = StackContext.from_config({**BASE, "mlops-platform:region": "us-gov-west-1"})
    assert ctx.group_arn() == "arn:aws-us-gov:sagemaker:us-gov-west-1:111111111111:model-package-group/models"


@pytest.mark.parametrize("change,expected", [
    ({"mlops-platform:role": None}, "mlops-platform:role is missing"),
    ({"mlops-platform:role": "staging"}, "one of ['registry', 'dev', 'prod']"),
    ({"mlops-platform:accounts": "{not json"}, "must be a map, got text that is not JSON"),
    ({"mlops-platform:accounts": json.dumps({"registry": "1"})}, "12-digit ids"),
    ({"mlops-platform:retainData": "maybe"}, "must be true or false"),
    ({"mlops-platform:retainData": "yes"}, "is text, not the boolean true"),
    ({"mlops-platform:accounts": json.dumps(["111111111111"])}, "must be a map, got list"),
])
def test_bad_config_names_the_key_and_the_fix(change, expected):
    config = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ContextError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        StackContext.from_config(config)


def test_the_retention_rule_checks_a_registry_whose_file_lost_retain_data():
    from mlops_policies import stack, storage
    from tests.policy.fixtures import res

    ctx = StackContext.from_config({**BASE, "mlops-platform:role": "registry"}, "registry")
    bucket = res(storage.BUCKET, name="artifacts", urn="urn:bucket", bucket="b", forceDestroy=True)
    [(message, urn)] = stack.check_retention([bucket], ctx)
    assert "would be emptied and deleted" in message and urn == "urn:bucket"
