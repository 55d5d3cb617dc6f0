"""Preprocess step: raw UCI Mammographic Mass data -> XGBoost train/validation/test CSVs.

Runs alone in the SageMaker scikit-learn image (stdlib, numpy, pandas, scikit-learn only).

Inputs  ``{base}/input/data/``        every file under it, sub-folders included, hidden ones
                                      (a name starting with ``.``) skipped, in the order S3 lists
                                      their keys; raw UCI layout (no header, ``?`` missing,
                                      6 columns with Severity last).
Outputs ``{base}/output/train/train.csv``, ``validation/validation.csv``, ``test/test.csv``:
                                      label first, no header, no missing values (built-in XGBoost
                                      CSV format).
        ``{base}/output/imputation/imputation.json``: the features, in column order, and the
                                      imputation values fitted on the training split only.
        ``{base}/output/reference/reference.data``: the training split's raw features (missing
                                      kept as ``?``, raw UCI layout, 5 columns): the drift baseline.

Data quirks, decided here:
- BI-RADS 55 (one row) is a typo for 5 and is mapped to 5.
- BI-RADS 0 (incomplete, needs more imaging) and 6 (known biopsy-proven malignancy) are real
  BI-RADS categories outside UCI's documented 1-5: kept as they are.
- ``?`` is missing. Rows are split FIRST (stratified by Severity, seeded), then the imputation is
  fitted on the training split only (median Age, most frequent value of each categorical column,
  smallest value on ties) and applied to all three splits, so nothing about validation or test
  leaks into training.
- Any other value outside the documented domains is an error that names the file and line.
- Duplicate rows are kept: they are genuine cases.

``--without-birads`` leaves the radiologists' BI-RADS assessment out of the model's features
(UCI marks it non-predictive); the drift reference keeps all five raw features either way.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

# Restated from ml/contract.py (this file cannot import ml); a test checks they agree.
FEATURES = ("BI-RADS", "Age", "Shape", "Margin", "Density")
LABEL = "Severity"
RAW_COLUMNS = FEATURES + (LABEL,)
NUMERIC_FEATURES = ("Age",)

# Allowed values after the typo fix. Age has no documented range: a plausible human one.
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
INPUT_DIRS = {"data": "input/data"}
OUTPUT_DIRS = {
    "train": "output/train",
    "validation": "output/validation",
    "test": "output/test",
    "imputation": "output/imputation",
    "reference": "output/reference",
}
OUTPUT_FILES = {
    "train": "train.csv",
    "validation": "validation.csv",
    "test": "test.csv",
    "imputation": "imputation.json",
    "reference": "reference.data",
}
DEFAULT_SEED = 42


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


def read_raw_file(path: Path, require_label: bool, fix_typos: bool = True) -> pd.DataFrame:
    """Parse one raw UCI file into float columns (NaN = missing), validated.

    Typos (BI-RADS 55) are accepted as the value they stand for; ``fix_typos=False`` keeps the
    value as written (``ml.datasets`` derives data sets that keep the file's quirks).
    """
    text = read_table(path)
    allowed = (len(RAW_COLUMNS),) if require_label else (len(FEATURES), len(RAW_COLUMNS))
    if text.shape[1] not in allowed:
        raise ValueError(
            f"{path}: {text.shape[1]} columns, expected {' or '.join(map(str, allowed))} "
            f"({', '.join(RAW_COLUMNS)}; no header, '?' for missing)"
        )
    text.columns = list(RAW_COLUMNS[: text.shape[1]])
    frame = pd.DataFrame(index=text.index)
    for column in text.columns:
        cells = text[column]
        values = pd.to_numeric(cells.where(cells != "?"), errors="coerce")
        bad = values.isna() & (cells != "?")
        bad |= values.notna() & (values != values.round())
        if bad.any():
            row = int(bad.idxmax())
            problem = (f"{cells[row]!r} is not an integer or '?'" if cells[row] else
                       "empty; every row needs the same comma-separated fields, '?' for missing")
            raise ValueError(f"{path}: line {row + 1}, column {column}: {problem}")
        fixed = values.replace(BIRADS_TYPOS) if column == "BI-RADS" else values
        outside = fixed.notna() & ~fixed.isin(DOMAINS[column])
        if outside.any():
            row = int(outside.idxmax())
            raise ValueError(
                f"{path}: line {row + 1}, column {column}: {cells[row]} is outside the allowed "
                f"values {min(DOMAINS[column])}..{max(DOMAINS[column])}; fix or drop that row"
            )
        frame[column] = (fixed if fix_typos else values).astype(float)
    if require_label and frame[LABEL].isna().any():
        row = int(frame[LABEL].isna().idxmax())
        raise ValueError(f"{path}: line {row + 1}: Severity is missing; training rows need a label")
    return frame


def read_input_dir(directory: Path) -> pd.DataFrame:
    """Read and concatenate every raw file under ``directory`` (see list_input_files)."""
    files = list_input_files(directory)
    if not files:
        raise FileNotFoundError(f"{directory}: no data files; put raw UCI files there")
    return pd.concat([read_raw_file(p, require_label=True) for p in files], ignore_index=True)


def fit_imputation(train: pd.DataFrame, features: tuple[str, ...]) -> dict:
    """Imputation values from the training split only: median for numeric, mode otherwise."""
    values: dict[str, float | int] = {}
    for column in features:
        observed = train[column].dropna()
        if observed.empty:
            raise ValueError(f"column {column} has no observed value in the training split")
        if column in NUMERIC_FEATURES:
            values[column] = float(observed.median())
        else:
            counts = observed.value_counts()
            values[column] = int(min(counts[counts == counts.max()].index))
    return {
        "features": list(features),
        "values": values,
        "strategy": {c: "median" if c in NUMERIC_FEATURES else "most_frequent" for c in features},
        "birads_typos": {str(k): v for k, v in BIRADS_TYPOS.items()},
        "fitted_on_rows": int(len(train)),
    }


def apply_imputation(frame: pd.DataFrame, imputation: dict) -> pd.DataFrame:
    """The model-ready features (imputation's column order, no missing values)."""
    features = imputation["features"]
    return frame[features].fillna(value=imputation["values"])


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """No header, no index, integers without a decimal point: the built-in XGBoost CSV format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, header=False, index=False, float_format="%.10g", lineterminator="\n")


def write_raw(frame: pd.DataFrame, path: Path) -> None:
    """Raw UCI layout: integers, ``?`` for missing, CRLF like the original file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.astype("Int64").to_csv(
        path, header=False, index=False, na_rep="?", lineterminator="\r\n"
    )


def split(data: pd.DataFrame, validation_share: float, test_share: float, seed: int):
    """Stratified, seeded train/validation/test split (before any fitting)."""
    if not (0 < validation_share < 1 and 0 < test_share < 1 and validation_share + test_share < 1):
        raise ValueError(
            f"validation share {validation_share} and test share {test_share} must be in (0, 1) "
            "and sum to less than 1"
        )
    rest, test = train_test_split(
        data, test_size=test_share, stratify=data[LABEL], random_state=seed
    )
    train, validation = train_test_split(
        rest,
        test_size=validation_share / (1 - test_share),
        stratify=rest[LABEL],
        random_state=seed,
    )
    return train.sort_index(), validation.sort_index(), test.sort_index()


def run(base_dir: Path, without_birads: bool, validation_share: float, test_share: float,
        seed: int) -> dict:
    """Run the step under ``base_dir``; returns a small summary (also printed by main)."""
    data = read_input_dir(base_dir / INPUT_DIRS["data"])
    train, validation, test = split(data, validation_share, test_share, seed)
    features = tuple(f for f in FEATURES if not (without_birads and f == "BI-RADS"))
    imputation = fit_imputation(train, features)
    for name, part in (("train", train), ("validation", validation), ("test", test)):
        model_ready = apply_imputation(part, imputation)
        model_ready.insert(0, LABEL, part[LABEL].astype(int))
        write_csv(model_ready, base_dir / OUTPUT_DIRS[name] / OUTPUT_FILES[name])
    imputation_path = base_dir / OUTPUT_DIRS["imputation"] / OUTPUT_FILES["imputation"]
    imputation_path.parent.mkdir(parents=True, exist_ok=True)
    imputation_path.write_text(json.dumps(imputation, indent=2, sort_keys=True) + "\n")
    reference_path = base_dir / OUTPUT_DIRS["reference"] / OUTPUT_FILES["reference"]
    write_raw(train[list(FEATURES)], reference_path)
    return {
        "rows": int(len(data)),
        "train": int(len(train)),
        "validation": int(len(validation)),
        "test": int(len(test)),
        "missing_imputed": int(data[list(features)].isna().sum().sum()),
        "features": list(features),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python preprocess.py [--base-dir DIR] [--without-birads] ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", type=Path, default=Path(DEFAULT_BASE_DIR))
    parser.add_argument("--without-birads", action="store_true",
                        help="leave the radiologists' BI-RADS assessment out of the features")
    parser.add_argument("--validation-share", type=float, default=0.15)
    parser.add_argument("--test-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        summary = run(args.base_dir, args.without_birads, args.validation_share,
                      args.test_share, args.seed)
    except (ValueError, FileNotFoundError) as error:
        print(f"preprocess: error: {error}", file=sys.stderr)
        return 2
    print("preprocess: " + json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
