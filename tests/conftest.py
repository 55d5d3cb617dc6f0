"""Fixtures shared by the whole suite."""
from __future__ import annotations

import os

import pytest

from tests.support.moto_server import aws_env, moto_server, reset

# The stacks' session fixtures (registry, dev, prod, stacks), shared by every test package.
pytest_plugins = ["tests.support.stack_fixtures"]

# Building SageMaker definitions must never reach AWS; these keep the SDK quiet offline.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")


@pytest.fixture(scope="session", autouse=True)
def definition_cache(tmp_path_factory):
    """A fresh definition cache per session: every run builds once and never reads a user's."""
    os.environ["MLOPS_DEFINITION_CACHE"] = str(tmp_path_factory.mktemp("definitions"))
    yield
    os.environ.pop("MLOPS_DEFINITION_CACHE", None)


@pytest.fixture(scope="session")
def moto_endpoint():
    """One moto server for the session, on 127.0.0.1 and a free port."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint):
    """A clean moto server and an environment that points boto3 at it."""
    reset(moto_endpoint)
    with aws_env(moto_endpoint):
        yield moto_endpoint
