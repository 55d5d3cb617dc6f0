"""The image test stage (tests/ml/steps/images/run.py, run by `make test`): each step script's tests
run in a venv pinned like the image the pipelines run that script in, and none is forgotten."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path, PurePosixPath

import pytest

from ml import contract
from ml.pipelines import inference_definition, live_drift_definition, training_definition
from tests.ml.pipelines.sample import sample_settings
from tests.ml.steps.images import run as stage_runner

ROOT = Path(__file__).parents[3]
IMAGE_REPOSITORIES = {"sagemaker-scikit-learn": "sklearn", "sagemaker-xgboost": "xgboost"}
# The images' own versions, from their Dockerfiles and requirements (see the pin files' headers).
IMAGE_VERSIONS = {
    f"sklearn-{contract.SKLEARN_FRAMEWORK_VERSION}": {
        "numpy": "2.1.0", "pandas": "2.3.2", "scikit-learn": "1.4.2", "scipy": "1.15."},
    f"xgboost-{contract.XGBOOST_FRAMEWORK_VERSION}": {
        "xgboost-cpu": contract.XGBOOST_FRAMEWORK_VERSION.replace("-", "."), "numpy": "2.1.0",
        "pandas": "2.2.3", "scipy": "1.15.0", "scikit-learn": "1.5.2"},
}
STAGES = {stage.name: stage for stage in stage_runner.STAGES}


def pins(stage) -> dict[str, str]:
    lines = [line for line in stage.pins.read_text().splitlines() if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*", line) for line in lines), lines
    return dict(line.split("==") for line in lines)


@pytest.fixture(scope="module")
def image_of_script() -> dict[str, str]:
    """Script file name -> image stage name, read from the built pipeline definitions."""
    settings = sample_settings(live_drift_pipeline_name="mlops-dev-live-drift", capture_data_key="capture/m/")
    found = {}
    for definition in (training_definition(settings), inference_definition(settings),
                       live_drift_definition(settings)):
        for step in json.loads(definition)["Steps"]:
            app = step.get("Arguments", {}).get("AppSpecification")
            if app:
                repository, version = app["ImageUri"].split("/")[-1].split(":")
                tag = re.match(r"\d+\.\d+-\d+", version).group(0)
                found[PurePosixPath(app["ContainerEntrypoint"][-1]).name] = \
                    f"{IMAGE_REPOSITORIES[repository]}-{tag}"
    return found


def test_every_step_script_is_tested_in_the_image_that_runs_it(image_of_script):
    assert set(image_of_script) == {contract.PREPROCESS_SCRIPT, contract.PREPARE_BATCH_SCRIPT,
                                    contract.EVALUATE_SCRIPT, contract.DRIFT_CHECK_SCRIPT,
                                    contract.CAPTURE_BATCH_SCRIPT}
    for script, image in image_of_script.items():
        assert f"test_{Path(script).stem}.py" in STAGES[image].tests, (script, image)


def test_every_step_test_file_runs_in_one_image_or_needs_the_main_suite():
    files = sorted(p.name for p in Path(__file__).parent.glob("test_*.py"))
    staged = [test for stage in STAGES.values() for test in stage.tests]
    assert len(staged) == len(set(staged))
    assert sorted([*staged, *stage_runner.MAIN_SUITE_ONLY]) == files


@pytest.mark.parametrize("image", sorted(IMAGE_VERSIONS))
def test_the_pins_are_the_images_versions_and_complete(image):
    pinned = pins(STAGES[image])
    for package, version in IMAGE_VERSIONS[image].items():
        assert pinned[package].startswith(version), (package, pinned[package])
    assert pinned["pytest"] == re.search(r"^pytest==(.+)$", (ROOT / "constraints.txt").read_text(),
                                         re.M).group(1)


def test_without_python_3_10_the_stage_says_it_runs_3_11(tmp_path):
    python, version, note = stage_runner.choose_python([str(tmp_path / "python3.10"), sys.executable])
    assert python == sys.executable and version[:2] == (3, 11)
    assert note == "INSTEAD OF the images' 3.10, which this machine lacks"


def test_make_test_runs_the_image_stage():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "tests/ml/steps/images/run.py" in recipe
    assert ".venv-images/" in (ROOT / ".gitignore").read_text().splitlines()
