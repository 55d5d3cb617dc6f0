"""The definitions mount inputs and read outputs exactly where the step scripts (ml/steps)
read and write them, and read the JSON paths the scripts produce."""
from __future__ import annotations

import json
import shutil
from pathlib import PurePosixPath

import pytest

from ml import contract
from ml.models import load_project_models
from ml.steps import capture_batch, drift_check, evaluate, prepare_batch, preprocess
from tests.support.pipeline_definitions import steps_by_name, write_shared_inputs

BASE = PurePosixPath(contract.PROCESSING_BASE)


def local_dirs(step: dict) -> tuple[dict[str, str], dict[str, str]]:
    """(inputs, outputs) of a processing step: channel name -> path relative to the base dir."""
    args = step["Arguments"]
    inputs = {i["InputName"]: str(PurePosixPath(i["S3Input"]["LocalPath"]).relative_to(BASE))
              for i in args["ProcessingInputs"] if i["InputName"] != "code"}
    outputs = {o["OutputName"]: str(PurePosixPath(o["S3Output"]["LocalPath"]).relative_to(BASE))
               for o in args["ProcessingOutputConfig"]["Outputs"]}
    return inputs, outputs


@pytest.mark.parametrize(("pipeline", "step", "module"), [
    ("training", contract.TRAINING_STEPS["preprocess"], preprocess),
    ("training", contract.TRAINING_STEPS["evaluate"], evaluate),
    ("inference", contract.INFERENCE_STEPS["prepare"], prepare_batch),
    ("inference", contract.INFERENCE_STEPS["drift_check"], drift_check),
    ("live-drift", contract.LIVE_DRIFT_STEPS["capture"], capture_batch),
    ("live-drift", contract.LIVE_DRIFT_STEPS["drift_check"], drift_check),
])
def test_processing_paths_match_the_script_constants(built, pipeline, step, module):
    inputs, outputs = local_dirs(steps_by_name(built("isolated")[pipeline])[step])
    assert inputs == module.INPUT_DIRS
    assert outputs == module.OUTPUT_DIRS
    arguments = steps_by_name(built("isolated")[pipeline])[step]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[:2] == ["--base-dir", str(BASE)]
    # The batch path runs every script with the base directory alone (the drift check plans all its tests).
    assert pipeline == "live-drift" or arguments == ["--base-dir", str(BASE)]


@pytest.mark.parametrize("pipeline", ["training", "inference", "live-drift"])
def test_every_script_gets_the_models_schema_and_the_shared_modules(built, pipeline):
    settings = built("isolated")["settings"]
    processing = [s for s in steps_by_name(built("isolated")[pipeline]).values() if s["Type"] == "Processing"]
    assert len(processing) == 2
    for step in processing:
        inputs = {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}
        assert inputs["schema"]["S3Uri"] == settings.schema_uri
        assert inputs["schema"]["LocalPath"] == str(BASE / contract.SCHEMA_INPUT_DIR)
        # One prefix holds every shared module, so the job downloads all of them into input/lib.
        assert inputs["lib"]["S3Uri"] == settings.library_dir_uri
        assert all(uri == settings.library_dir_uri + name for name, uri in settings.library_uris.items())
        assert inputs["lib"]["LocalPath"] == str(BASE / contract.STEP_LIBRARY_INPUT_DIR)
        assert inputs["lib"]["S3DataType"] == inputs["schema"]["S3DataType"] == "S3Prefix"


def test_the_auc_gate_reads_what_evaluate_writes():
    assert contract.EVALUATION_FILE == evaluate.EVALUATION_FILE
    assert contract.EVALUATION_AUC_PATH == evaluate.AUC_JSON_PATH


def test_the_drift_gate_reads_what_drift_check_writes_where_the_definition_expects_it(built, tmp_path):
    step = steps_by_name(built("isolated")["inference"])[contract.INFERENCE_STEPS["drift_check"]]
    inputs, outputs = local_dirs(step)
    # Lay the shipped data, the model's schema and the shared modules out where the definition
    # mounts them, then run the script.
    assert (inputs["schema"], inputs["lib"]) == (contract.SCHEMA_INPUT_DIR, contract.STEP_LIBRARY_INPUT_DIR)
    write_shared_inputs(tmp_path, load_project_models()[0])
    for channel in ("reference", "batch"):
        (tmp_path / inputs[channel]).mkdir(parents=True)
        shutil.copy(contract.DATA_FILE, tmp_path / inputs[channel] / "data.csv")
    assert drift_check.main(["--base-dir", str(tmp_path)]) == 0
    prop, = step["PropertyFiles"]
    report = json.loads((tmp_path / outputs[prop["OutputName"]] / prop["FilePath"]).read_text())
    assert report[contract.DRIFT_DETECTED_PATH] is False  # the data against itself: no drift
