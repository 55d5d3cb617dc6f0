"""Local stand-in for the SageMaker built-in XGBoost algorithm (contract.XGBOOST_FRAMEWORK_VERSION).

It reads the hyperparameters the way the algorithm does: ``num_round`` is the number of boosting
rounds, ``early_stopping_rounds`` watches the validation channel, ``eval_metric`` may be a
comma-separated list, every other key goes to ``xgboost.train`` as a parameter. Channels are CSV
with the label first and no header. The result is ``model.tar.gz`` holding ``xgboost-model`` in
the UBJSON format the 3.x algorithm writes (``Booster.save_model`` without a file extension), so
the evaluate step loads a local model and a SageMaker one the same way.
"""
from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from ml import contract

MODEL_ARCHIVE = "model.tar.gz"
MODEL_MEMBER = "xgboost-model"
# Algorithm-mode switches with no local equivalent; refused rather than silently ignored.
_UNSUPPORTED = ("_kfold", "_num_cv_round", "_tuning_objective_metric", "csv_weights",
                "save_model_on_termination")


def booster_params(hyperparameters: dict[str, str]) -> tuple[dict, int, int | None]:
    """Split SageMaker-style hyperparameters into (xgboost params, rounds, early stopping)."""
    params: dict[str, Any] = dict(hyperparameters)  # eval_metric may become a list
    if "num_round" not in params:
        raise ValueError("hyperparameters need 'num_round' (the built-in algorithm requires it)")
    unsupported = sorted(set(params) & set(_UNSUPPORTED))
    if unsupported:
        raise ValueError(f"hyperparameters {unsupported} are not supported by the local stand-in; "
                         "remove them from the model's hyperparameters (Pulumi.yaml)")
    rounds = int(params.pop("num_round"))
    if rounds < 1:
        raise ValueError(f"num_round must be at least 1, got {rounds}")
    early = params.pop("early_stopping_rounds", None)
    if "eval_metric" in params and "," in str(params["eval_metric"]):
        params["eval_metric"] = [m.strip() for m in str(params["eval_metric"]).split(",")]
    return params, rounds, int(early) if early is not None else None


def read_channel(path: str | Path) -> xgb.DMatrix:
    """A CSV channel (label first, no header) as a DMatrix."""
    data = pd.read_csv(path, header=None).to_numpy(dtype=np.float32)
    if data.ndim != 2 or data.shape[1] < 2:
        raise ValueError(f"{path}: expected a label column followed by features")
    return xgb.DMatrix(data[:, 1:], label=data[:, 0])


def train_booster(train_csv: str | Path, validation_csv: str | Path | None = None,
                  hyperparameters: dict[str, str] | None = None) -> xgb.Booster:
    """Train as the built-in algorithm would on these channels, with the model's hyperparameters
    (``ModelSpec.hyperparameters``; None: the mammography model's, ``contract.XGB_HYPERPARAMETERS``)."""
    params, rounds, early = booster_params(
        contract.XGB_HYPERPARAMETERS if hyperparameters is None else hyperparameters)
    dtrain = read_channel(train_csv)
    evals = [(dtrain, "train")]
    if validation_csv is not None:
        evals.append((read_channel(validation_csv), "validation"))
    elif early is not None:
        raise ValueError("early_stopping_rounds needs a validation channel")
    return xgb.train(params, dtrain, num_boost_round=rounds, evals=evals,
                     early_stopping_rounds=early, verbose_eval=False)


def model_archive_bytes(booster: xgb.Booster) -> bytes:
    """model.tar.gz bytes with a single ``xgboost-model`` member; identical for identical models."""
    model = bytes(booster.save_raw(raw_format="ubj"))
    buffer = io.BytesIO()
    # Fixed mtimes, owner and mode so the archive's bytes depend on the model only.
    with (gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
          tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar):
        info = tarfile.TarInfo(MODEL_MEMBER)
        info.size, info.mtime, info.mode = len(model), 0, 0o644
        tar.addfile(info, io.BytesIO(model))
    return buffer.getvalue()


def train(train_csv: str | Path, validation_csv: str | Path | None, out_dir: str | Path,
          hyperparameters: dict[str, str] | None = None) -> Path:
    """Train and write ``out_dir/model.tar.gz``; returns its path."""
    booster = train_booster(train_csv, validation_csv, hyperparameters)
    out = Path(out_dir) / MODEL_ARCHIVE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(model_archive_bytes(booster))
    return out
