"""ml.local_xgboost: the local stand-in for the built-in XGBoost algorithm."""
from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from ml import contract, local_xgboost


@pytest.fixture
def channels(tmp_path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    features = rng.integers(1, 6, size=(200, 3)).astype(float)
    labels = (features[:, 0] + rng.normal(0, 1, 200) > 3).astype(int)
    rows = np.column_stack([labels, features])
    train, validation = tmp_path / "train.csv", tmp_path / "validation.csv"
    np.savetxt(train, rows[:150], fmt="%g", delimiter=",")
    np.savetxt(validation, rows[150:], fmt="%g", delimiter=",")
    return train, validation


def test_hyperparameters_are_read_as_the_algorithm_reads_them():
    params, rounds, early = local_xgboost.booster_params(
        {"num_round": "7", "eval_metric": "auc,logloss", "max_depth": "2",
         "early_stopping_rounds": "3"})
    assert (rounds, early) == (7, 3)
    assert params == {"eval_metric": ["auc", "logloss"], "max_depth": "2"}
    with pytest.raises(ValueError, match="need 'num_round'"):
        local_xgboost.booster_params({"max_depth": "2"})
    with pytest.raises(ValueError, match="not supported by the local stand-in"):
        local_xgboost.booster_params({"num_round": "5", "_kfold": "5"})


def test_archive_holds_one_ubjson_model_with_num_round_trees(channels, tmp_path):
    archive = local_xgboost.train(*channels, tmp_path / "out")
    with tarfile.open(archive, "r:gz") as tar:
        assert tar.getnames() == ["xgboost-model"]
        raw = tar.extractfile("xgboost-model").read()
    assert raw.startswith(b"{")  # UBJSON, the format Booster.save_model writes in the 3.x image
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    assert booster.num_boosted_rounds() == int(contract.XGB_HYPERPARAMETERS["num_round"])
    assert booster.num_features() == 3


def test_training_is_deterministic(channels, tmp_path):
    first = local_xgboost.train(*channels, tmp_path / "a").read_bytes()
    second = local_xgboost.train(*channels, tmp_path / "b").read_bytes()
    assert first == second
    other = dict(contract.XGB_HYPERPARAMETERS, seed="7")
    assert local_xgboost.train(*channels, tmp_path / "c", other).read_bytes() != first


def test_early_stopping_needs_a_validation_channel(channels):
    with pytest.raises(ValueError, match="needs a validation channel"):
        local_xgboost.train_booster(channels[0], None,
                               dict(contract.XGB_HYPERPARAMETERS, early_stopping_rounds="5"))
