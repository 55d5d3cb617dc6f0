"""Writing encoded values back out (part of the steps' shared library, re-exported by ``tabular``):
the model's raw layout (the drift reference) and the built-in XGBoost CSV format (train,
validation, test and batch CSVs). Both are vectorised: pandas alone formats every float in
Python, about 15 s for a million rows of model-ready CSV.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from tabular_schema import LABEL_KIND, Schema


def write_raw(frame: pd.DataFrame, schema: Schema, path: str | Path) -> Path:
    """Write encoded columns back in the schema's raw layout (file order, its header, its first
    missing token, CRLF like the original UCI file): a file ``read_file`` reads back to the same
    values. Whole numbers are written without a decimal point, other numbers as Python prints them."""
    path = Path(path)
    columns = [c for c in schema.columns if c in frame.columns]
    token = schema.missing[0] if schema.missing else ""
    out = {}
    for name in columns:
        column, values = schema.column(name), frame[name].to_numpy(dtype=float)
        if column.kind == LABEL_KIND:
            texts = np.array(column.domain_text, dtype=object)
            positive = column.domain.index(schema.positive)
            text = np.where(values == 1, texts[positive], texts[1 - positive])
        elif column.text_valued:
            text = np.array((*column.domain_text, token), dtype=object)[np.where(np.isnan(values), -1, values).astype(int)]
        else:
            text = _number_text(values)
        text[np.isnan(values)] = token
        out[name] = text
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(out, columns=columns).to_csv(path, sep=schema.delimiter, header=schema.header, index=False,
                                              quoting=csv.QUOTE_NONE, lineterminator="\r\n")
    return path


def _number_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers as integers (one vectorised conversion), the others as Python prints them."""
    whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 1e15)
    text = np.where(whole, values, 0).astype(np.int64).astype(str).astype(object)
    rest = np.flatnonzero(~whole & ~np.isnan(values))
    text[rest] = [repr(float(v)) for v in values[rest]]
    return text


def write_model_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """No header, no index, integers without a decimal point: the built-in XGBoost CSV format.

    The bytes pandas writes with ``float_format="%.10g"``, without its cost (it formats every
    float in Python: ~15 s for a million rows): whole numbers below 10^10, nearly every value,
    are written as integers, only the others formatted with ``%.10g``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = {position: _csv_column(frame.iloc[:, position].to_numpy()) for position in range(frame.shape[1])}
    pd.DataFrame(columns, index=frame.index).to_csv(path, header=False, index=False, lineterminator="\n")
    return path


def _csv_column(values: np.ndarray) -> np.ndarray:
    """Integers as they are; floats as int64 when all are whole, else as the ``%.10g`` text."""
    if values.dtype.kind in "iu":
        return values
    values = values.astype(float)
    whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 1e10)
    whole &= ~((values == 0) & np.signbit(values))  # -0.0 is written "-0"
    if whole.all():
        return values.astype(np.int64)
    text = np.where(whole, values, 0).astype(np.int64).astype(str).astype(object)
    rest = np.flatnonzero(~whole)
    text[rest] = ["" if np.isnan(v) else f"{v:.10g}" for v in values[rest]]  # float_format="%.10g"
    return text
