"""Prepare-batch step: a model's raw inference batch -> the model-ready CSV for batch transform.

Runs alone in the SageMaker scikit-learn image (stdlib, numpy, pandas, and the steps' shared
library ``tabular``, shipped beside it).

Inputs  ``{base}/input/schema/schema.json``  the model's schema document.
        ``{base}/input/batch/``        every file under it (``tabular.list_input_files``), each
                                        with every column of the schema or all but the label
                                        (which is checked, then ignored).
        ``{base}/input/imputation/imputation.json``  written by the preprocess step of the
                                        model being used: its features and fitted values.
Outputs ``{base}/output/batch/batch.csv``  the model's features in the imputation's column order,
                                        no header, no label, no missing values, one row per input
                                        row in input order (batch transform keeps that order).

The same rules as preprocess apply (``tabular``: aliases, domains, text values as their position
in the domain; a bad value is an error naming the file, line and column), so a row is prepared
for inference exactly as it would have been prepared for training.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _library_path() -> list[str]:
    """This script's directory (ml/steps, run locally) and the job's shared-library input under
    --base-dir (contract.STEP_LIBRARY_INPUT_DIR): where ``import tabular`` finds the library."""
    argv = sys.argv[1:]
    base = next((value for flag, value in zip(argv, argv[1:], strict=False) if flag == "--base-dir"),
                next((a.split("=", 1)[1] for a in argv if a.startswith("--base-dir=")), "/opt/ml/processing"))
    return [str(Path(__file__).resolve().parent), str(Path(base) / "input" / "lib")]


sys.path[:0] = [p for p in _library_path() if p not in sys.path]
import pandas as pd  # noqa: E402
import tabular  # noqa: E402

DEFAULT_BASE_DIR = "/opt/ml/processing"
INPUT_DIRS = {"batch": "input/batch", "imputation": "input/imputation",
              "schema": tabular.SCHEMA_INPUT_DIR, "lib": tabular.LIBRARY_INPUT_DIR}
OUTPUT_DIRS = {"batch": "output/batch"}
IMPUTATION_FILE = "imputation.json"
OUTPUT_FILE = "batch.csv"


def read_batch_file(path: Path, schema: tabular.Schema) -> pd.DataFrame:
    """One raw batch file, validated and encoded as for training (``tabular.read_file``)."""
    return tabular.read_file(path, schema)


def load_imputation(path: Path, schema: tabular.Schema) -> dict:
    """Read and check imputation.json against the schema: its features, a number for each, and
    text values encoded as they were in training."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: missing; pass the imputation.json written by the model's preprocess step"
        )
    imputation = json.loads(path.read_text())
    features = imputation.get("features")
    values = imputation.get("values", {})
    if not features or any(f not in schema.feature_names for f in features):
        raise ValueError(f"{path}: 'features' must list some of model {schema.model!r}'s features "
                         f"{list(schema.feature_names)}, got {features!r}")
    missing = [f for f in features if not tabular.is_number(values.get(f))]
    if missing:
        raise ValueError(f"{path}: no numeric imputation value for {missing}")
    for name, trained in imputation.get("encodings", {}).items():
        now = list(schema.column(name).domain_text)
        if now[:len(trained)] != trained:
            raise ValueError(f"{path}: {name} was trained with its values in the order {trained}, the schema "
                             f"now lists {now}; keep existing values in place (append new ones) or retrain")
    return imputation


def prepare(frame: pd.DataFrame, imputation: dict) -> pd.DataFrame:
    """Model-ready features: imputation's column order, missing values filled."""
    return frame[imputation["features"]].fillna(value=imputation["values"])


def run(base_dir: Path) -> dict:
    """Run the step under ``base_dir``; returns a small summary."""
    base_dir = Path(base_dir)
    schema = tabular.load_schema(tabular.schema_path(base_dir))
    imputation = load_imputation(base_dir / INPUT_DIRS["imputation"] / IMPUTATION_FILE, schema)
    batch = tabular.read_inputs(base_dir / INPUT_DIRS["batch"], schema)
    ready = prepare(batch, imputation)
    tabular.write_model_csv(ready, base_dir / OUTPUT_DIRS["batch"] / OUTPUT_FILE)
    return {
        "model": schema.model,
        "rows": int(len(ready)),
        "features": list(imputation["features"]),
        "missing_imputed": int(batch[imputation["features"]].isna().sum().sum()),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python prepare_batch.py [--base-dir DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", type=Path, default=Path(DEFAULT_BASE_DIR))
    args = parser.parse_args(argv)
    try:
        summary = run(args.base_dir)
    except (ValueError, FileNotFoundError) as error:  # JSONDecodeError is a ValueError
        print(f"prepare_batch: error: {error}", file=sys.stderr)
        return 2
    print("prepare_batch: " + json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
