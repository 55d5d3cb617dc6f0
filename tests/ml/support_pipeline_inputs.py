"""Valid inputs for the SageMakerPipeline provider tests, built fresh for each test."""
from __future__ import annotations

import json
from typing import Any

ACCOUNT = "123456789012"  # moto's default account for the fake credentials
OTHER_ACCOUNT = "210987654321"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
REGION = "eu-west-1"


def definition(*, steps: int = 1, parameters: tuple[str, ...] = ("InputDataUrl",),
               indent: int | None = None, sort_keys: bool = False) -> str:
    """A small pipeline definition in the shape ml.pipelines emits."""
    doc = {
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
    """Checked-shape inputs for one pipeline; override any key."""
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
