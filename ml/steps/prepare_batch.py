"""Prepare-batch step: a raw inference batch -> the model-ready CSV for batch transform.

Runs alone in the SageMaker scikit-learn image (stdlib, numpy, pandas only).

Inputs  ``{base}/input/batch/``        every file under it, sub-folders included, hidden ones
                                        (a name starting with ``.``) skipped, in the order S3
                                        lists their keys; raw UCI layout (no header, ``?``
                                        missing; 5 feature columns, or 6 with Severity last,
                                        which is ignored).
        ``{base}/input/imputation/imputation.json``  written by the preprocess step of the
                                        model being used: its features and fitted values.
Outputs ``{base}/output/batch/batch.csv``  the model's features in the imputation's column order,
                                        no header, no label, no missing values, one row per input
                                        row in input order (batch transform keeps that order).

The same quirk rules as preprocess apply (BI-RADS 55 -> 5; 0 and 6 kept; anything else outside
the documented domains or not an integer is an error naming the file and line), so a row is
prepared for inference exactly as it would have been prepared for training.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pandas as pd

# Restated from ml/contract.py (this file cannot import ml); a test checks they agree.
FEATURES = ("BI-RADS", "Age", "Shape", "Margin", "Density")
LABEL = "Severity"
RAW_COLUMNS = FEATURES + (LABEL,)

# Same rules as preprocess.py; a test checks both files agree.
DOMAINS = {
    "BI-RADS": frozenset(range(0, 7)),
    "Age": frozenset(range(1, 121)),
    "Shape": frozenset(range(1, 5)),
    "Margin": frozenset(range(1, 6)),
    "Density": frozenset(range(1, 5)),
    "Severity": frozenset((0, 1)),
}
BIRADS_TYPOS = {55: 5}

DEFAULT_BASE_DIR = "/opt/ml/processing"
INPUT_DIRS = {"batch": "input/batch", "imputation": "input/imputation"}
OUTPUT_DIRS = {"batch": "output/batch"}
IMPUTATION_FILE = "imputation.json"
OUTPUT_FILE = "batch.csv"


def list_input_files(directory: Path) -> list[Path]:
    """Every file under ``directory``, sub-folders included, in the order S3 lists their keys.

    Hidden files and folders (a name starting with ``.``) are skipped. The one listing rule of
    every step script (each restates it; a test checks they agree), so data landed under a
    sub-prefix is read by training, batch preparation and the drift check alike.
    """
    if not directory.is_dir():
        return []
    found = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    return [found[key] for key in sorted(found)
            if not any(part.startswith(".") for part in key.split("/"))]


def read_table(path: Path) -> pd.DataFrame:
    """The file as stripped text cells, index = line number - 1, blank lines dropped.

    Every error names the file: an empty, binary or ragged file is refused here, before any
    value is looked at (the same function in preprocess.py and prepare_batch.py; a test checks).
    """
    raw = path.read_bytes()
    try:
        text: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise ValueError(f"{path}: binary, not UTF-8 comma-separated text; pass a raw UCI data file")
    if not text.strip():
        raise ValueError(f"{path}: empty; it holds no data rows")
    try:
        table = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False)
    except pd.errors.ParserError as error:
        raise ValueError(f"{path}: rows differ in their number of fields ({error}); every row "
                         "needs the same comma-separated fields, '?' for missing") from None
    table = table.fillna("").apply(lambda column: column.str.strip())
    return table[(table != "").any(axis=1)]


def read_batch_file(path: Path) -> pd.DataFrame:
    """Parse one raw batch file into float feature columns (NaN = missing), validated."""
    text = read_table(path)
    if text.shape[1] not in (len(FEATURES), len(RAW_COLUMNS)):
        raise ValueError(
            f"{path}: {text.shape[1]} columns, expected 5 features ({', '.join(FEATURES)}) "
            f"and an optional {LABEL}; no header, '?' for missing"
        )
    text.columns = list(RAW_COLUMNS[: text.shape[1]])
    frame = pd.DataFrame(index=text.index)
    for column in FEATURES:
        cells = text[column]
        values = pd.to_numeric(cells.where(cells != "?"), errors="coerce")
        bad = (values.isna() & (cells != "?")) | (values.notna() & (values != values.round()))
        if bad.any():
            row = int(bad.idxmax())
            problem = (f"{cells[row]!r} is not an integer or '?'" if cells[row] else
                       "empty; every row needs the same comma-separated fields, '?' for missing")
            raise ValueError(f"{path}: line {row + 1}, column {column}: {problem}")
        if column == "BI-RADS":
            values = values.replace(BIRADS_TYPOS)
        outside = values.notna() & ~values.isin(DOMAINS[column])
        if outside.any():
            row = int(outside.idxmax())
            raise ValueError(
                f"{path}: line {row + 1}, column {column}: {cells[row]} is outside the allowed "
                f"values {min(DOMAINS[column])}..{max(DOMAINS[column])}; fix or drop that row"
            )
        frame[column] = values.astype(float)
    return frame


def load_imputation(path: Path) -> dict:
    """Read and check imputation.json: known features, a value for each."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: missing; pass the imputation.json written by the model's preprocess step"
        )
    imputation = json.loads(path.read_text())
    features = imputation.get("features")
    values = imputation.get("values", {})
    if not features or any(f not in FEATURES for f in features):
        raise ValueError(f"{path}: 'features' must list some of {FEATURES}, got {features!r}")
    missing = [f for f in features if not isinstance(values.get(f), (int, float))]
    if missing:
        raise ValueError(f"{path}: no numeric imputation value for {missing}")
    return imputation


def prepare(frame: pd.DataFrame, imputation: dict) -> pd.DataFrame:
    """Model-ready features: imputation's column order, missing values filled."""
    return frame[imputation["features"]].fillna(value=imputation["values"])


def run(base_dir: Path) -> dict:
    """Run the step under ``base_dir``; returns a small summary."""
    imputation = load_imputation(base_dir / INPUT_DIRS["imputation"] / IMPUTATION_FILE)
    batch_dir = base_dir / INPUT_DIRS["batch"]
    files = list_input_files(batch_dir)
    if not files:
        raise FileNotFoundError(f"{batch_dir}: no batch files; put raw UCI files there")
    batch = pd.concat([read_batch_file(p) for p in files], ignore_index=True)
    ready = prepare(batch, imputation)
    out = base_dir / OUTPUT_DIRS["batch"] / OUTPUT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    ready.to_csv(out, header=False, index=False, float_format="%.10g", lineterminator="\n")
    return {
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
    except (ValueError, FileNotFoundError, json.JSONDecodeError) as error:
        print(f"prepare_batch: error: {error}", file=sys.stderr)
        return 2
    print("prepare_batch: " + json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
