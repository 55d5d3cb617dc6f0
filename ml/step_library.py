"""The steps' shared library (``ml/steps/tabular.py``), for the local tools.

The step scripts import it as a top-level module (``import tabular``): in a processing job it sits
in ``{base}/input/lib``, locally beside them in ``ml/steps``. The local tools import that very
module (not a second copy as ``ml.steps.tabular``), so a schema or an error of the steps is the
same class here, and read the model's schema through the document the steps read
(``DataSchema.document``), not through the platform's own objects.
"""
from __future__ import annotations

import functools
import importlib
import sys
from types import ModuleType
from typing import Any

from ml import contract
from ml.models import ModelSpec


def tabular() -> ModuleType:
    """``ml/steps/tabular.py`` as the steps import it."""
    steps = str(contract.STEPS_DIR)
    if steps not in sys.path:
        sys.path.insert(0, steps)
    return importlib.import_module("tabular")


def schema(spec: ModelSpec) -> Any:
    """The steps' ``Schema`` of a model, from its schema document."""
    return _schema(spec.name, spec.schema.document_bytes(spec.name))


@functools.lru_cache(maxsize=32)
def _schema(model: str, document: bytes) -> Any:
    import json

    return tabular().schema_from_document(json.loads(document), f"the {model} model's schema")


def schema_bytes(spec: ModelSpec) -> bytes:
    """The document a step reads from ``{base}/input/schema/schema.json``."""
    return spec.schema.document_bytes(spec.name)
