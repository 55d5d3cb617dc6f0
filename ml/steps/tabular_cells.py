"""Cells to values, vectorised, for one column at a time (part of the steps' shared library).

``text_values`` turns text cells into encoded floats (NaN = missing) with a problem code per cell;
``domain_problems`` checks encoded floats against the column's domain; ``message`` says what is
wrong with one cell and how to fix it. Readers find the first problem with these and only then
look at that one cell's text, so a clean file never pays for the messages.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from tabular_schema import Column

# Problem codes, per cell (0: fine). Parsing problems first, then domain problems.
OK, EMPTY, NOT_NUMBER, NOT_FINITE, NOT_WHOLE, OUT_OF_RANGE, NOT_ALLOWED, NO_LABEL = range(8)
PARSE_PROBLEMS = (EMPTY, NOT_NUMBER, NOT_FINITE)


def numeric_aliases(column: Column) -> dict[float, float]:
    """Aliases whose text is a number, by value: ``55`` -> 5 also catches ``55.0``."""
    if column.text_valued:
        return {}
    found = {}
    for text, value in column.aliases.items():
        key = _number(text)
        if key is not None and np.isfinite(key):
            found[key] = float(value)  # type: ignore[arg-type]
    return found


def parses_as_number(column: Column) -> bool:
    """Whether a float parser reads this column (numeric values and only numeric alias texts)."""
    return not column.text_valued and len(numeric_aliases(column)) == len(column.aliases)


def text_values(cells: pd.Series, column: Column, missing: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(encoded values, problem codes) of text cells; NaN cells and missing tokens are missing.

    Cells are stripped, then read: text-valued columns give the value's position in the domain
    after aliases (-1 for a value outside it: a domain problem, not a parsing one); others a
    number, with aliases whose text is not a number applied first. Aliases whose text is a
    number are applied by value afterwards (``apply_numeric_aliases``), as for a column a float
    parser read, so both paths agree.
    """
    absent = cells.isna().to_numpy()
    text = cells.astype(object).where(~absent, "").astype(str).str.strip()
    is_missing = absent | text.isin(missing).to_numpy()
    is_empty = ~is_missing & (text == "").to_numpy()
    problems = np.zeros(len(text), dtype=np.int8)
    if column.text_valued:
        if column.aliases:
            text = text.replace({k: str(v) for k, v in column.aliases.items()})
        codes = pd.Categorical(text, categories=list(column.domain_text)).codes.astype(float)
        problems[is_empty] = EMPTY
        return np.where(is_missing, np.nan, codes), problems
    by_value = numeric_aliases(column)
    by_text = {k: str(v) for k, v in column.aliases.items() if k not in _alias_texts(by_value, column)}
    aliased = text.replace(by_text) if by_text else text
    values = pd.to_numeric(aliased.where(~is_missing), errors="coerce").to_numpy(dtype=float, copy=True)
    bad = ~is_missing & ~np.isfinite(values)
    problems[bad & np.isnan(values)] = NOT_NUMBER
    problems[bad & np.isinf(values)] = NOT_FINITE
    problems[bad & is_empty] = EMPTY
    values[bad] = np.nan
    return values, problems


def _alias_texts(by_value: dict[float, float], column: Column) -> set[str]:
    return {k for k in column.aliases if _number(k) in by_value}


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def apply_numeric_aliases(values: np.ndarray, column: Column) -> np.ndarray:
    """``values`` with numeric alias keys replaced by what they stand for (a copy if any)."""
    aliases = numeric_aliases(column)
    if not aliases:
        return values
    out = values.copy()
    for key, value in aliases.items():
        out[values == key] = value
    return out


def domain_problems(values: np.ndarray, column: Column) -> np.ndarray:
    """Problem code per encoded value: NOT_WHOLE, OUT_OF_RANGE, NOT_ALLOWED or OK (missing is OK)."""
    problems = np.zeros(len(values), dtype=np.int8)
    present = ~np.isnan(values)
    if column.categorical:
        problems[present & ~np.isin(values, column.allowed)] = NOT_ALLOWED
        return problems
    low, high = column.domain
    problems[present & ((values < low) | (values > high))] = OUT_OF_RANGE
    if column.integer:
        problems[present & (values != np.round(values))] = NOT_WHOLE
    return problems


def message(code: int, cell: str, column: Column, missing: tuple[str, ...]) -> str:
    """What is wrong with one cell, and the fix."""
    token = f"'{missing[0]}'" if missing else "a value (this model allows no missing values)"
    if code == EMPTY:
        return f"empty; write a value, or {token} for a missing value"
    if code == NOT_NUMBER and column.categorical:
        return f"{cell!r} is not one of the allowed values {column.describe_domain()}, or {token} for a missing value"
    if code == NOT_NUMBER:
        return f"{cell!r} is not a number; use digits, or {token} for a missing value"
    if code == NOT_FINITE:
        return f"{cell!r} is not a finite number; use {token} for a missing value"
    if code == NOT_WHOLE:
        return f"{cell!r} is not a whole number ({column.name} holds whole numbers {column.describe_domain()})"
    if code == OUT_OF_RANGE:
        return f"{cell} is outside the allowed range {column.describe_domain()}; fix or drop that row"
    if code == NOT_ALLOWED:
        return f"{cell!r} is not one of the allowed values {column.describe_domain()}; fix or drop that row"
    return f"missing; a training row needs its {column.name} ({column.describe_domain()})"
