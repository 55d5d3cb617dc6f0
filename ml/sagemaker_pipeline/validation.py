"""What `check` rejects: one validator per field, in a table.

A validator takes the field's value and all (normalized) properties and returns its reasons,
each a phrase that follows the field name and says what to do. Unknown values (preview) are
not judged: `check` runs again at deploy time with every value known.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ml.sagemaker_pipeline.inputs import ROLE_ARN_RE, account_of, is_unknown
from mlops_facts.regions import REGION

# The SageMaker SDK switches to an S3-hosted definition at this size; we only do inline.
MAX_DEFINITION_BYTES = 100 * 1024
MAX_PARALLELISM = 1000  # our sanity bound: the API only sets a minimum of 1
MAX_DESCRIPTION = 3072
MAX_TAGS = 50
MAX_START_PARAMETERS = 200
# Our bound: a destroy must finish inside the deploy jobs' 90-minute limit.
MAX_STOP_TIMEOUT_SECONDS = 3600
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
TAG_RE = re.compile(r"^[\w\s.:/=+\-@]*$")

Validator = Callable[[Any, Mapping[str, Any]], list[str]]


def _name(name: Any, _p: Mapping[str, Any]) -> list[str]:
    if isinstance(name, str) and 1 <= len(name) <= 256 and NAME_RE.match(name):
        return []
    return [f"{name!r} must be 1-256 letters, digits and single or repeated hyphens, starting "
            "and ending with a letter or digit (e.g. 'mlops-dev-training')"]


def _definition(definition: Any, _p: Mapping[str, Any]) -> list[str]:
    if not isinstance(definition, str) or not definition.strip():
        return ["must be the pipeline definition JSON string built by ml.pipelines"]
    size = len(definition.encode("utf-8"))
    if size > MAX_DEFINITION_BYTES:
        return [f"is {size} bytes; the inline limit is {MAX_DEFINITION_BYTES} bytes (100 KiB). "
                "Shrink it (shorter step names, parameters instead of repeated literals) or "
                "split the pipeline; this resource does not upload definitions to S3"]
    try:
        doc = json.loads(definition)
    except ValueError as exc:
        return [f"is not valid JSON ({exc}); pass Pipeline.definition() output unchanged"]
    if not isinstance(doc, dict) or not isinstance(doc.get("Steps"), list):
        return ["must be a JSON object with a 'Steps' list (a SageMaker pipeline definition)"]
    return []


def _is_role_arn(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 2048 and bool(ROLE_ARN_RE.match(value))


def _role_shape(value: Any) -> list[str]:
    if _is_role_arn(value):
        return []
    return [f"{value!r} must be an IAM role ARN like "
            "arn:aws:iam::123456789012:role/sagemaker-execution"]


def _role_arn(value: Any, _p: Mapping[str, Any]) -> list[str]:
    return _role_shape(value)


def _assume_role_arn(value: Any, p: Mapping[str, Any]) -> list[str]:
    if value is None:
        return []
    if not _is_role_arn(value):
        return _role_shape(value)
    pipeline_role = p.get("role_arn")
    if not isinstance(pipeline_role, str) or is_unknown(pipeline_role) \
            or not _is_role_arn(pipeline_role):
        return []  # role_arn's own rule reports a bad one
    assumed, owner = account_of(value), account_of(pipeline_role)
    if assumed == owner:
        return []
    return [f"is in account {assumed} but role_arn is in account {owner}; the pipeline lives "
            "where the assumed role acts and SageMaker can only pass a role of that same account"]


def _description(value: Any, _p: Mapping[str, Any]) -> list[str]:
    if isinstance(value, str) and len(value) <= MAX_DESCRIPTION:
        return []
    return [f"must be a string of at most {MAX_DESCRIPTION} characters"]


def _whole_number(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _parallelism(value: Any, _p: Mapping[str, Any]) -> list[str]:
    if _whole_number(value, 1, MAX_PARALLELISM):
        return []
    return [f"{value!r} must be a whole number from 1 to {MAX_PARALLELISM} "
            "(the most pipeline steps that may run at once)"]


def _region(value: Any, _p: Mapping[str, Any]) -> list[str]:
    if isinstance(value, str) and REGION.fullmatch(value):
        return []
    return [f"{value!r} must be an AWS region code such as 'eu-west-1'"]


def _tags(tags: Any, _p: Mapping[str, Any]) -> list[str]:
    if not isinstance(tags, Mapping):
        return ["must be a mapping of tag keys to string values"]
    problems = []
    if len(tags) > MAX_TAGS:
        problems.append(f"has {len(tags)} tags; SageMaker allows at most {MAX_TAGS}")
    for key, value in sorted(tags.items()):
        if not (isinstance(key, str) and 1 <= len(key) <= 128 and TAG_RE.match(key)):
            problems.append(f"key {key!r} must be 1-128 letters, digits, spaces or _.:/=+-@")
        elif key.lower().startswith("aws:"):
            problems.append(f"key {key!r} uses the reserved 'aws:' prefix; rename it")
        if not (isinstance(value, str) and len(value) <= 256 and TAG_RE.match(value)):
            problems.append(f"value of {key!r} must be a string of at most 256 allowed characters")
    return problems


def _start_parameters(params: Any, p: Mapping[str, Any]) -> list[str]:
    definition = p.get("definition")
    if is_unknown(definition):
        return []  # judged at deploy time, against the definition then known
    if not isinstance(params, Mapping):
        return ["must be a mapping of pipeline parameter names to string values"]
    if len(params) > MAX_START_PARAMETERS:
        return [f"has {len(params)} entries; at most {MAX_START_PARAMETERS} are allowed"]
    problems = [f"value of {k!r} must be a string" for k, v in sorted(params.items())
                if not isinstance(v, str)]
    try:
        declared = {d.get("Name") for d in json.loads(str(definition)).get("Parameters", [])}
    except (TypeError, ValueError, AttributeError):
        return problems  # the definition's own rule reports a bad one
    for name in sorted(set(params) - declared):
        problems.append(f"{name!r} is not a parameter of the definition "
                        f"(declared: {sorted(n for n in declared if n)})")
    return problems


def _flag(value: Any, _p: Mapping[str, Any]) -> list[str]:
    return [] if isinstance(value, bool) else ["must be true or false"]


def _stop_timeout(value: Any, _p: Mapping[str, Any]) -> list[str]:
    if _whole_number(value, 1, MAX_STOP_TIMEOUT_SECONDS):
        return []
    return [f"{value!r} must be a whole number of seconds from 1 to {MAX_STOP_TIMEOUT_SECONDS} "
            "(how long deleting the pipeline waits for its running executions to stop)"]


FIELD_RULES: dict[str, Validator] = {
    "name": _name,
    "definition": _definition,
    "role_arn": _role_arn,
    "assume_role_arn": _assume_role_arn,
    "description": _description,
    "parallelism": _parallelism,
    "region": _region,
    "tags": _tags,
    "start_parameters": _start_parameters,
    "adopt_existing": _flag,
    "start_on_create": _flag,
    "stop_timeout_seconds": _stop_timeout,
}


def check_inputs(props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with normalized inputs as (property, reason); unknown values are skipped."""
    return [(key, f"{key} {reason}")
            for key, rule in FIELD_RULES.items() if not is_unknown(props.get(key))
            for reason in rule(props.get(key), props)]
