"""The drift check's reports: drift_report.json for the pipeline, drift_report.md for people
(part of the steps' shared library; standard library only)."""
from __future__ import annotations

import json
from pathlib import Path

from drift_stats import TESTS_PER_FEATURE

VERDICT_DRIFT, VERDICT_NO_DRIFT, VERDICT_INSUFFICIENT = "drift", "no_drift", "insufficient_data"
REPORT_JSON = "drift_report.json"
REPORT_MD = "drift_report.md"
HEADLINES = {VERDICT_DRIFT: "DRIFT DETECTED", VERDICT_NO_DRIFT: "no drift detected",
             VERDICT_INSUFFICIENT: "CANNOT JUDGE, too little data"}


def write_reports(result: dict, out_dir: str | Path) -> None:
    """Write drift_report.json (strict JSON, no NaN) and drift_report.md into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_JSON).write_text(json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    (out / REPORT_MD).write_text(markdown(result), encoding="utf-8")


def _cell(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v:.2f}" for k, v in value.items())
    return "n/a" if value is None else f"{value:.4g}"


def markdown(result: dict) -> str:
    """The human-readable report: headline, findings, then one table row per test."""
    lines = [f"# Data drift report: {HEADLINES[result['verdict']]}", ""]
    if result.get("model"):
        lines += [f"Model: {result['model']}", ""]
    lines += [f"Reference rows: {result['reference_rows']}; batch rows: {result['batch_rows']} "
             f"(at least {result['minimum_rows']} each are needed to judge); family-wise alpha "
             f"{result['alpha']} (Bonferroni over {result['planned_tests']} tests, "
             f"{result['per_test_alpha']:.4g} each).", ""]
    if "tests" in result:  # a subset was planned (the live check): say which
        lines += [f"Tests planned: {', '.join(result['tests'])}; not run: "
                  f"{', '.join(t for t in TESTS_PER_FEATURE if t not in result['tests'])}.", ""]
    lines += ["## Findings", ""] + [f"- {r}" for r in result["reasons"] or ["none"]] + [""]
    lines += ["## Tests", "", "| Feature | Check | Test | Reference | Batch | p | adjusted p | Drift |",
              "|---|---|---|---|---|---|---|---|"]
    for column, feature in result["features"].items():
        for name in (n for n in TESTS_PER_FEATURE if n in feature):
            t = feature[name]
            ref, bat = (_cell(t.get(f"{side}_share", t.get(f"{side}_rate", t.get(f"{side}_mean"))))
                        for side in ("reference", "batch"))
            lines.append(f"| {column} | {name} | {t['test']} | {ref} | {bat} | "
                         f"{_cell(t['p_value'])} | {_cell(t['adjusted_p_value'])} | "
                         f"{'yes' if t['drift'] else 'no'} |")
    return "\n".join(lines) + "\n"
