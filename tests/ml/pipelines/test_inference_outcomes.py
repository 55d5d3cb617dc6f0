"""The inference pipeline's three drift outcomes, from the script's report to the EventBridge rule:
drift fails in DataDriftDetected (retraining), too little data fails in a step of its own
(a notified failure, never retraining), no drift ends the run without a failure."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from ml import contract, datasets, retraining_rules
from ml.models import load_project_models
from ml.steps import drift_check
from tests.support.pipeline_definitions import steps_by_name, write_shared_inputs

S = contract.INFERENCE_STEPS
SAMPLE_EVENTS = Path(__file__).parents[1] / "sample_events"
INFERENCE_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/mlops-dev-inference"
TRAINING_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/mlops-dev-training"
GATES = (S["drift_condition"], S["insufficient_data_condition"])


@pytest.fixture(scope="module")
def steps(built):
    return steps_by_name(built("isolated")["inference"])


@pytest.fixture(scope="module")
def mammography():
    return load_project_models()[0]


@pytest.fixture(scope="module")
def sets(tmp_path_factory, mammography):
    return datasets.write_datasets(mammography, tmp_path_factory.mktemp("sets"))


def test_too_little_data_is_its_own_gate_reading_the_verdict(steps):
    gate = steps[S["insufficient_data_condition"]]
    assert gate["Arguments"]["Conditions"] == [{
        "Type": "Equals",
        "LeftValue": {"Std:JsonGet": {"Path": "verdict",
                                      "PropertyFile": {"Get": "Steps.CheckDataDrift.PropertyFiles.DriftReport"}}},
        "RightValue": "insufficient_data",
    }]
    assert [s["Name"] for s in gate["Arguments"]["IfSteps"]] == [S["insufficient_data_fail"]]
    assert gate["Arguments"]["ElseSteps"] == []
    fail = steps[S["insufficient_data_fail"]]
    assert fail["Type"] == "Fail" and fail["Name"] != S["drift_fail"]
    assert "not drift" in fail["Arguments"]["ErrorMessage"]


def test_the_script_writes_the_verdict_the_gate_compares(steps):
    assert drift_check.VERDICT_INSUFFICIENT == contract.DRIFT_VERDICT_INSUFFICIENT_DATA
    assert drift_check.REPORT_JSON == contract.DRIFT_REPORT_FILE
    for name in GATES:
        prop = steps[name]["Arguments"]["Conditions"][0]["LeftValue"]["Std:JsonGet"]
        assert prop["Path"] in (contract.DRIFT_DETECTED_PATH, contract.DRIFT_VERDICT_PATH)


def failing_step(steps: dict, report: dict) -> str | None:
    """The fail step SageMaker would run: evaluate each gate's Equals condition on the report."""
    failed = []
    for name in GATES:
        condition, = steps[name]["Arguments"]["Conditions"]
        if report[condition["LeftValue"]["Std:JsonGet"]["Path"]] == condition["RightValue"]:
            failed += [s["Name"] for s in steps[name]["Arguments"]["IfSteps"]]
    assert len(failed) <= 1, failed  # the outcomes exclude each other
    return failed[0] if failed else None


@pytest.mark.parametrize("batch, rows, expected", [
    ("batch_clean", None, None),
    ("batch_drift_age", None, S["drift_fail"]),
    ("batch_clean", 10, S["insufficient_data_fail"]),
    ("batch_drift_age", 1, S["insufficient_data_fail"]),  # 1 row: no confident "no drift" either
])
def test_each_report_leads_to_exactly_one_outcome(steps, sets, mammography, tmp_path, batch, rows, expected):
    base = tmp_path / "processing"
    write_shared_inputs(base, mammography)
    (base / "input" / "reference").mkdir(parents=True)
    (base / "input" / "batch").mkdir(parents=True)
    (base / "input" / "reference" / "reference.data").write_bytes(sets["initial_train"].read_bytes())
    lines = sets[batch].read_bytes().splitlines(keepends=True)
    (base / "input" / "batch" / "part-0").write_bytes(b"".join(lines[:rows]))
    assert drift_check.main(["--base-dir", str(base)]) == 0  # the step succeeds; the gates decide
    report = json.loads((base / "output" / "drift" / contract.DRIFT_REPORT_FILE).read_text())
    assert failing_step(steps, report) == expected


def step_failed_event(step_name: str) -> dict:
    event = copy.deepcopy(json.loads((SAMPLE_EVENTS / "inference_drift_step_failed.json").read_text()))
    event["detail"].update(stepName=step_name, failureReason="Too little data to judge drift")
    return event


def test_too_little_data_is_notified_and_never_retrains():
    rules = {r.name: r for r in retraining_rules.workload_rules(INFERENCE_ARN, TRAINING_ARN)}
    fired = {name for name, rule in rules.items()
             if EventPattern.load(json.dumps(rule.pattern)).matches_event(
                 step_failed_event(S["insufficient_data_fail"]))}
    assert fired == {"inference-failed"}
    assert rules["inference-failed"].target == retraining_rules.TARGET_NOTIFY
    # The same event for the drift fail step goes to the gate: the name alone decides.
    drift = {name for name, rule in rules.items()
             if EventPattern.load(json.dumps(rule.pattern)).matches_event(step_failed_event(S["drift_fail"]))}
    assert drift == {"drift-detected"}
