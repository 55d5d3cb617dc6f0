"""``python -m ml local``: the training and inference pipelines, end to end, on this machine.

The same step scripts the pipelines run in AWS, laid out as the processing jobs see them
(``<step>/input/...`` copied in, ``<step>/output/...`` written), with ``ml.local_xgboost`` standing in
for the built-in XGBoost algorithm:

1. derive the data sets (``ml.datasets``) from the shipped file;
2. for the model with BI-RADS and without it: preprocess -> train -> evaluate;
3. the BI-RADS-alone AUC on the same test split (the radiologists' own ranking);
4. for the clean batch and each drifted batch: prepare_batch -> predictions with the BI-RADS
   model (what batch transform returns) -> drift check against the model's reference.

Writes ``<out>/summary.json`` (AUCs, metrics, drift verdicts; no timings, so it is
reproducible) and prints progress lines and a summary table. The data file is read and checked
first, with the pipeline's own reader and rules; the run is built in a staging directory and
moved into ``<out>`` at the end, replacing only what an earlier run wrote (``ml.output_dir``).
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from ml import contract, datasets, local_xgboost, output_dir
from ml.steps import drift_check, evaluate, prepare_batch, preprocess

DEFAULT_OUT = Path("out/local")
VARIANTS = {"with_birads": False, "without_birads": True}


def _copy_in(source: Path, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, directory / source.name)


def train_variant(root: Path, train_file: Path, without_birads: bool) -> dict:
    """Preprocess -> train -> evaluate under ``root``; returns paths and the evaluation."""
    pre = root / "preprocess"
    _copy_in(train_file, pre / preprocess.INPUT_DIRS["data"])
    preprocess.run(pre, without_birads=without_birads, validation_share=0.15, test_share=0.15,
                   seed=preprocess.DEFAULT_SEED)
    split = {name: pre / preprocess.OUTPUT_DIRS[name] / preprocess.OUTPUT_FILES[name]
             for name in preprocess.OUTPUT_DIRS}
    model = local_xgboost.train(split["train"], split["validation"], root / "train")
    ev = root / "evaluate"
    _copy_in(model, ev / evaluate.INPUT_DIRS["model"])
    _copy_in(split["test"], ev / evaluate.INPUT_DIRS["test"])
    report = evaluate.run(ev)
    return {"model": model, "report": report, **split}


def birads_only_auc(test_csv: Path) -> float:
    """AUC of the BI-RADS assessment itself as the score (first feature of the test split)."""
    test = pd.read_csv(test_csv, header=None)
    return float(roc_auc_score(test.iloc[:, 0], test.iloc[:, 1]))


def score_batch(root: Path, batch_file: Path, imputation: Path, model: Path,
                reference: Path) -> dict:
    """prepare_batch -> predictions -> drift check for one batch under ``root``."""
    prep = root / "prepare"
    _copy_in(batch_file, prep / prepare_batch.INPUT_DIRS["batch"])
    _copy_in(imputation, prep / prepare_batch.INPUT_DIRS["imputation"])
    prepare_batch.run(prep)
    ready = prep / prepare_batch.OUTPUT_DIRS["batch"] / prepare_batch.OUTPUT_FILE
    features = pd.read_csv(ready, header=None).to_numpy(dtype=np.float32)
    probabilities = evaluate.load_booster(model).predict(xgb.DMatrix(features))
    # One probability per line, in input order: what batch transform writes for this model.
    np.savetxt(root / "predictions.csv", probabilities, fmt="%.6f")
    verdict = drift_check.check_drift(drift_check.load_input(reference),
                                      drift_check.load_input(batch_file))
    drift_check.write_reports(verdict, root / "drift")
    return {
        "rows": int(len(probabilities)),
        "mean_probability": round(float(probabilities.mean()), 4),
        "predicted_malignant": int((probabilities >= evaluate.THRESHOLD).sum()),
        "verdict": verdict["verdict"],
        "drift_detected": bool(verdict["drift_detected"]),
        "drifted_features": list(verdict["drifted_features"]),
    }


def _table(summary: dict) -> str:
    auc = summary["auc"]
    lines = ["", "Model (test split)        AUC", "-" * 32]
    lines += [f"{name:<25} {value:.3f}" for name, value in auc.items()]
    lines += ["", f"{'Batch':<26} {'rows':>5} {'mean p':>7} {'drift verdict':>17}  drifted features",
              "-" * 83]
    for name, batch in summary["batches"].items():
        feats = ", ".join(batch["drifted_features"]) or "-"
        lines.append(f"{name:<26} {batch['rows']:>5} {batch['mean_probability']:>7.3f} "
                     f"{batch['verdict']:>17}  {feats}")
    return "\n".join(lines)


def run_local(out: Path = DEFAULT_OUT, data: Path = contract.DATA_FILE,
              log: Callable[[str], None] = print) -> dict:
    """Run everything and move it into ``out``; returns the summary also written to summary.json.

    Raises ValueError or FileNotFoundError (bad ``data``) and output_dir.OutputDirError (an
    ``out`` that cannot be used) before any work, each naming the path and the fix.
    """
    datasets.read_raw(data, labelled=True)  # the whole file checked before anything is written
    owned = output_dir.claim(Path(out))
    with output_dir.staging(owned) as staged:
        summary = _run(staged, data, log)
        output_dir.publish(owned, staged)
    log(_table(summary))
    log(f"\nwrote {owned.path / 'summary.json'}")
    return summary


def _run(out: Path, data: Path, log: Callable[[str], None]) -> dict:
    start = time.perf_counter()
    step = iter(range(1, 6))

    def progress(message: str) -> None:
        log(f"[{next(step)}/5 {time.perf_counter() - start:5.1f}s] {message}")

    progress(f"deriving data sets from {data}")
    files = datasets.write_datasets(out / "datasets", source=data)
    variants = {}
    for name, without in VARIANTS.items():
        progress(f"preprocess -> train -> evaluate ({name.replace('_', ' ')})")
        variants[name] = train_variant(out / name, files["initial_train"], without)
    progress("BI-RADS-alone AUC on the same test split")
    auc = {name: round(v["report"]["binary_classification_metrics"]["auc"]["value"], 4)
           for name, v in variants.items()}
    auc["birads_only"] = round(birads_only_auc(variants["with_birads"]["test"]), 4)
    progress("prepare_batch -> predict -> drift check for each batch")
    chosen = variants["with_birads"]
    batches = {name: score_batch(out / "batches" / name, files[name], chosen["imputation"],
                                 chosen["model"], chosen["reference"])
               for name in datasets.BATCHES}
    metrics = {name: {k: round(m[k]["value"], 4) for k in ("accuracy", "precision", "recall", "f1")}
               for name, v in variants.items()
               for m in [v["report"]["binary_classification_metrics"]]}
    summary = {
        "auc": auc,
        "metrics": metrics,
        "drift": {name: b["drift_detected"] for name, b in batches.items()},
        "batches": batches,
        "hyperparameters": dict(contract.XGB_HYPERPARAMETERS),
        "datasets": {name: path.name for name, path in files.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
