"""The generated many-model configs the scale tests and the benchmark run (tests/support/many_models.py)."""
from __future__ import annotations

import pytest

from ml.models import ModelDefaults, parse_models
from tests.support.many_models import (
    FIRST_MODEL_KEY,
    MODELS_KEY,
    OVERRIDES_KEY,
    clone_names,
    many_models_config,
    with_models,
)
from tests.support.stacks import stack_config


def stack_defaults(config: dict) -> ModelDefaults:
    """The stack's single-model keys, every model's defaults (as the config loader reads them)."""
    def value(key, convert):
        raw = config.get(f"mlops-platform:{key}")
        return None if raw is None else convert(raw)

    return ModelDefaults(auc_threshold=value("aucThreshold", float), inference_schedule=value("inferenceSchedule", str),
                         retrain_cooldown_minutes=value("retrainCooldownMinutes", int),
                         first_training_run=value("firstTrainingRun", lambda v: str(v).lower() == "true"))


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
@pytest.mark.parametrize("count", [1, 5, 20])
def test_a_config_with_n_models_parses_into_n_models_the_first_model_first(stack, count):
    config, secret_keys = many_models_config(stack, count)
    assert secret_keys == stack_config(stack)[1]
    problems: list[str] = []
    models = parse_models(config[MODELS_KEY], overrides=config.get(OVERRIDES_KEY), defaults=stack_defaults(config),
                          first_model=config[FIRST_MODEL_KEY], stack_role=stack,
                          fail=lambda key, message: problems.append(f"{key}: {message}"))
    assert problems == []
    assert models is not None and len(models) == count
    assert models[0].name == "mammography" and models[0].first
    assert len({m.group_name for m in models}) == count, "every model has its own group"


def test_the_shipped_models_come_first_then_clones_of_mammography():
    config, _ = stack_config("dev")
    shipped = list(config[MODELS_KEY])
    models = with_models(config, len(shipped) + 3)[MODELS_KEY]
    assert list(models)[:len(shipped)] == shipped
    clones = list(models)[len(shipped):]
    assert clones == ["m01", "m02", "m03"]
    template = config[MODELS_KEY]["mammography"]
    for name in clones:
        assert {k: v for k, v in models[name].items() if k != "modelPackageGroupName"} == \
            {k: v for k, v in template.items() if k != "modelPackageGroupName"}
        assert models[name]["modelPackageGroupName"] == f"{template['modelPackageGroupName']}-{name}"


def test_fewer_models_than_shipped_keeps_the_first_and_drops_the_others_overrides():
    config, _ = stack_config("dev")
    config = {**config, OVERRIDES_KEY: {name: {"aucThreshold": 0.9} for name in config[MODELS_KEY]}}
    one = with_models(config, 1)
    assert list(one[MODELS_KEY]) == [config[FIRST_MODEL_KEY]]
    assert list(one[OVERRIDES_KEY]) == [config[FIRST_MODEL_KEY]]
    assert config[MODELS_KEY] != one[MODELS_KEY], "the input config is not changed"


def test_clones_get_the_stack_overrides_of_the_model_they_copy():
    config, _ = stack_config("prod")
    config = {**config, OVERRIDES_KEY: {"mammography": {"aucThreshold": 0.91}}}
    out = with_models(config, 4)
    clones = [name for name in out[MODELS_KEY] if name.startswith("m0")]
    assert clones and all(out[OVERRIDES_KEY][name] == {"aucThreshold": 0.91} for name in clones)


def test_generated_names_skip_taken_ones_and_count_must_be_positive():
    assert clone_names(3, taken={"m02"}) == ["m01", "m03", "m04"]
    config, _ = stack_config("dev")
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="positive"):
            with_models(config, bad)
