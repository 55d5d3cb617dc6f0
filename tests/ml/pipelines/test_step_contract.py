"""The definitions mount inputs and read outputs exactly where the step scripts (ml/steps)
read and write them, and read the JSON paths the scripts produce."""
from __future__ import annotations

import json
import shutil
from pathlib import PurePosixPath

import pytest

from ml import contract
from ml.steps import drift_check, evaluate, prepare_batch, preprocess
from tests.support.pipeline_definitions import steps_by_name

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
])
def test_processing_paths_match_the_script_constants(built, pipeline, step, module):
    inputs, outputs = local_dirs(steps_by_name(built("isolated")[pipeline])[step])
    assert inputs == module.INPUT_DIRS
    assert outputs == module.OUTPUT_DIRS
    assert steps_by_name(built("isolated")[pipeline])[step]["Arguments"]["AppSpecification"][
        "ContainerArguments"] == ["--base-dir", str(BASE)]


def test_the_auc_gate_reads_what_evaluate_writes():
    assert contract.EVALUATION_FILE == evaluate.EVALUATION_FILE
    assert contract.EVALUATION_AUC_PATH == evaluate.AUC_JSON_PATH


def test_the_drift_gate_reads_what_drift_check_writes_where_the_definition_expects_it(built, tmp_path):
    step = steps_by_name(built("isolated")["inference"])[contract.INFERENCE_STEPS["drift_check"]]
    inputs, outputs = local_dirs(step)
    # Lay the shipped data out where the definition mounts both inputs, then run the script.
    for channel in ("reference", "batch"):
        (tmp_path / inputs[channel]).mkdir(parents=True)
        shutil.copy(contract.DATA_FILE, tmp_path / inputs[channel] / "data.csv")
    assert drift_check.main(["--base-dir", str(tmp_path)]) == 0
    prop, = step["PropertyFiles"]
    report = json.loads((tmp_path / outputs[prop["OutputName"]] / prop["FilePath"]).read_text())
    assert report[contract.DRIFT_DETECTED_PATH] is False  # the data against itself: no drift
