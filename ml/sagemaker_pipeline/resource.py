"""`SageMakerPipeline` and its arguments: what a Pulumi program declares."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pulumi

from ml.sagemaker_pipeline.inputs import INPUT_KEYS, LATER_KEYS, OUTPUT_KEYS, UNKNOWN, normalize
from ml.sagemaker_pipeline.provider import SageMakerPipelineProvider
from ml.sagemaker_pipeline.validation import check_inputs


@dataclasses.dataclass
class SageMakerPipelineArgs:
    """Inputs of a `SageMakerPipeline`.

    `region` and `assume_role_arn` are stored in state so that refresh and delete reach the
    same account and region later. The pipeline lives in the account of `role_arn`.
    """

    name: pulumi.Input[str]
    """Pipeline name: 1-256 letters, digits and hyphens. Changing it replaces the pipeline."""
    definition: pulumi.Input[str]
    """Definition JSON as built by `ml.pipelines` (at most 100 KiB)."""
    role_arn: pulumi.Input[str]
    """Execution role SageMaker passes to the steps; its account is the pipeline's account."""
    region: pulumi.Input[str]
    """AWS region of the pipeline. Changing it replaces the pipeline."""
    description: pulumi.Input[str] = ""
    tags: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)
    parallelism: pulumi.Input[int] = 10
    """Most steps one execution may run at once."""
    assume_role_arn: pulumi.Input[str] | None = None
    """Role (in the pipeline's account) the provider assumes for every call, if any."""
    adopt_existing: bool = False
    """Manage a same-named pipeline that already exists instead of failing on create."""
    start_on_create: bool = False
    """Start one execution right after the pipeline is created (not on adopt or update)."""
    start_parameters: Mapping[str, pulumi.Input[str]] = dataclasses.field(default_factory=dict)
    """Pipeline parameters for that first execution; each must be declared in the definition."""
    stop_timeout_seconds: pulumi.Input[int] | None = None
    """How long deleting the pipeline waits for its running executions to stop (None: the
    provider's default, 20 minutes). Stored in state: a destroy uses the value of the last
    `pulumi up`."""


def _plain(value: Any) -> Any:
    """`value` with every Output replaced by the unknown marker, for early checks."""
    if isinstance(value, pulumi.Output):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


class SageMakerPipeline(pulumi.dynamic.Resource, module="mlops", name="SageMakerPipeline"):
    """A SageMaker pipeline managed through `SageMakerPipelineProvider`.

    It owns what the native `aws.sagemaker.Pipeline` does not: definitions compared by
    meaning, a content hash output, drift read back on refresh, adoption of a pipeline made
    outside Pulumi, the first-deploy run, and a delete that stops running executions first.
    """

    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    account_id: pulumi.Output[str]
    definition_sha256: pulumi.Output[str]
    """SHA-256 of the canonical definition: changes exactly when the pipeline's meaning does."""
    first_execution_arn: pulumi.Output[str | None]
    adopted: pulumi.Output[bool]

    def __init__(self, resource_name: str, args: SageMakerPipelineArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = {k: getattr(args, k) for k in INPUT_KEYS
                                 if k not in LATER_KEYS or getattr(args, k) is not None}
        # Fail at registration, with every problem at once, for values already known:
        # preview would say the same later, and unit tests under mocks never run check().
        problems = check_inputs(normalize(_plain(props)))
        if problems:
            raise ValueError(f"SageMakerPipeline {resource_name!r}: "
                             + "; ".join(reason for _, reason in problems))
        props.update(dict.fromkeys(OUTPUT_KEYS))
        super().__init__(SageMakerPipelineProvider(), resource_name, props, opts)
