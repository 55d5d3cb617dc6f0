"""Reading IAM policy documents out of registered resources."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.support.stacks import StackRun

# Resources whose inputs carry a policy document, and the input that holds it.
POLICY_INPUTS = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": "resourcePolicy",
}


def documents(run: StackRun) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource type, resource name, parsed document) for every policy in a stack."""
    for r in run.resources:
        key = POLICY_INPUTS.get(r.type)
        if key and r.inputs.get(key):
            yield r.type, r.name, json.loads(r.inputs[key])


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    s = doc["Statement"]
    return s if isinstance(s, list) else [s]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def by_sid(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    found = [s for s in statements(doc) if s.get("Sid") == sid]
    assert len(found) == 1, f"no single statement {sid} in {[s.get('Sid') for s in statements(doc)]}"
    return found[0]
