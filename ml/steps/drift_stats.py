"""The drift check's tests, planned from the schema (part of the steps' shared library).

Per feature, reference versus batch, on encoded values (``tabular``; NaN = missing):
  * distribution: Kolmogorov-Smirnov for a numeric feature, chi-square of homogeneity for an
    ordinal or nominal one (rare and unseen categories pooled so no cell expects fewer than 5);
  * missing-value rate: Fisher's exact test, two-sided;
  * out-of-domain rate: Fisher's exact test, one-sided (more out-of-domain values in the batch).
Bonferroni over every planned test holds the family-wise false-alarm rate at ``alpha``. A caller
may plan a subset of the three (``tests``): live traffic, for one, arrives imputed, so its
missing-value rate says nothing about drift (ml/steps/drift_check.py ``--tests``); the divisor is
then the number of tests actually planned.
numpy and scipy only: the drift check runs in the scikit-learn image.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tabular_cells as cells
from scipy import stats
from tabular_schema import Column, Schema, plain

TESTS_PER_FEATURE = ("distribution", "missing", "out_of_domain")
FINDINGS = {"distribution": "distribution changed", "missing": "missing-value rate changed",
            "out_of_domain": "more out-of-domain values"}
MIN_EXPECTED = 5.0


def check_tests(tests: Sequence[str]) -> tuple[str, ...]:
    """`tests` in the canonical order (TESTS_PER_FEATURE); ValueError naming what is wrong."""
    if isinstance(tests, str) or not all(isinstance(t, str) for t in tests):
        raise ValueError(f"tests must be a sequence of test names from {', '.join(TESTS_PER_FEATURE)}, got {tests!r}")
    unknown = sorted(set(tests) - set(TESTS_PER_FEATURE))
    if unknown or not tests:
        raise ValueError(f"tests must name at least one of {', '.join(TESTS_PER_FEATURE)}, got "
                         f"{', '.join(unknown) if unknown else 'none'}")
    return tuple(t for t in TESTS_PER_FEATURE if t in tests)


def planned_tests(schema: Schema, tests: Sequence[str] = TESTS_PER_FEATURE) -> int:
    """How many tests the schema plans: the Bonferroni divisor, whatever the batch holds."""
    return len(schema.features) * len(check_tests(tests))


def run_tests(schema: Schema, ref_values: dict, bat_values: dict, alpha: float, reasons: list[str],
              tests: Sequence[str] = TESTS_PER_FEATURE) -> dict:
    """Every feature's planned tests (`tests`, default all three) with Bonferroni-adjusted p-values;
    appends drift findings to reasons. A test not planned is left out of the results.

    A feature the batch lacks is skipped (the schema check has already called that drift).
    """
    planned_names = check_tests(tests)
    planned = planned_tests(schema, planned_names)
    features = {}
    for column in schema.features:
        if column.name not in bat_values:
            continue
        result = feature_tests(column, ref_values[column.name], bat_values[column.name])
        for name in set(TESTS_PER_FEATURE) - set(planned_names):
            del result[name]
        drifted = []
        for name in planned_names:
            test = result[name]
            p_value = test["p_value"]
            test["adjusted_p_value"] = None if p_value is None else min(1.0, p_value * planned)
            test["drift"] = p_value is not None and test["adjusted_p_value"] < alpha
            if test["drift"]:
                drifted.append(name)
                reasons.append(f"{column.name}: {FINDINGS[name]} ({test['test']}, "
                               f"Bonferroni-adjusted p={test['adjusted_p_value']:.3g} < {alpha})")
        features[column.name] = {**result, "drift": bool(drifted), "drifted_tests": drifted}
    return features


def feature_tests(column: Column, ref: np.ndarray, bat: np.ndarray) -> dict:
    """The three tests of one feature (p-values not yet adjusted)."""
    ref_ok, ref_ood = _split_domain(ref, column)
    bat_ok, bat_ood = _split_domain(bat, column)
    ref_missing, bat_missing = int(np.isnan(ref).sum()), int(np.isnan(bat).sum())
    domain = [v if isinstance(v, str) else plain(v) for v in column.domain]  # as configured
    return {
        "kind": "categorical" if column.categorical else "numeric",
        "distribution": _chi_square(column, ref_ok, bat_ok) if column.categorical else _ks(ref_ok, bat_ok),
        "missing": _rate_test(ref_missing, len(ref), bat_missing, len(bat), "two-sided"),
        "out_of_domain": {**_rate_test(ref_ood, len(ref) - ref_missing, bat_ood, len(bat) - bat_missing,
                                       "greater"), "domain": domain},
    }


def _split_domain(values: np.ndarray, column: Column) -> tuple[np.ndarray, int]:
    """Present in-domain values, and how many present values fall outside the domain."""
    present = values[~np.isnan(values)]
    inside = cells.domain_problems(present, column) == cells.OK
    return present[inside], int((~inside).sum())


def _chi_square(column: Column, ref: np.ndarray, bat: np.ndarray) -> dict:
    """Chi-square of homogeneity; categories expecting < MIN_EXPECTED cases are pooled."""
    ref_counts, bat_counts = _counts(column, ref), _counts(column, bat)
    categories = sorted(set(ref_counts) | set(bat_counts))
    n_small, total = min(len(ref), len(bat)), len(ref) + len(bat)
    kept, rare = [], [0, 0]
    for cat in categories:
        cell = [ref_counts.get(cat, 0), bat_counts.get(cat, 0)]
        if n_small * sum(cell) / total >= MIN_EXPECTED:
            kept.append(cell)
        else:
            rare = [rare[0] + cell[0], rare[1] + cell[1]]
    if sum(rare) and n_small:
        if n_small * sum(rare) / total >= MIN_EXPECTED or not kept:
            kept.append(rare)
        else:  # still too sparse alone: fold it into the smallest well-filled category
            smallest = min(range(len(kept)), key=lambda i: sum(kept[i]))
            kept[smallest] = [kept[smallest][0] + rare[0], kept[smallest][1] + rare[1]]
    result = {"test": "chi-square", "bins": len(kept),
              "unseen_categories": [column.report_value(c) for c in categories if c not in ref_counts],
              "reference_share": _shares(column, ref_counts), "batch_share": _shares(column, bat_counts)}
    if len(kept) < 2 or not n_small:
        return {**result, "statistic": None, "p_value": None,
                "note": "fewer than two categories with enough cases to compare"}
    chi2, p_value = stats.chi2_contingency(np.array(kept).T)[:2]
    return {**result, "statistic": float(chi2), "p_value": float(p_value)}


def _counts(column: Column, values: np.ndarray) -> dict[float, int]:
    """Cases per category present, in the categories' numeric order (in-domain values only).

    Counted against the known domain, not by sorting the values: a million-row batch costs
    milliseconds.
    """
    allowed = np.sort(column.allowed)
    span = allowed[-1] - allowed[0]
    if np.all(allowed == np.round(allowed)) and span < 4096:  # whole numbers: one counting pass
        counts = np.bincount((values - allowed[0]).astype(np.intp), minlength=int(span) + 1)
        counts = counts[(allowed - allowed[0]).astype(np.intp)]
    else:
        counts = np.bincount(np.searchsorted(allowed, values), minlength=len(allowed))
    return {float(allowed[i]): int(counts[i]) for i in np.flatnonzero(counts)}


def _shares(column: Column, counts: dict[float, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {column.value_name(k): round(v / total, 4) for k, v in counts.items()}


def _ks(ref: np.ndarray, bat: np.ndarray) -> dict:
    if len(ref) == 0 or len(bat) == 0:
        return {"test": "kolmogorov-smirnov", "reference_mean": None, "batch_mean": None,
                "statistic": None, "p_value": None, "note": "no values to compare"}
    statistic, p_value = stats.ks_2samp(ref, bat)[:2]
    return {"test": "kolmogorov-smirnov", "reference_mean": round(float(ref.mean()), 4),
            "batch_mean": round(float(bat.mean()), 4), "statistic": float(statistic),
            "p_value": float(p_value)}


def _rate_test(ref_hits: int, ref_n: int, bat_hits: int, bat_n: int, alternative: str) -> dict:
    """Fisher's exact test of the batch rate against the reference rate."""
    table = [[bat_hits, bat_n - bat_hits], [ref_hits, ref_n - ref_hits]]
    p_value = float(stats.fisher_exact(table, alternative=alternative)[1]) if ref_n and bat_n else None
    return {"test": f"fisher-exact ({alternative})",
            "reference_rate": round(ref_hits / ref_n, 4) if ref_n else None,
            "batch_rate": round(bat_hits / bat_n, 4) if bat_n else None,
            "batch_count": bat_hits, "p_value": p_value}
