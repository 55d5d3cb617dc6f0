"""The summary approvers read: every field they must judge, and nothing the registering account
wrote can format the page, hide text or pass for something else."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.github.workflow_files import GITHUB_DIR

SCRIPT = GITHUB_DIR / "scripts" / "model_version_summary.py"
ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/mammo-severity-model-package/7"
PACKAGE = {
    "ModelPackageArn": ARN, "ModelPackageVersion": 7, "ModelApprovalStatus": "PendingManualApproval",
    "CreationTime": "2026-05-01T06:00:00+00:00",
    "CreatedBy": {"IamIdentity": {"Arn": "arn:aws:sts::222222222222:assumed-role/mlops-dev-sagemaker-execution/x"}},
    "InferenceSpecification": {"Containers": [{"Image": "img:3.0-5", "ModelDataUrl": "s3://b/models/dev/m.tar.gz"}]},
    "ModelMetrics": {"ModelQuality": {"Statistics": {"S3Uri": "s3://b/models/dev/evaluation.json"}}},
    "CustomerMetadataProperties": {"ReferenceDataUri": "s3://b/models/dev/reference"},
}
EVALUATION = {"binary_classification_metrics": {"auc": {"value": 0.91234}, "f1": {"value": "NaN"}}, "test_rows": 145}


def render(tmp_path, package, evaluation=None):
    (tmp_path / "package.json").write_text(json.dumps(package))
    args = [sys.executable, str(SCRIPT), str(tmp_path / "package.json")]
    if evaluation is not None:
        (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
        args.append(str(tmp_path / "evaluation.json"))
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def test_the_summary_names_who_registered_what_and_how_well_it_scored(tmp_path):
    proc = render(tmp_path, PACKAGE, EVALUATION)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for shown in (f"`{ARN}`", "`PendingManualApproval`", "assumed-role/mlops-dev-sagemaker-execution",
                  "`img:3.0-5`", "`s3://b/models/dev/m.tar.gz`", "`s3://b/models/dev/evaluation.json`",
                  "`ReferenceDataUri`", "| auc | 0.9123 |", "| f1 | `NaN` |", "| test rows | 145 |"):
        assert shown in out, shown


def test_without_metrics_the_summary_says_so(tmp_path):
    assert "**No metrics could be read" in render(tmp_path, PACKAGE).stdout


@pytest.mark.parametrize("hostile", [
    "img` [approve me](https://evil.example) `",
    "img | injected | cell |",
    "img\n### Approved already\n<img src=x onerror=alert(1)>",
    "::set-output name=version::1",
    "x" * 5000,
])
def test_values_written_by_the_registering_account_stay_inert(tmp_path, hostile):
    package = json.loads(json.dumps(PACKAGE))
    package["InferenceSpecification"]["Containers"][0]["Image"] = hostile
    package["CustomerMetadataProperties"] = {hostile: hostile}
    out = render(tmp_path, package, EVALUATION).stdout
    for line in out.splitlines():
        if hostile[:3] in line:
            cells = line.split(" | ")
            # Each value sits whole inside one code span of its table cell: no new cell, no
            # new line, no link or heading outside code.
            assert line.startswith("| ") and line.endswith(" |"), line
            assert line.count("`") in (2, 4), line
            assert len(re.findall(r"(?<!\\)\|", line)) == 3, f"a two-column row has three pipes: {line}"
            assert len(line) < 800, "values are capped"
            assert not any(c.startswith(("#", "<", "[")) for c in cells)
    assert "\n### Approved already" not in out


@pytest.mark.parametrize("content", ["not json", json.dumps({"Something": "else"}), json.dumps([1, 2])])
def test_anything_but_a_model_package_description_is_refused(tmp_path, content):
    (tmp_path / "package.json").write_text(content)
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "package.json")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
