"""Proof without the cloud of the capture -> drift path, on the real data of both shipped models.

For each model: its training reference and imputation come from the preprocess step on its seeded
initial training set; live traffic is the held-out pool (never trained on) made model-ready by the
prepare-batch step with that imputation, exactly what a client sends an endpoint, written as
SageMaker's data capture writes it (JSON Lines, CSV and BASE64 requests, hourly folders). The two
scripts then run as the live-drift pipeline runs them: the capture step and the drift check, each
with the container arguments of the built definition. Clean traffic is no drift; mammography's
traffic twelve years older (the seeded `batch_drift_age`) and wdbc's with radii 10% larger are
drift on that very feature. The full set of tests would call clean imputed traffic drift, which
is why the live check plans two of them.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ml import contract, datasets
from ml.models import PROJECT_ROOT, ModelSpec, load_project_models
from ml.pipelines.live_drift import live_drift_definition
from ml.serving import smoke_test
from ml.steps import prepare_batch, preprocess
from tests.ml.pipelines.sample import sample_settings
from tests.ml.steps.capture_files import write_capture
from tests.support.pipeline_definitions import steps_by_name

STEPS = contract.LIVE_DRIFT_STEPS
UNTIL = "2026-12-01T18:00:00Z"  # the window (the definition's default, a day) holds all the traffic


@pytest.fixture(scope="module")
def definition() -> dict:
    settings = sample_settings(live_drift_pipeline_name="mlops-dev-live-drift", capture_data_key="capture/m/")
    return json.loads(live_drift_definition(settings))


def container_arguments(definition: dict, step: str, base: Path) -> list[str]:
    """A step's container arguments as the pipeline passes them: parameters at their defaults, the
    base directory moved to `base`."""
    defaults = {f"Parameters.{p['Name']}": p["DefaultValue"] for p in definition["Parameters"]}

    def value(arg):
        if isinstance(arg, str):
            return str(base) if arg == contract.PROCESSING_BASE else arg
        join = arg["Std:Join"]
        return join["On"].join(str(defaults[v["Get"]]) if isinstance(v, dict) else v for v in join["Values"])

    return [value(a) for a in steps_by_name(json.dumps(definition))[step]["Arguments"]["AppSpecification"]
            ["ContainerArguments"]]


def run_step(definition: dict, step: str, script: str, base: Path, *extra: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(contract.STEPS_DIR / script),
                           *container_arguments(definition, step, base), *extra],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def with_schema(base: Path, spec: ModelSpec) -> Path:
    path = base / contract.SCHEMA_INPUT_DIR / contract.SCHEMA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(spec.schema.document_bytes(spec.name))
    return base


class Model:
    """One model's trained reference and imputation, and its traffic made model-ready."""

    def __init__(self, spec: ModelSpec, tmp: Path):
        self.spec, self.tmp = spec, tmp
        self.sets = datasets.write_datasets(spec, tmp / "sets")
        self.pre = with_schema(tmp / "preprocess", spec)
        (self.pre / "input" / "data").mkdir(parents=True)
        shutil.copy(self.sets["initial_train"], self.pre / "input" / "data" / "train.data")
        preprocess.run(self.pre)
        self.imputation = self.pre / preprocess.OUTPUT_DIRS["imputation"] / preprocess.OUTPUT_FILES["imputation"]
        self.reference = self.pre / preprocess.OUTPUT_DIRS["reference"] / preprocess.OUTPUT_FILES["reference"]
        self.features = json.loads(self.imputation.read_text())["features"]
        self._ready: dict[str, list[str]] = {}

    def model_ready(self, batch: str) -> list[str]:
        """A raw batch of the seeded sets as a client sends it: prepared with the model's imputation."""
        if batch not in self._ready:
            self._ready[batch] = self._prepare(batch)
        return list(self._ready[batch])

    def _prepare(self, batch: str) -> list[str]:
        base = with_schema(self.tmp / f"prepare-{batch}", self.spec)
        for name, source in (("batch", self.sets[batch]), ("imputation", self.imputation)):
            (base / "input" / name).mkdir(parents=True)
            shutil.copy(source, base / "input" / name)
        prepare_batch.run(base)
        return (base / prepare_batch.OUTPUT_DIRS["batch"] / prepare_batch.OUTPUT_FILE).read_text().splitlines()

    def live_check(self, definition: dict, traffic: list[str], name: str, tests: str | None = None) -> dict:
        """Capture files of `traffic` -> the capture step -> the drift check; its report."""
        capture = with_schema(self.tmp / f"capture-{name}", self.spec)
        write_capture(capture / "input" / "capture", traffic, endpoint=f"mlops-dev-{self.spec.name}")
        run_step(definition, STEPS["capture"], contract.CAPTURE_BATCH_SCRIPT, capture, "--until", UNTIL)
        check = with_schema(self.tmp / f"drift-{name}", self.spec)
        for name_, source in (("reference", self.reference), ("batch", capture / "output" / "batch")):
            shutil.copytree(source.parent if source.is_file() else source, check / "input" / name_)
        run_step(definition, STEPS["drift_check"], contract.DRIFT_CHECK_SCRIPT, check,
                 *(("--tests", tests) if tests else ()))
        return json.loads((check / "output" / "drift" / contract.DRIFT_REPORT_FILE).read_text())


@pytest.fixture(scope="module", params=["mammography", "wdbc"])
def model(request, tmp_path_factory) -> Model:
    spec = next(s for s in load_project_models(PROJECT_ROOT) if s.name == request.param)
    return Model(spec, tmp_path_factory.mktemp(request.param))


def scaled(rows: list[str], columns: list[int], factor: float) -> list[str]:
    out = []
    for row in rows:
        values = row.split(",")
        for i in columns:
            values[i] = f"{float(values[i]) * factor:g}"
        out.append(",".join(values))
    return out


def test_the_definition_runs_the_capture_step_then_the_live_subset_of_the_drift_check(definition, tmp_path):
    capture = container_arguments(definition, STEPS["capture"], tmp_path)
    assert capture == ["--base-dir", str(tmp_path), "--window-hours", "24"]
    drift = container_arguments(definition, STEPS["drift_check"], tmp_path)
    assert drift == ["--base-dir", str(tmp_path), "--tests", ",".join(contract.LIVE_DRIFT_TESTS)]
    assert contract.LIVE_DRIFT_TESTS == ("distribution", "out_of_domain")


def test_clean_live_traffic_is_no_drift(model, definition):
    traffic = model.model_ready(datasets.CLEAN_BATCH)
    assert len(traffic) >= 50 and not any(",," in row or row.endswith(",") for row in traffic)  # imputed
    report = model.live_check(definition, traffic, "clean")
    assert report["verdict"] == "no_drift", report["reasons"]
    assert report["batch_rows"] == len(traffic) and report["planned_tests"] == 2 * len(model.spec.schema.features)
    assert all("missing" not in f for f in report["features"].values())


def test_rows_the_smoke_test_sends_are_no_drift_either(model, definition):
    text = (PROJECT_ROOT / model.spec.data_file).read_text()
    traffic = smoke_test.sample_rows(model.spec.schema, text, 200).payload.splitlines()
    assert model.live_check(definition, traffic, "smoke")["verdict"] == "no_drift"


def test_shifted_live_traffic_is_drift_on_the_shifted_feature(model, definition):
    if model.spec.name == "mammography":  # every age 12 years higher (the seeded drift batch)
        traffic, feature = model.model_ready("batch_drift_age"), "Age"
        clean = model.model_ready(datasets.CLEAN_BATCH)
        assert [float(r.split(",")[1]) for r in traffic] != [float(r.split(",")[1]) for r in clean]
    else:  # radii 10% larger, as from a miscalibrated microscope
        feature = "radius_mean"
        traffic = scaled(model.model_ready(datasets.CLEAN_BATCH), [model.features.index(feature)], 1.1)
    report = model.live_check(definition, traffic, "shifted")
    assert report["verdict"] == "drift" and feature in report["drifted_features"], report["reasons"]
    assert report["features"][feature]["distribution"]["drift"]


def test_all_three_tests_would_call_clean_imputed_traffic_drift(model, definition):
    # Why the live check plans two tests: imputed traffic has no missing value, the raw reference does.
    full = model.live_check(definition, model.model_ready(datasets.CLEAN_BATCH), "all-tests",
                            tests="distribution,missing,out_of_domain")
    reference_missing = any(f["missing"]["reference_rate"] for f in full["features"].values())
    assert reference_missing is (model.spec.name == "mammography")  # wdbc's data has no missing value
    if reference_missing:
        assert full["verdict"] == "drift"
        assert all(f["drifted_tests"] == ["missing"] for f in full["features"].values() if f["drift"])
