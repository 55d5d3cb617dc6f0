"""The shipped configuration's models, as the program resolves them for each stack (for tests
that check every model's resources, not only the first's)."""
from __future__ import annotations

import functools

from ml.models import ModelSpec
from mlops_platform.config_loader import load_settings
from mlops_platform.naming import ModelNames
from mlops_platform.project_stacks import REPOSITORY_ROOT, stack_roles
from tests.support.stacks import encode, stack_config

P = "mlops-platform"


class _Namespace:
    def __init__(self, encoded, namespace):
        self.encoded, self.namespace = encoded, namespace

    def get(self, key):
        return self.encoded.get(f"{self.namespace}:{key}")


@functools.cache
def models(stack: str) -> tuple[ModelSpec, ...]:
    """The stack's models, the first model first."""
    config, _ = stack_config(stack)
    encoded = encode(config)
    return load_settings(_Namespace(encoded, P), _Namespace(encoded, "aws"), stack=stack,
                         github=_Namespace(encoded, "github"), present_keys=set(encoded),
                         stack_roles=stack_roles(REPOSITORY_ROOT)).models


def names(stack: str, model: ModelSpec) -> ModelNames:
    return ModelNames(stack, model.name, model.first)


def model_names(stack: str = "dev") -> list[str]:
    return [m.name for m in models(stack)]


def model(stack: str, name: str) -> ModelSpec:
    return next(m for m in models(stack) if m.name == name)
