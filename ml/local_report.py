"""What ``python -m ml local`` reports per model: the summary (``summary.json``) and its table."""
from __future__ import annotations

from pathlib import Path

from ml.models import ModelSpec

METRICS = ("accuracy", "precision", "recall", "f1")
# Drifted features named per batch in the table (summary.json lists them all).
SHOWN = 5


def summary(spec: ModelSpec, auc: dict[str, float], trained: dict[str, dict], batches: dict[str, dict],
            files: dict[str, Path]) -> dict:
    """The reproducible summary of one model's run (no timings)."""
    metrics = {name: {k: round(m[k]["value"], 4) for k in METRICS}
               for name, t in trained.items()
               for m in [t["report"]["binary_classification_metrics"]]}
    return {
        "model": spec.name,
        "auc": auc,
        "metrics": metrics,
        "drift": {name: b["drift_detected"] for name, b in batches.items()},
        "batches": batches,
        "hyperparameters": dict(spec.hyperparameters),
        "datasets": {name: path.name for name, path in files.items()},
    }


def table(model: str, result: dict) -> str:
    """AUCs and batch verdicts of one model, as printed at the end of a run."""
    auc = result["auc"]
    lines = ["", f"{model}: model (test split)".ljust(32) + "AUC", "-" * 38]
    lines += [f"{name:<31} {value:.3f}" for name, value in auc.items()]
    width = max([26, *(len(n) + 1 for n in result["batches"])])
    lines += ["", f"{'Batch':<{width}} {'rows':>5} {'mean p':>7} {'drift verdict':>17}  drifted features",
              "-" * (width + 57)]
    for name, batch in result["batches"].items():
        found = batch["drifted_features"]
        feats = ", ".join(found[:SHOWN]) + (f" and {len(found) - SHOWN} more" if len(found) > SHOWN else "") or "-"
        lines.append(f"{name:<{width}} {batch['rows']:>5} {batch['mean_probability']:>7.3f} "
                     f"{batch['verdict']:>17}  {feats}")
    return "\n".join(lines)
