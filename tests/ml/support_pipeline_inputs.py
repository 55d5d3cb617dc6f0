"""Valid inputs for the SageMakerPipeline provider tests, built fresh for each test."""
from __future__ import annotations

import json
from typing import Any

ACCOUNT = "123456789012"  # moto's default account for the fake credentials
OTHER_ACCOUNT = "210987654321"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
REGION = "eu-west-1"

# The `__provider` input exactly as states written before `ml.sagemaker_pipeline` became a
# package hold it (copied from tests/golden/dev.json, made by the single-module provider of
# commit 36c8e55): base64 of dill's pickle of the provider, a reference to
# `ml.sagemaker_pipeline.SageMakerPipelineProvider`.
PROVIDER_IN_STATE = ("gASVOgAAAAAAAACMFW1sLnNhZ2VtYWtlcl9waXBlbGluZZSMGVNhZ2VNYWtlclBpcGVsaW5l"
                     "UHJvdmlkZXKUk5QpgZQu")


def definition(*, steps: int = 1, parameters: tuple[str, ...] = ("InputDataUrl",),
               indent: int | None = None, sort_keys: bool = False) -> str:
    """A small pipeline definition in the shape ml.pipelines emits."""
    doc: dict[str, Any] = {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [{"Name": p, "Type": "String", "DefaultValue": "s3://bucket/in"}
                       for p in parameters],
        "PipelineExperimentConfig": None,
        "Steps": [{"Name": f"Step{i}", "Type": "Fail",
                   "Arguments": {"ErrorMessage": f"stop {i}"}} for i in range(steps)],
    }
    return json.dumps(doc, indent=indent, sort_keys=sort_keys)


def inputs(**overrides: Any) -> dict[str, Any]:
    """Checked-shape inputs for one pipeline, as the program registers them; override any key.

    `stop_timeout_seconds` is left out, as the platform's program leaves it out (it is
    registered only when set).
    """
    base = {
        "name": "mlops-dev-training",
        "definition": definition(),
        "role_arn": ROLE,
        "description": "Training pipeline",
        "tags": {"project": "mlops-platform", "stack": "dev"},
        "parallelism": 4,
        "region": REGION,
        "assume_role_arn": None,
        "adopt_existing": False,
        "start_on_create": False,
        "start_parameters": {},
    }
    base.update(overrides)
    return base


def executions(client: Any, name: str) -> list[dict[str, Any]]:
    """The pipeline's execution summaries, as a plain boto3 client sees them."""
    return client.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]


def pipeline_names(client: Any) -> list[str]:
    return [p["PipelineName"] for p in client.list_pipelines()["PipelineSummaries"]]
