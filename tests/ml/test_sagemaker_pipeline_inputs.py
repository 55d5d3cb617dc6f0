"""How stored outputs and new inputs compare (ml/sagemaker_pipeline/inputs.py); no AWS."""
from __future__ import annotations

import json

import pytest
from pulumi.output import Unknown

from ml.sagemaker_pipeline import SageMakerPipelineProvider
from ml.sagemaker_pipeline.inputs import (
    UNKNOWN,
    account_of,
    canonical_definition,
    definition_sha256,
    normalize,
)
from tests.ml.support_pipeline_inputs import OTHER_ACCOUNT, definition, inputs

provider = SageMakerPipelineProvider()


def diff(olds: dict, news: dict):
    outs = {**olds, "account_id": account_of(olds["role_arn"])}
    return provider.diff("id", outs, news)


def test_same_definition_in_other_formatting_is_no_change():
    olds = inputs()
    news = inputs(definition=definition(indent=4, sort_keys=True))
    assert news["definition"] != olds["definition"]
    result = diff(olds, news)
    assert result.changes is False and result.replaces == []


@pytest.mark.parametrize("key,value", [
    ("definition", definition(steps=2)),
    ("description", "changed"),
    ("tags", {"project": "mlops-platform"}),
    ("parallelism", 8),
    ("role_arn", "arn:aws:iam::123456789012:role/other"),
    ("start_on_create", True),
    ("adopt_existing", True),
    ("stop_timeout_seconds", 60),
])
def test_in_place_updates(key, value):
    result = diff(inputs(), inputs(**{key: value}))
    assert result.changes is True and result.replaces == []


@pytest.mark.parametrize("key,value,replaced", [
    ("name", "mlops-dev-training-v2", "name"),
    ("region", "eu-central-1", "region"),
    ("role_arn", f"arn:aws:iam::{OTHER_ACCOUNT}:role/x", "account_id"),
])
def test_replacements(key, value, replaced):
    result = diff(inputs(), inputs(**{key: value}))
    assert result.changes is True and replaced in result.replaces


@pytest.mark.parametrize("unknown", [UNKNOWN, Unknown()], ids=["wire", "host"])
def test_unknown_name_may_replace_but_unknown_role_only_updates(unknown):
    assert diff(inputs(), inputs(name=unknown)).replaces == ["name"]
    result = diff(inputs(), inputs(role_arn=unknown))
    assert result.changes is True and result.replaces == []


def test_wire_floats_are_not_a_change():
    assert diff(inputs(), inputs(parallelism=4.0)).changes is False


def test_a_state_without_the_stop_timeout_equals_the_default():
    # States written before the input existed lack it; the program still leaves it out.
    assert diff(inputs(), inputs(stop_timeout_seconds=1200)).changes is False
    assert normalize(inputs())["stop_timeout_seconds"] == 1200


def test_definition_hash_ignores_formatting_only():
    a, b = definition(), definition(indent=2, sort_keys=True)
    assert definition_sha256(a) == definition_sha256(b)
    assert definition_sha256(a) != definition_sha256(definition(steps=2))
    assert json.loads(canonical_definition(b)) == json.loads(a)
