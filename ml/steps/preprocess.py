"""Preprocess step: a model's raw labelled data -> XGBoost train/validation/test CSVs.

Runs alone in the SageMaker scikit-learn image (stdlib, numpy, pandas, scikit-learn, and the
steps' shared library ``tabular``, shipped beside it).

Inputs  ``{base}/input/schema/schema.json``  the model's schema document: columns, domains,
                                      missing tokens, aliases, label and positive class.
        ``{base}/input/data/``        every file under it (``tabular.list_input_files``), each
                                      with every column of the schema.
Outputs ``{base}/output/train/train.csv``, ``validation/validation.csv``, ``test/test.csv``:
                                      the label first (1 = positive class), then the model's
                                      features, no header, no missing values (built-in XGBoost
                                      CSV format); text values as their position in the domain.
        ``{base}/output/imputation/imputation.json``: the model's features, in column order, and
                                      the imputation values fitted on the training split only.
        ``{base}/output/reference/reference.data``: the training split's features in the raw
                                      layout (missing values kept; every feature of the schema,
                                      excluded ones too): the drift baseline.

Rules: aliases apply before the domain check (mammography: BI-RADS 55 is a typo for 5); any other
value outside its domain is an error naming the file, line and column. Rows are split FIRST
(stratified by the label, seeded), then the imputation is fitted on the training split only
(median for numeric features, the most frequent value for ordinal and nominal ones, the smallest
on ties) and applied to all three splits, so nothing about validation or test leaks into
training. Duplicate rows are kept: they are genuine cases.

``--exclude-feature NAME`` (repeatable) leaves a feature out of the model (mammography: the
radiologists' BI-RADS assessment, which UCI marks non-predictive); the drift reference keeps it.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
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
from sklearn.model_selection import train_test_split  # noqa: E402

DEFAULT_BASE_DIR = "/opt/ml/processing"
INPUT_DIRS = {"data": "input/data", "schema": tabular.SCHEMA_INPUT_DIR, "lib": tabular.LIBRARY_INPUT_DIR}
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
LABEL_COLUMN = "label"  # the split frames' 1/0 label, whatever the schema calls it


def read_input_dir(directory: Path, schema: tabular.Schema) -> pd.DataFrame:
    """Every labelled raw file under ``directory``, validated and encoded (``tabular.read_inputs``)."""
    return tabular.read_inputs(directory, schema, require_label=True)


def model_features(schema: tabular.Schema, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """The schema's features in order, without ``exclude``; unknown names and excluding all are errors."""
    exclude = tuple(exclude)
    unknown = [name for name in exclude if name not in schema.feature_names]
    if unknown:
        raise ValueError(f"--exclude-feature {', '.join(unknown)}: not a feature of model "
                         f"{schema.model!r}; its features are {', '.join(schema.feature_names)}")
    features = tuple(name for name in schema.feature_names if name not in exclude)
    if not features:
        raise ValueError(f"--exclude-feature leaves model {schema.model!r} no feature; keep at least one")
    return features


def fit_imputation(train: pd.DataFrame, features: tuple[str, ...], schema: tabular.Schema) -> dict:
    """Imputation values from the training split only: median for numeric, most frequent otherwise."""
    values: dict[str, float | int] = {}
    strategy: dict[str, str] = {}
    for name in features:
        observed = train[name].dropna()
        if observed.empty:
            raise ValueError(f"feature {name} has no observed value in the training split; "
                             "give it data or exclude it (--exclude-feature)")
        if schema.column(name).categorical:
            counts = observed.value_counts()
            values[name], strategy[name] = tabular.plain(min(counts[counts == counts.max()].index)), "most_frequent"
        else:
            values[name], strategy[name] = float(observed.median()), "median"
    imputation: dict = {"features": list(features), "values": values, "strategy": strategy,
                        "fitted_on_rows": int(len(train))}
    aliases = {f.name: dict(f.aliases) for f in schema.features if f.aliases}
    if aliases:  # what raw text training read as another value (informational)
        imputation["aliases"] = aliases
    # Text values reach the model as positions: record them, so inference can refuse a reordered domain.
    encodings = {name: list(schema.column(name).domain_text) for name in features if schema.column(name).text_valued}
    if encodings:
        imputation["encodings"] = encodings
    return imputation


def apply_imputation(frame: pd.DataFrame, imputation: dict) -> pd.DataFrame:
    """The model-ready features (imputation's column order, no missing values)."""
    return frame[imputation["features"]].fillna(value=imputation["values"])


def split(data: pd.DataFrame, label: str, validation_share: float, test_share: float, seed: int):
    """Stratified, seeded train/validation/test split (before any fitting)."""
    if not (0 < validation_share < 1 and 0 < test_share < 1 and validation_share + test_share < 1):
        raise ValueError(
            f"validation share {validation_share} and test share {test_share} must be in (0, 1) "
            "and sum to less than 1"
        )
    rest, test = train_test_split(data, test_size=test_share, stratify=data[label], random_state=seed)
    train, validation = train_test_split(
        rest, test_size=validation_share / (1 - test_share), stratify=rest[label], random_state=seed)
    return train.sort_index(), validation.sort_index(), test.sort_index()


def run(base_dir: Path, exclude_features: Iterable[str] = (), validation_share: float = 0.15,
        test_share: float = 0.15, seed: int = DEFAULT_SEED) -> dict:
    """Run the step under ``base_dir``; returns a small summary (also printed by main)."""
    base_dir = Path(base_dir)
    schema = tabular.load_schema(tabular.schema_path(base_dir))
    features = model_features(schema, exclude_features)
    data = read_input_dir(base_dir / INPUT_DIRS["data"], schema)
    label = schema.label.name
    train, validation, test = split(data, label, validation_share, test_share, seed)
    imputation = fit_imputation(train, features, schema)
    for name, part in (("train", train), ("validation", validation), ("test", test)):
        model_ready = apply_imputation(part, imputation)
        model_ready.insert(0, LABEL_COLUMN, part[label].astype(int), allow_duplicates=True)
        tabular.write_model_csv(model_ready, base_dir / OUTPUT_DIRS[name] / OUTPUT_FILES[name])
    imputation_path = base_dir / OUTPUT_DIRS["imputation"] / OUTPUT_FILES["imputation"]
    imputation_path.parent.mkdir(parents=True, exist_ok=True)
    imputation_path.write_text(json.dumps(imputation, indent=2, sort_keys=True) + "\n")
    tabular.write_raw(train[list(schema.feature_names)], schema,
                      base_dir / OUTPUT_DIRS["reference"] / OUTPUT_FILES["reference"])
    return {
        "model": schema.model,
        "rows": int(len(data)),
        "train": int(len(train)),
        "validation": int(len(validation)),
        "test": int(len(test)),
        "missing_imputed": int(data[list(features)].isna().sum().sum()),
        "features": list(features),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python preprocess.py [--base-dir DIR] [--exclude-feature NAME ...] ...``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", type=Path, default=Path(DEFAULT_BASE_DIR))
    parser.add_argument("--exclude-feature", action="append", default=[], metavar="NAME",
                        help="leave this feature out of the model (repeatable); the drift reference keeps it")
    parser.add_argument("--validation-share", type=float, default=0.15)
    parser.add_argument("--test-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    try:
        summary = run(args.base_dir, args.exclude_feature, args.validation_share, args.test_share, args.seed)
    except (ValueError, FileNotFoundError) as error:
        print(f"preprocess: error: {error}", file=sys.stderr)
        return 2
    print("preprocess: " + json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
