"""The deploy-time smoke test asks a real (moto) SageMaker runtime about rows of the model's own
data and fails on answers of the wrong shape, outside [0, 1], or no better than chance."""
from __future__ import annotations

import json
import urllib.request

import boto3
import pytest

from ml.models import PROJECT_ROOT, load_project_models
from ml.serving import smoke_test

ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(scope="module")
def mammography():
    return next(s for s in load_project_models(PROJECT_ROOT) if s.name == "mammography")


def _queue(endpoint_url: str, body: str) -> None:
    """The next answer of moto's SageMaker runtime (its documented way to script endpoint results)."""
    data = json.dumps({"account_id": ACCOUNT, "region": "eu-west-1",
                       "results": [{"Body": body, "ContentType": "text/csv", "InvokedProductionVariant": "AllTraffic"}]})
    request = urllib.request.Request(f"{endpoint_url}/moto-api/static/sagemaker/endpoint-results", data=data.encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


def _run(spec, rows=40, min_auc=0.6):
    client = boto3.client("sagemaker-runtime", region_name="eu-west-1")
    return smoke_test.run(spec, "mlops-dev-mammography", rows=rows, min_auc=min_auc, client=client, root=PROJECT_ROOT)


def test_rows_are_complete_real_rows_of_both_classes_in_the_models_feature_order(mammography):
    sample = smoke_test.sample_rows(mammography.schema, (PROJECT_ROOT / mammography.data_file).read_text(), 40)
    rows = [line.split(",") for line in sample.payload.splitlines()]
    assert len(rows) == 40 and {len(r) for r in rows} == {len(mammography.schema.features)}
    assert set(sample.labels) == {0, 1}
    assert all(f.strip() not in ("?", "") for r in rows for f in r)


def test_answers_that_rank_the_labels_pass(aws, mammography):
    sample = smoke_test.sample_rows(mammography.schema, (PROJECT_ROOT / mammography.data_file).read_text(), 40)
    _queue(aws, "\n".join("0.83" if y else "0.12" for y in sample.labels))
    result = _run(mammography)
    assert result["auc"] == 1.0 and result["rows"] == 40 and result["variant"] == "AllTraffic"


@pytest.mark.parametrize(("body", "why"), [
    ("0.5\n" * 39, "39 scores for 40 rows"),
    ("1.7\n" + "0.5\n" * 39, "outside [0, 1]"),
    ("<html>error</html>\n" * 40, "not a number"),
])
def test_answers_of_the_wrong_shape_or_range_fail(aws, mammography, body, why):
    _queue(aws, body)
    with pytest.raises(smoke_test.SmokeTestError, match=why.replace("[", r"\[").replace("]", r"\]")):
        _run(mammography)


def test_answers_in_range_but_unrelated_to_the_labels_fail(aws, mammography):
    sample = smoke_test.sample_rows(mammography.schema, (PROJECT_ROOT / mammography.data_file).read_text(), 40)
    _queue(aws, "\n".join("0.2" if y else "0.7" for y in sample.labels))  # inverted: AUC 0
    with pytest.raises(smoke_test.SmokeTestError, match="ROC AUC 0.000"):
        _run(mammography)


def test_the_command_reports_a_missing_model_without_calling_aws(capsys):
    assert smoke_test.main(["--model", "nosuch", "--endpoint", "e", "--region", "eu-west-1"]) == 1
    assert "no model 'nosuch'" in capsys.readouterr().err
