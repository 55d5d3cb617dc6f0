"""The reference checker accepts both real definitions and catches every kind of dangling reference."""
from __future__ import annotations

import copy
import json

import pytest

from ml.pipelines.references import assert_references, check_references


@pytest.fixture(scope="module")
def training(built):
    return json.loads(built("isolated")["training"])


@pytest.fixture(scope="module")
def inference(built):
    return json.loads(built("isolated")["inference"])


def replace_everywhere(node, old, new):
    """A deep copy of `node` with every string equal to `old` replaced by `new`."""
    if isinstance(node, dict):
        return {k: replace_everywhere(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [replace_everywhere(v, old, new) for v in node]
    return new if node == old else node


def test_both_definitions_resolve_completely(training, inference):
    for definition in (training, inference):
        report = check_references(definition)
        assert report.ok, report.problems
        assert len(report.resolved) > 10


def test_accepts_json_text_as_well(built):
    assert check_references(built("isolated")["inference"]).ok


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("Parameters.AucThreshold", "Parameters.AucTreshold", "parameter 'AucTreshold' is not defined"),
    ("Steps.Evaluate.PropertyFiles.EvaluationReport", "Steps.Evaluate.PropertyFiles.Eval",
     "no property file 'Eval'"),
    ("Steps.TrainXGBoost.ModelArtifacts.S3ModelArtifacts", "Steps.TrainXG.ModelArtifacts.S3ModelArtifacts",
     "step 'TrainXG' is not defined"),
    ("Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri",
     "Steps.Preprocess.ProcessingOutputConfig.Outputs['tests'].S3Output.S3Uri", "no processing output 'tests'"),
    ("Execution.PipelineExecutionId", "Execution.ExecutionId", "unknown execution variable"),
])
def test_a_dangling_reference_in_training_is_caught(training, old, new, problem):
    broken = replace_everywhere(training, old, new)
    assert broken != training
    report = check_references(broken)
    assert any(problem in p for p in report.problems), report.problems
    with pytest.raises(ValueError, match="unresolved references"):
        assert_references(broken)


def test_a_missing_lambda_output_is_caught(inference):
    broken = copy.deepcopy(inference)
    lambda_step = next(s for s in broken["Steps"] if s["Type"] == "Lambda")
    lambda_step["OutputParameters"] = [o for o in lambda_step["OutputParameters"] if o["OutputName"] != "ImageUri"]
    problems = check_references(broken).problems
    assert any("no Lambda output 'ImageUri'" in p for p in problems), problems


def test_a_dangling_depends_on_is_caught(inference):
    broken = copy.deepcopy(inference)
    drift = next(s for s in broken["Steps"] if s["Name"] == "CheckDataDrift")
    drift["DependsOn"] = ["BatchTransfrom"]
    assert check_references(broken).problems == [
        "Steps[CheckDataDrift].DependsOn: step 'BatchTransfrom' is not defined"]


def test_a_property_file_on_an_undefined_output_is_caught(inference):
    broken = copy.deepcopy(inference)
    drift = next(s for s in broken["Steps"] if s["Name"] == "CheckDataDrift")
    drift["PropertyFiles"][0]["OutputName"] = "report"
    assert any("reads output 'report'" in p for p in check_references(broken).problems)


def test_duplicate_step_names_and_self_references_are_caught(training):
    broken = copy.deepcopy(training)
    broken["Steps"].append(copy.deepcopy(broken["Steps"][0]))
    assert any("defined twice" in p for p in check_references(broken).problems)
    selfish = copy.deepcopy(training)
    train = next(s for s in selfish["Steps"] if s["Name"] == "TrainXGBoost")
    train["Arguments"]["Environment"] = {"X": {"Get": "Steps.TrainXGBoost.TrainingJobName"}}
    assert any("references its own properties" in p for p in check_references(selfish).problems)


def test_steps_inside_condition_branches_are_checked(training):
    broken = replace_everywhere(training, "Steps.Preprocess.ProcessingOutputConfig.Outputs['reference'].S3Output.S3Uri",
                                "Steps.Prep.ProcessingOutputConfig.Outputs['reference'].S3Output.S3Uri")
    problems = check_references(broken).problems
    assert any("RegisterModel" in p and "'Prep' is not defined" in p for p in problems), problems


def test_a_json_get_without_a_path_or_source_is_caught(training):
    broken = copy.deepcopy(training)
    condition = next(s for s in broken["Steps"] if s["Type"] == "Condition")
    condition["Arguments"]["Conditions"][0]["LeftValue"] = {"Std:JsonGet": {"Path": ""}}
    problems = check_references(broken).problems
    assert any("no Path" in p for p in problems) and any("neither a PropertyFile" in p for p in problems)
