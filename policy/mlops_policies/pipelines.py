"""Rules for SageMaker pipeline definitions (the dynamic resource's `definition` input).

The definition's job steps carry the arguments of the SageMaker Create*Job calls, so the
same fields the API takes are checked: KMS keys for volumes and outputs, a stopping
condition, and network isolation and VPC settings when the stack turns them on.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from mlops_policies.model import Resource, StackContext, Vpc

# Python dynamic resources: `pulumi-python:dynamic:Resource`, or `pulumi-python:dynamic/<module>:<Name>`
# when the resource class names its own type (SageMakerPipeline does).
DYNAMIC = "pulumi-python:dynamic"
NATIVE = "aws:sagemaker/pipeline:Pipeline"

# Per job type: where the volume key, the output key and the network settings live.
JOBS: dict[str, dict[str, tuple[str, ...]]] = {
    "Processing": {"volume": ("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"),
                   "output": ("ProcessingOutputConfig", "KmsKeyId"),
                   "isolation": ("NetworkConfig", "EnableNetworkIsolation"),
                   "vpc": ("NetworkConfig", "VpcConfig")},
    "Training": {"volume": ("ResourceConfig", "VolumeKmsKeyId"),
                 "output": ("OutputDataConfig", "KmsKeyId"),
                 "isolation": ("EnableNetworkIsolation",), "vpc": ("VpcConfig",)},
    # A transform job runs in the network of its model (the Model step is checked instead).
    "Transform": {"volume": ("TransformResources", "VolumeKmsKeyId"),
                  "output": ("TransformOutput", "KmsKeyId")},
    "Model": {"isolation": ("EnableNetworkIsolation",), "vpc": ("VpcConfig",)},
}


def definition_of(res: Resource) -> Any:
    """The definition input: `definition` on the dynamic resource, `pipelineDefinition` natively."""
    if is_dynamic(res.type):
        return res.props.get("definition")
    if res.type == NATIVE:
        return res.props.get("pipelineDefinition")
    return None


def is_dynamic(resource_type: str) -> bool:
    return resource_type.startswith((DYNAMIC + ":", DYNAMIC + "/"))


def is_pipeline(res: Resource) -> bool:
    return definition_of(res) is not None


def steps(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every step, including those inside condition branches."""
    def walk(items):
        for step in items or ():
            if isinstance(step, Mapping):
                yield step
                args = step.get("Arguments")
                if isinstance(args, Mapping):
                    yield from walk(args.get("IfSteps"))
                    yield from walk(args.get("ElseSteps"))
    yield from walk(definition.get("Steps"))


def parse_definition(res: Resource) -> Mapping[str, Any]:
    text = definition_of(res)
    try:
        doc = json.loads(text) if isinstance(text, str) else text
    except ValueError as err:
        raise ValueError(f"pipeline {res.name}: definition is not JSON ({err}); pass the JSON ml.pipelines builds") from err
    if not isinstance(doc, Mapping) or not isinstance(doc.get("Steps"), list):
        raise ValueError(f"pipeline {res.name}: definition has no Steps list; pass the JSON ml.pipelines builds")
    return doc


def check_pipeline_jobs(res: Resource, ctx: StackContext) -> list[str]:
    """Every job step encrypts volumes and outputs with a KMS key and is bounded in time; with
    the stack's VPC settings, every job (and model) runs in those subnets, isolated if asked."""
    if not is_pipeline(res):
        return []
    try:
        doc = parse_definition(res)
    except ValueError as err:
        return [f"{err}."]
    out = []
    for step in steps(doc):
        kind, args = step.get("Type"), step.get("Arguments")
        if kind not in JOBS or not isinstance(args, Mapping):
            continue
        where = f"pipeline {res.name} step {step.get('Name')!r} ({kind})"
        spec = JOBS[kind]
        for field in ("volume", "output"):
            if field in spec and not _set(_at(args, spec[field])):
                out.append(f"{where} sets no {'.'.join(spec[field])}. Fix: pass the stack's KMS key ARN "
                           f"(PipelineSettings.kms_key_arn) as the job's {field} key.")
        out += _bounded(where, kind, args)
        if ctx.vpc is not None:
            out += _network(where, spec, args, ctx.vpc)
    return out


def _bounded(where: str, kind: str, args: Mapping[str, Any]) -> list[str]:
    if kind in ("Processing", "Training") and not _set(_at(args, ("StoppingCondition", "MaxRuntimeInSeconds"))):
        return [f"{where} has no StoppingCondition.MaxRuntimeInSeconds, so a stuck job runs (and bills) "
                "for the service maximum. Fix: set max_runtime_in_seconds on the job."]
    if kind == "Transform":
        # CreateTransformJob has no job-level stopping condition; the per-request timeout and
        # retry count are what bound it.
        client = args.get("ModelClientConfig") or {}
        if not (_set(client.get("InvocationsTimeoutInSeconds")) and _set(client.get("InvocationsMaxRetries"))):
            return [f"{where} has no ModelClientConfig with InvocationsTimeoutInSeconds and InvocationsMaxRetries "
                    "(a transform job's only stopping bounds). Fix: set both on the transformer."]
    return []


def _network(where: str, spec: Mapping[str, tuple[str, ...]], args: Mapping[str, Any], vpc_config: Vpc) -> list[str]:
    out = []
    if "vpc" in spec:
        vpc = _at(args, spec["vpc"]) or {}
        subnets, groups = set(_strings(vpc.get("Subnets"))), set(_strings(vpc.get("SecurityGroupIds")))
        if subnets != set(vpc_config.subnets) or groups != set(vpc_config.security_groups):
            out.append(f"{where} runs in subnets {sorted(subnets)} / security groups {sorted(groups)}, not the "
                       f"stack's {sorted(vpc_config.subnets)} / {sorted(vpc_config.security_groups)}. Fix: build the "
                       "definition with PipelineSettings(subnets=..., security_group_ids=...) from config `vpc`.")
    if "isolation" in spec and vpc_config.network_isolation and _at(args, spec["isolation"]) is not True:
        out.append(f"{where} does not enable network isolation, which config `vpc.networkIsolation` requires. "
                   "Fix: build the definition with PipelineSettings(network_isolation=True).")
    return out


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _set(value: Any) -> bool:
    """A literal or a pipeline expression ({"Get": ...}, {"Std:Join": ...}); not empty."""
    return value not in (None, "", {}, [])


def _strings(value: Any) -> list[str]:
    return [v for v in (value or []) if isinstance(v, str)]


def registered_groups(res: Resource) -> list[Any]:
    """ModelPackageGroupName of every RegisterModel step (cross-account wiring)."""
    try:
        doc = parse_definition(res)
    except ValueError:
        return []
    return [(s.get("Arguments") or {}).get("ModelPackageGroupName") for s in steps(doc) if s.get("Type") == "RegisterModel"]
