"""ml/steps/evaluate.py: metrics of a model.tar.gz on the test split, as SageMaker reads them."""
from __future__ import annotations

import ast
import io
import json
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from ml import contract, local_xgboost
from ml.steps import evaluate, preprocess
from tests.ml.steps.step_inputs import with_schema

SCRIPT = contract.STEPS_DIR / contract.EVALUATE_SCRIPT


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> Path:
    """Real data: preprocess -> local training -> the evaluate script in its own process."""
    root = with_schema(tmp_path_factory.mktemp("evaluate"))
    (with_schema(root / "pre") / "input" / "data").mkdir(parents=True)
    shutil.copy(contract.DATA_FILE, root / "pre" / "input" / "data")
    assert preprocess.main(["--base-dir", str(root / "pre")]) == 0
    split = root / "pre" / "output"
    model = local_xgboost.train(split / "train" / "train.csv", split / "validation" / "validation.csv",
                           root / "model")
    for name, source in (("model", model), ("test", split / "test" / "test.csv"),
                         ("imputation", split / "imputation" / "imputation.json"),
                         ("reference", split / "reference" / "reference.data")):
        (root / "input" / name).mkdir(parents=True)
        shutil.copy(source, root / "input" / name)
    result = subprocess.run([sys.executable, str(SCRIPT), "--base-dir", str(root)],
                            capture_output=True, text=True, cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    return root


def report(root: Path) -> dict:
    return json.loads((root / "output" / "evaluation" / "evaluation.json").read_text())


def test_script_imports_only_what_the_xgboost_image_has():
    assert SCRIPT.is_file()
    tree = ast.parse(SCRIPT.read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert roots - sys.stdlib_module_names <= {"numpy", "pandas", "sklearn", "xgboost", "tabular"}


def test_the_report_names_the_model_its_positive_class_and_features(evaluated):
    doc = report(evaluated)
    assert doc["model"] == "mammography"
    assert doc["label"] == {"name": "Severity", "positive": 1, "negative": 0}
    assert doc["features"] == ["BI-RADS", "Age", "Shape", "Margin", "Density"]
    assert set(doc[evaluate.DIGESTS_KEY]) == {"model_data_sha256", "reference_data_sha256", "imputation_sha256"}
    svg = (evaluated / "output" / "evaluation" / "roc_curve.svg").read_text()
    assert "ROC curve, mammography: Severity = 1" in svg


def test_auc_is_computed_on_probabilities(evaluated):
    test = pd.read_csv(evaluated / "input" / "test" / "test.csv", header=None)
    booster = evaluate.load_booster(evaluated / "input" / "model" / "model.tar.gz")
    probabilities = booster.predict(xgb.DMatrix(test.iloc[:, 1:].to_numpy(np.float32)))
    auc = report(evaluated)["binary_classification_metrics"]["auc"]
    assert auc == {"value": pytest.approx(roc_auc_score(test[0], probabilities)),
                   "standard_deviation": "NaN"}
    assert auc["value"] != pytest.approx(roc_auc_score(test[0], probabilities >= 0.5))
    assert auc["value"] > 0.85


def test_report_has_the_sagemaker_model_quality_shape(evaluated):
    doc = report(evaluated)
    metrics = doc["binary_classification_metrics"]
    for name in ("auc", "accuracy", "precision", "recall", "f1"):
        assert set(metrics[name]) == {"value", "standard_deviation"}
        assert 0 <= metrics[name]["value"] <= 1
    matrix = metrics["confusion_matrix"]
    tn, fp, fn, tp = matrix["0"]["0"], matrix["0"]["1"], matrix["1"]["0"], matrix["1"]["1"]
    assert tn + fp + fn + tp == doc["test_rows"] == 145
    assert metrics["precision"]["value"] == pytest.approx(tp / (tp + fp))
    assert metrics["recall"]["value"] == pytest.approx(tp / (tp + fn))
    assert metrics["accuracy"]["value"] == pytest.approx((tp + tn) / 145)
    # The pipeline's condition step reads this path.
    node = doc
    for key in evaluate.AUC_JSON_PATH.split("."):
        node = node[key]
    assert node == metrics["auc"]["value"]


def test_roc_curve_is_a_standalone_svg(evaluated):
    svg = (evaluated / "output" / "evaluation" / "roc_curve.svg").read_text()
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    curve = report(evaluated)["binary_classification_metrics"][
        "receiver_operating_characteristic_curve"]
    polylines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(polylines[-1].get("points").split()) == len(curve["false_positive_rates"])
    assert "AUC" in svg


def test_metrics_on_a_hand_checked_case():
    metrics = evaluate.compute_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]))
    m = metrics["binary_classification_metrics"]
    assert m["auc"]["value"] == 0.75
    assert m["confusion_matrix"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 1}}
    assert m["precision"]["value"] == m["recall"]["value"] == m["accuracy"]["value"] == 0.5


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_archive_without_the_model_member_is_refused(tmp_path):
    archive = _archive(tmp_path / "model.tar.gz", {"../model.bin": b"x"})
    with pytest.raises(ValueError, match="no 'xgboost-model' member"):
        evaluate.load_booster(archive)
    assert not (tmp_path.parent / "model.bin").exists()


def test_unreadable_model_names_the_image_to_use(tmp_path):
    archive = _archive(tmp_path / "model.tar.gz", {"xgboost-model": b"not a model"})
    with pytest.raises(ValueError, match="train with a 3.x built-in image"):
        evaluate.load_booster(archive)


def test_feature_count_mismatch_is_explained(evaluated, tmp_path, capsys):
    (with_schema(tmp_path) / "input" / "test").mkdir(parents=True)
    (tmp_path / "input" / "test" / "test.csv").write_text("1,67,3,5,3\n0,40,1,1,3\n")
    shutil.copytree(evaluated / "input" / "model", tmp_path / "input" / "model")
    assert evaluate.main(["--base-dir", str(tmp_path)]) == 2
    assert "the model expects 5 features, the test data has 4" in capsys.readouterr().err


def model_bytes(evaluated: Path) -> bytes:
    with tarfile.open(evaluated / "input" / "model" / "model.tar.gz") as tar:
        return tar.extractfile("xgboost-model").read()


@pytest.mark.parametrize("member", ["xgboost-model", "./xgboost-model", ".//./xgboost-model"])
def test_every_spelling_of_the_top_level_member_is_the_model(evaluated, tmp_path, member):
    archive = _archive(tmp_path / "model.tar.gz", {"README": b"notes", member: model_bytes(evaluated)})
    reference = evaluate.load_booster(evaluated / "input" / "model" / "model.tar.gz")
    features = xgb.DMatrix(np.array([[5, 67, 3, 5, 3], [4, 43, 1, 1, 3]], dtype=np.float32))
    assert (evaluate.load_booster(archive).predict(features) == reference.predict(features)).all()


def test_an_archive_made_with_tar_in_the_model_folder_loads(evaluated, tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "xgboost-model").write_bytes(model_bytes(evaluated))
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:  # as `tar czf model.tar.gz .`
        tar.add(tmp_path / "model", arcname=".")
    with tarfile.open(tmp_path / "model.tar.gz") as tar:
        assert tar.getnames() == [".", "./xgboost-model"]
    assert evaluate.load_booster(tmp_path / "model.tar.gz").num_features() == 5


@pytest.mark.parametrize("members, message", [
    ({}, "no 'xgboost-model' member at the top level (found nothing)"),
    ({"model/xgboost-model": b"x"}, "no 'xgboost-model' member at the top level"),
    ({"/xgboost-model": b"x"}, "no 'xgboost-model' member at the top level"),
    ({"../xgboost-model": b"x"}, "no 'xgboost-model' member at the top level"),
    ({"xgboost-model": b"x", "./xgboost-model": b"y"}, "2 members name 'xgboost-model'"),
])
def test_archives_without_exactly_one_model_are_refused_clearly(tmp_path, capsys, members, message):
    _archive(tmp_path / "input" / "model" / "model.tar.gz", members)
    (with_schema(tmp_path) / "input" / "test").mkdir(parents=True)
    (tmp_path / "input" / "test" / "test.csv").write_text("1,5,67,3,5,3\n0,4,43,1,1,3\n")
    assert evaluate.main(["--base-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert message in error and "model.tar.gz" in error


def test_a_directory_named_like_the_model_is_refused(tmp_path):
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("./xgboost-model")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    with pytest.raises(ValueError, match="'./xgboost-model' is not a regular file"):
        evaluate.load_booster(archive)


def test_the_imputation_of_another_preprocess_run_is_refused(evaluated, tmp_path, capsys):
    shutil.copytree(evaluated / "input", tmp_path / "input")
    (tmp_path / "input" / "imputation" / "imputation.json").write_text(json.dumps(
        {"features": ["Age", "Shape", "Margin", "Density"], "values": {}}))
    assert evaluate.main(["--base-dir", str(tmp_path)]) == 2
    assert "the imputation lists 4 features, the test data has 5" in capsys.readouterr().err


def test_without_a_schema_the_step_says_what_to_pass(evaluated, tmp_path, capsys):
    shutil.copytree(evaluated / "input", tmp_path / "input")
    shutil.rmtree(tmp_path / "input" / "schema")
    assert evaluate.main(["--base-dir", str(tmp_path)]) == 2
    assert "no schema document; pass the model's schema.json" in capsys.readouterr().err
