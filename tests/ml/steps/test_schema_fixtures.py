"""The step tests' mammography schema document (tests/ml/steps/fixtures) is the one the platform
ships: written from ml/models.py for the mammography entry of Pulumi.yaml. Main suite only: the
image stages have no PyYAML, which is why they read the checked-in copy."""
from __future__ import annotations

from ml.models import load_project_models
from tests.ml.steps.step_inputs import MAMMOGRAPHY_SCHEMA, tabular


def test_the_mammography_fixture_is_the_document_pulumi_yaml_gives():
    model = next(m for m in load_project_models() if m.name == "mammography")
    assert MAMMOGRAPHY_SCHEMA.read_bytes() == model.schema.document_bytes(model.name), (
        "regenerate tests/ml/steps/fixtures/mammography.schema.json from ml.models")


def test_every_configured_models_document_is_one_the_steps_read():
    for model in load_project_models():
        schema = tabular.schema_from_document(model.schema.document(model.name), model.name)
        assert schema.feature_names == model.schema.feature_names
        assert (schema.label.name, schema.positive) == (model.schema.label.name, model.schema.label.positive)
