"""Evaluate step: the trained XGBoost model on the held-out test split.

Runs alone in the SageMaker built-in XGBoost image (stdlib, numpy, pandas, scikit-learn, xgboost,
and the steps' shared library ``tabular``, shipped beside it).

Inputs  ``{base}/input/schema/schema.json``  the model's schema document (names the model, its
                                         label and positive class in the report).
        ``{base}/input/model/model.tar.gz``  as the training job writes it: one member
                                         ``xgboost-model`` (XGBoost 3.x UBJSON Booster), also
                                         accepted as ``./xgboost-model`` (tar run in the folder).
        ``{base}/input/test/``           the test CSV(s) of preprocess: label first (1 = the
                                         positive class), no header; every file under it
                                         (``tabular.list_input_files``).
        ``{base}/input/reference/``, ``{base}/input/imputation/``  what the registered version
                                         will refer to: their sha256 is recorded (below), the
                                         imputation's features named.
Outputs ``{base}/output/evaluation/evaluation.json``  SageMaker model-quality metrics shape
                                         (``binary_classification_metrics.auc.value`` etc.),
                                         ``model``, ``label`` (name, positive class), ``features``,
                                         and ``artifacts``: the sha256 of the model archive, the
                                         reference and the imputation (`tree_digest`), which the
                                         register step records and inference verifies.
        ``{base}/output/evaluation/roc_curve.svg``  the ROC curve, hand-written SVG (the image
                                         has no matplotlib).

AUC is computed on the predicted probabilities (ranking quality); precision, recall, F1,
accuracy and the confusion matrix use the 0.5 threshold. ``standard_deviation`` is "NaN":
one test split gives no spread.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import sys
import tarfile
from pathlib import Path, PurePosixPath


def _library_path() -> list[str]:
    """This script's directory (ml/steps, run locally) and the job's shared-library input under
    --base-dir (contract.STEP_LIBRARY_INPUT_DIR): where ``import tabular`` finds the library."""
    argv = sys.argv[1:]
    base = next((value for flag, value in zip(argv, argv[1:], strict=False) if flag == "--base-dir"),
                next((a.split("=", 1)[1] for a in argv if a.startswith("--base-dir=")), "/opt/ml/processing"))
    return [str(Path(__file__).resolve().parent), str(Path(base) / "input" / "lib")]


sys.path[:0] = [p for p in _library_path() if p not in sys.path]
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tabular  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

DEFAULT_BASE_DIR = "/opt/ml/processing"
INPUT_DIRS = {"model": "input/model", "test": "input/test",
              # What the version will refer to: only read to record its sha256 in the report.
              "reference": "input/reference", "imputation": "input/imputation",
              "schema": tabular.SCHEMA_INPUT_DIR, "lib": tabular.LIBRARY_INPUT_DIR}
IMPUTATION_FILE = "imputation.json"
DIGESTS_KEY = "artifacts"  # where evaluation.json records them (contract.EVALUATION_DIGESTS_PATH)
OUTPUT_DIRS = {"evaluation": "output/evaluation"}
MODEL_ARCHIVE = "model.tar.gz"
MODEL_MEMBER = "xgboost-model"
EVALUATION_FILE = "evaluation.json"
ROC_FILE = "roc_curve.svg"
# For the pipeline's condition step (JsonGet on the PropertyFile of evaluation.json).
AUC_JSON_PATH = "binary_classification_metrics.auc.value"
THRESHOLD = 0.5


def model_member(tar: tarfile.TarFile, archive: Path) -> tarfile.TarInfo:
    """The archive's one ``xgboost-model`` file, however the archiver spelled its path.

    ``xgboost-model``, ``./xgboost-model`` and ``.//./xgboost-model`` name the same file at the
    archive's top level (tar writes ``./`` when run as ``tar czf m.tar.gz .``); a model in a
    sub-folder or behind an absolute or ``..`` path is not the training job's layout. None, or two
    members naming it, is refused.
    """
    names = tar.getnames()
    matches = [m for m in tar.getmembers() if PurePosixPath(m.name).parts == (MODEL_MEMBER,)]
    if not matches:
        shown = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
        raise ValueError(
            f"{archive}: no '{MODEL_MEMBER}' member at the top level (found {shown or 'nothing'}); "
            "expected the built-in XGBoost algorithm's model.tar.gz"
        )
    if len(matches) > 1:
        raise ValueError(
            f"{archive}: {len(matches)} members name '{MODEL_MEMBER}' "
            f"({', '.join(repr(m.name) for m in matches)}); which is the model is ambiguous: "
            "repack the archive with one"
        )
    if not matches[0].isfile():
        raise ValueError(f"{archive}: '{matches[0].name}' is not a regular file")
    return matches[0]


def load_booster(archive: Path) -> xgb.Booster:
    """Read the model member out of model.tar.gz in memory (nothing extracted to disk)."""
    if not archive.is_file():
        raise FileNotFoundError(
            f"{archive}: no model archive; pass the training job's model.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        member = model_member(tar, archive)
        extracted = tar.extractfile(member)
        if extracted is None:
            raise ValueError(f"{archive}: '{member.name}' cannot be read from the archive")
        raw = extracted.read()
    booster = xgb.Booster()
    try:
        booster.load_model(bytearray(raw))
    except xgb.core.XGBoostError as error:
        raise ValueError(
            f"{archive}: '{member.name}' is not a model XGBoost {xgb.__version__} can read "
            f"(train with a 3.x built-in image): {str(error).splitlines()[0]}"
        ) from None
    return booster


def read_test(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels and features of every CSV under ``directory`` (label first, no header)."""
    files = tabular.list_input_files(directory)
    if not files:
        raise FileNotFoundError(f"{directory}: no test CSV; pass the preprocess step's test output")
    data = pd.concat([pd.read_csv(p, header=None) for p in files], ignore_index=True)
    labels = data.iloc[:, 0].to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{directory}: the first column must be the 0/1 label")
    if len(np.unique(labels)) < 2:
        raise ValueError(f"{directory}: the test data holds one class only; AUC is undefined")
    return labels.astype(int), data.iloc[:, 1:].to_numpy(dtype=np.float32)


def _metric(value: float) -> dict:
    return {"value": float(value), "standard_deviation": "NaN"}


def compute_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """The evaluation.json document for these labels and predicted probabilities."""
    predicted = (probabilities >= THRESHOLD).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    fpr, tpr, _ = roc_curve(labels, probabilities)
    return {
        "binary_classification_metrics": {
            "auc": _metric(roc_auc_score(labels, probabilities)),
            "accuracy": _metric(accuracy_score(labels, predicted)),
            "precision": _metric(precision_score(labels, predicted, zero_division=0)),
            "recall": _metric(recall_score(labels, predicted, zero_division=0)),
            "f1": _metric(f1_score(labels, predicted, zero_division=0)),
            "true_positive_rate": _metric(tp / (tp + fn)),
            "true_negative_rate": _metric(tn / (tn + fp)),
            "false_positive_rate": _metric(fp / (fp + tn)),
            "false_negative_rate": _metric(fn / (fn + tp)),
            # Actual class -> predicted class -> count, as SageMaker model quality writes it.
            "confusion_matrix": {
                "0": {"0": int(tn), "1": int(fp)},
                "1": {"0": int(fn), "1": int(tp)},
            },
            "receiver_operating_characteristic_curve": {
                "false_positive_rates": [round(float(v), 6) for v in fpr],
                "true_positive_rates": [round(float(v), 6) for v in tpr],
            },
        },
        "threshold": THRESHOLD,
        "test_rows": int(len(labels)),
    }


def roc_svg(fpr: list[float], tpr: list[float], auc: float, title: str = "ROC curve") -> str:
    """A self-contained SVG of the ROC curve, the chance diagonal and the AUC."""
    title = html.escape(title)  # a model or class name is text from the configuration
    size, margin = 360, 50
    plot = size - 2 * margin

    def xy(x: float, y: float) -> str:
        return f"{margin + x * plot:.1f},{margin + (1 - y) * plot:.1f}"

    points = " ".join(xy(x, y) for x, y in zip(fpr, tpr, strict=True))
    ticks = []
    for i in range(6):
        v = i / 5
        x, y = xy(v, 0).split(",")
        ticks.append(f'<text x="{x}" y="{float(y) + 16:.1f}" text-anchor="middle">{v:.1f}</text>')
        x, y = xy(0, v).split(",")
        ticks.append(f'<text x="{float(x) - 6:.1f}" y="{float(y) + 4:.1f}" '
                     f'text-anchor="end">{v:.1f}</text>')
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="sans-serif" font-size="11">',
        f"<title>{title}: AUC {auc:.3f}</title>",
        f'<rect x="{margin}" y="{margin}" width="{plot}" height="{plot}" fill="white" '
        'stroke="black"/>',
        f'<polyline points="{xy(0, 0)} {xy(1, 1)}" fill="none" stroke="grey" '
        'stroke-dasharray="4 4"/>',
        f'<polyline points="{points}" fill="none" stroke="#1f5fbf" stroke-width="2"/>',
        *ticks,
        f'<text x="{size / 2:.0f}" y="{size - 12}" text-anchor="middle">False positive rate</text>',
        f'<text x="14" y="{size / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {size / 2:.0f})">True positive rate</text>',
        f'<text x="{size / 2:.0f}" y="30" text-anchor="middle" font-size="13">'
        f"{title} (AUC {auc:.3f})</text>",
        "</svg>",
        "",
    ])


def tree_digest(path: Path) -> str:
    """sha256 of a file, or of a folder: sha256 over `<sha256>  <relative path>` lines of every
    file under it, sorted by path (`sha256sum` output). Restated in the latest-approved-model
    Lambda, which verifies these digests before inference uses the files; a test checks both agree."""
    def sha(file: Path) -> str:
        digest = hashlib.sha256()
        with file.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    if path.is_file():
        return sha(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    listing = "".join(f"{sha(p)}  {p.relative_to(path).as_posix()}\n" for p in files)
    return hashlib.sha256(listing.encode()).hexdigest()


def artifact_digests(base_dir: Path) -> dict[str, str]:
    """The digests a registered version records (customer metadata; see ml/contract.py)."""
    return {"model_data_sha256": tree_digest(base_dir / INPUT_DIRS["model"] / MODEL_ARCHIVE),
            "reference_data_sha256": tree_digest(base_dir / INPUT_DIRS["reference"]),
            "imputation_sha256": tree_digest(base_dir / INPUT_DIRS["imputation"])}


def describe_model(base_dir: Path, schema: tabular.Schema) -> dict:
    """What the report says the scores are about: the model, its label and positive class, and
    (when the preprocess run's imputation is an input) the model's features in column order."""
    negative = next(v for v in schema.label.domain if v != schema.positive)
    described: dict = {"model": schema.model,
                       "label": {"name": schema.label.name, "positive": schema.positive, "negative": negative}}
    imputation = base_dir / INPUT_DIRS["imputation"] / IMPUTATION_FILE
    features = json.loads(imputation.read_text()).get("features") if imputation.is_file() else []
    if not isinstance(features, list):
        raise ValueError(f"{imputation}: no 'features' list; pass the preprocess step's imputation.json")
    return {**described, "features": features} if features else described


def run(base_dir: Path) -> dict:
    """Run the step under ``base_dir``; returns the evaluation document."""
    base_dir = Path(base_dir)
    described = describe_model(base_dir, tabular.load_schema(tabular.schema_path(base_dir)))
    booster = load_booster(base_dir / INPUT_DIRS["model"] / MODEL_ARCHIVE)
    labels, features = read_test(base_dir / INPUT_DIRS["test"])
    if booster.num_features() != features.shape[1]:
        raise ValueError(f"the model expects {booster.num_features()} features, the test data has "
                         f"{features.shape[1]}: evaluate with the test split of the same preprocess run")
    if len(described.get("features", features[0])) != features.shape[1]:
        raise ValueError(f"the imputation lists {len(described['features'])} features, the test data has "
                         f"{features.shape[1]}: pass the imputation of the same preprocess run")
    probabilities = booster.predict(xgb.DMatrix(features))
    report = {**compute_metrics(labels, probabilities), **described}
    if all((base_dir / INPUT_DIRS[name]).is_dir() for name in ("reference", "imputation")):
        report[DIGESTS_KEY] = artifact_digests(base_dir)
    metrics = report["binary_classification_metrics"]
    out = base_dir / OUTPUT_DIRS["evaluation"]
    out.mkdir(parents=True, exist_ok=True)
    (out / EVALUATION_FILE).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    curve = metrics["receiver_operating_characteristic_curve"]
    title = f"ROC curve, {described['model']}: {described['label']['name']} = {described['label']['positive']}"
    (out / ROC_FILE).write_text(roc_svg(curve["false_positive_rates"], curve["true_positive_rates"],
                                        metrics["auc"]["value"], title))
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python evaluate.py [--base-dir DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", type=Path, default=Path(DEFAULT_BASE_DIR))
    args = parser.parse_args(argv)
    try:
        report = run(args.base_dir)
    except (ValueError, FileNotFoundError, tarfile.TarError) as error:
        print(f"evaluate: error: {error}", file=sys.stderr)
        return 2
    metrics = report["binary_classification_metrics"]
    summary = {k: round(metrics[k]["value"], 4) for k in ("auc", "accuracy", "precision",
                                                          "recall", "f1")}
    print("evaluate: " + json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
