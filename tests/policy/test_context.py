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


def test_group_arn_lives_in_the_registry_account():
    assert context_for("dev").group_arn == \
        "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/mammo-severity-model-package"


def test_prod_retains_data_unless_config_says_otherwise():
    assert StackContext.from_config(BASE).retain_data is True
    assert StackContext.from_config({**BASE, "mlops-platform:retainData": "false"}).retain_data is False


@pytest.mark.parametrize("change,expected", [
    ({"mlops-platform:role": None}, "mlops-platform:role is missing"),
    ({"mlops-platform:role": "staging"}, "one of ['registry', 'dev', 'prod']"),
    ({"mlops-platform:accounts": "{not json"}, "not valid JSON"),
    ({"mlops-platform:accounts": json.dumps({"registry": "1"})}, "12-digit ids"),
    ({"mlops-platform:retainData": "maybe"}, "must be true or false"),
])
def test_bad_config_names_the_key_and_the_fix(change, expected):
    config = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ContextError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        StackContext.from_config(config)
