"""``python -m ml local``: each model's training and inference pipelines, end to end, on this machine.

The same step scripts the pipelines run in AWS, laid out as the processing jobs see them
(``<step>/input/...`` copied in, the model's schema document at ``<step>/input/schema/schema.json``,
``<step>/output/...`` written), with ``ml.local_xgboost`` standing in for the built-in XGBoost
algorithm and the model's own hyperparameters. For every model (``--model NAME``: that one only),
under ``<out>/<model>/``:

1. derive the data sets (``ml.datasets``) from the model's data file;
2. preprocess -> train -> evaluate with every feature, and, for a model with ``compareWithout``
   (mammography: BI-RADS), without those features too (``--exclude-feature``);
3. the AUC of each compared-without feature alone on the same test split (mammography: the
   radiologists' own ranking);
4. for the clean batch and each drifted batch: prepare_batch -> predictions with the full model
   (what batch transform returns) -> drift check against the model's reference.

Writes ``<out>/<model>/summary.json`` (AUCs, metrics, drift verdicts; no timings, so it is
reproducible) and prints progress lines and a summary table per model. Every data file is read
and checked first, with the pipeline's own reader and rules; the run is built in a staging
directory and moved into ``<out>`` at the end, replacing only what an earlier run of the same
models wrote (``ml.output_dir``).
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from ml import datasets, local_report, local_xgboost, output_dir, step_library
from ml.models import ModelSpec
from ml.steps import drift_check, evaluate, prepare_batch, preprocess

DEFAULT_OUT = Path("out/local")
MAIN_VARIANT = "all_features"


def variants(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    """Variant name -> features left out: the full model first (mammography: with_birads, without_birads)."""
    if not spec.compare_without:
        return {MAIN_VARIANT: ()}
    slugs = "_".join(datasets.slug(name) for name in spec.compare_without)
    return {f"with_{slugs}": (), f"without_{slugs}": spec.compare_without}


def _copy_in(source: Path, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, directory / source.name)


def _stage_schema(spec: ModelSpec, step_dir: Path) -> None:
    """The model's schema document where every step reads it."""
    path = step_dir / preprocess.INPUT_DIRS["schema"] / "schema.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(step_library.schema_bytes(spec))


def train_variant(spec: ModelSpec, root: Path, train_file: Path, exclude: tuple[str, ...]) -> dict:
    """Preprocess -> train -> evaluate under ``root``; returns paths and the evaluation."""
    pre = root / "preprocess"
    _copy_in(train_file, pre / preprocess.INPUT_DIRS["data"])
    _stage_schema(spec, pre)
    preprocess.run(pre, exclude_features=exclude, validation_share=0.15, test_share=0.15,
                   seed=preprocess.DEFAULT_SEED)
    split = {name: pre / preprocess.OUTPUT_DIRS[name] / preprocess.OUTPUT_FILES[name]
             for name in preprocess.OUTPUT_DIRS}
    model = local_xgboost.train(split["train"], split["validation"], root / "train", dict(spec.hyperparameters))
    ev = root / "evaluate"
    _copy_in(model, ev / evaluate.INPUT_DIRS["model"])
    _copy_in(split["test"], ev / evaluate.INPUT_DIRS["test"])
    if "schema" in evaluate.INPUT_DIRS:
        _stage_schema(spec, ev)
    report = evaluate.run(ev)
    return {"model": model, "report": report, **split}


def feature_alone_auc(spec: ModelSpec, test_csv: Path, feature: str) -> float:
    """AUC of one feature's (encoded, imputed) value as the score, on a full model's test split."""
    test = pd.read_csv(test_csv, header=None)
    return float(roc_auc_score(test.iloc[:, 0], test.iloc[:, 1 + spec.schema.feature_names.index(feature)]))


def score_batch(spec: ModelSpec, root: Path, batch_file: Path, trained: dict) -> dict:
    """prepare_batch -> predictions -> drift check for one batch under ``root``."""
    prep = root / "prepare"
    _copy_in(batch_file, prep / prepare_batch.INPUT_DIRS["batch"])
    _copy_in(trained["imputation"], prep / prepare_batch.INPUT_DIRS["imputation"])
    _stage_schema(spec, prep)
    prepare_batch.run(prep)
    ready = prep / prepare_batch.OUTPUT_DIRS["batch"] / prepare_batch.OUTPUT_FILE
    features = pd.read_csv(ready, header=None).to_numpy(dtype=np.float32)
    probabilities = evaluate.load_booster(trained["model"]).predict(xgb.DMatrix(features))
    # One probability per line, in input order: what batch transform writes for this model.
    np.savetxt(root / "predictions.csv", probabilities, fmt="%.6f")
    drift = root / "drift"
    _copy_in(trained["reference"], drift / drift_check.INPUT_DIRS["reference"])
    _copy_in(batch_file, drift / drift_check.INPUT_DIRS["batch"])
    _stage_schema(spec, drift)
    verdict = drift_check.run(drift)
    return {
        "rows": int(len(probabilities)),
        "mean_probability": round(float(probabilities.mean()), 4),
        "predicted_positive": int((probabilities >= evaluate.THRESHOLD).sum()),
        "verdict": verdict["verdict"],
        "drift_detected": bool(verdict["drift_detected"]),
        "drifted_features": list(verdict["drifted_features"]),
    }


def check_data(specs: Sequence[ModelSpec], data: Path | None = None) -> None:
    """Read every model's data file with the pipeline's reader; raises naming the file, line and column."""
    for spec in specs:
        datasets.read_data(spec, data, labelled=True)


def run_local(specs: Sequence[ModelSpec], out: Path = DEFAULT_OUT, data: Path | None = None,
              log: Callable[[str], None] = print) -> dict[str, dict]:
    """Run every model of ``specs`` and move the results into ``out``; returns model -> summary.

    ``data`` replaces the data file of the (single) model. Raises ValueError or FileNotFoundError
    (bad data) and output_dir.OutputDirError (an ``out`` that cannot be used) before any work,
    each naming the path and the fix.
    """
    if data is not None and len(specs) != 1:
        raise ValueError("--data replaces one model's data file: pass --model NAME with it")
    check_data(specs, data)  # every file checked before anything is written
    owned = output_dir.claim(Path(out))
    summaries = {}
    with output_dir.staging(owned) as staged:
        for spec in specs:
            summaries[spec.name] = _run_model(spec, staged / spec.name, data, log)
        output_dir.publish(owned, staged, scope=tuple(spec.name for spec in specs))
    for name, summary in summaries.items():
        log(local_report.table(name, summary))
    log("\nwrote " + ", ".join(str(owned.path / name / "summary.json") for name in summaries))
    return summaries


def _run_model(spec: ModelSpec, out: Path, data: Path | None, log: Callable[[str], None]) -> dict:
    start = time.perf_counter()
    plan = variants(spec)
    total = 2 + len(plan) + (1 if spec.compare_without else 0)
    step = iter(range(1, total + 1))

    def progress(message: str) -> None:
        log(f"[{next(step)}/{total} {time.perf_counter() - start:5.1f}s] {spec.name}: {message}")

    progress(f"deriving data sets from {data or datasets.data_path(spec)}")
    files = datasets.write_datasets(spec, out / "datasets", source=data)
    trained = {}
    for name, exclude in plan.items():
        progress(f"preprocess -> train -> evaluate ({name.replace('_', ' ')})")
        trained[name] = train_variant(spec, out / name, files["initial_train"], exclude)
    auc = {name: round(t["report"]["binary_classification_metrics"]["auc"]["value"], 4)
           for name, t in trained.items()}
    full = trained[next(iter(plan))]
    if spec.compare_without:
        progress(f"{', '.join(spec.compare_without)} alone: AUC on the same test split")
        for feature in spec.compare_without:
            auc[f"{datasets.slug(feature)}_only"] = round(feature_alone_auc(spec, full["test"], feature), 4)
    progress("prepare_batch -> predict -> drift check for each batch")
    batches = {name: score_batch(spec, out / "batches" / name, files[name], full)
               for name in datasets.batch_names(spec)}
    summary = local_report.summary(spec, auc, trained, batches, files)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
