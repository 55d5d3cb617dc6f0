"""States written before the provider became a package still load, and new ones are unchanged.

Pulumi keeps the provider in each resource's `__provider` input: base64 of a dill pickle
that names the class by import path. A state written today must load in the provider host
after any refactor, and a refactor must not change what new states hold (or every pipeline
would show a diff of `__provider`).
"""
from __future__ import annotations

import base64
import pickletools

import dill
from pulumi.dynamic.dynamic import serialize_provider

from ml.sagemaker_pipeline import SageMakerPipelineProvider
from ml.sagemaker_pipeline.inputs import account_of
from ml.sagemaker_pipeline.provider import SageMakerPipelineProvider as DefinedHere
from tests.ml.support_pipeline_inputs import PROVIDER_IN_STATE, definition, inputs


def referenced_globals(pickled: bytes) -> list[tuple[str, str]]:
    """(module, name) of every global a pickle imports when it loads."""
    strings: list[str] = []
    found = []
    for opcode, arg, _pos in pickletools.genops(pickled):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(str(arg))
        elif opcode.name == "STACK_GLOBAL":
            found.append((strings[-2], strings[-1]))
        elif opcode.name == "GLOBAL":
            module, name = str(arg).split(" ", 1)
            found.append((module, name))
    return found


def test_the_stored_provider_refers_only_to_the_package_path():
    # So nothing else (e.g. the old ml.sagemaker_pipeline_provider module) must stay importable.
    assert referenced_globals(base64.b64decode(PROVIDER_IN_STATE)) == [
        ("ml.sagemaker_pipeline", "SageMakerPipelineProvider")]


def test_a_stored_provider_loads_as_the_current_class_and_works():
    provider = dill.loads(base64.b64decode(PROVIDER_IN_STATE))  # as pulumi.dynamic loads it
    assert type(provider) is DefinedHere is SageMakerPipelineProvider
    assert vars(provider) == {}
    checked = provider.check({}, inputs(parallelism=4.0))
    assert checked.failures == [] and checked.inputs["parallelism"] == 4
    outs = {**inputs(), "account_id": account_of(inputs()["role_arn"])}
    assert provider.diff("id", outs, inputs(definition=definition(indent=2))).changes is False
    assert provider.diff("id", outs, inputs(definition=definition(steps=2))).changes is True


def test_new_states_hold_the_same_bytes_as_before():
    assert SageMakerPipelineProvider.__module__ == "ml.sagemaker_pipeline"
    assert serialize_provider(SageMakerPipelineProvider()) == PROVIDER_IN_STATE
