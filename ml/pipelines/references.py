"""A reference checker for SageMaker pipeline definition JSON.

SageMaker rejects a definition with a dangling reference only when it is created, and some
references (a property file path, a Lambda output) fail only when an execution reaches them.
This walks a definition and proves offline that every `{"Get": ...}` (parameters, execution
variables, step properties, Lambda outputs, property files), every `Std:JsonGet` and every
`DependsOn` entry resolves to something the definition defines.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Execution variables of the Pipelines service (sagemaker.core.workflow.execution_variables).
EXECUTION_VARIABLES = frozenset(
    {"CurrentDateTime", "StartDateTime", "PipelineArn", "PipelineExecutionId",
     "PipelineExecutionArn", "PipelineName"}
)
EXPERIMENT_PROPERTIES = frozenset({"ExperimentName", "TrialName"})
_STEP_REF = re.compile(r"^Steps\.(?P<step>[^.\[]+)(?P<rest>.*)$")
_PROPERTY_FILE = re.compile(r"^\.PropertyFiles\.(?P<name>[^.\[]+)$")
_LAMBDA_OUTPUT = re.compile(r"^\.OutputParameters\['(?P<name>[^']+)'\]$")
_PROCESSING_OUTPUT = re.compile(r"^\.ProcessingOutputConfig\.Outputs\['(?P<name>[^']+)'\](?P<rest>.*)$")
_BRANCHES = ("IfSteps", "ElseSteps")


@dataclass
class StepInfo:
    """What one step defines that others may reference."""

    name: str
    type: str
    outputs: set[str] = field(default_factory=set)  # processing job output names
    property_files: set[str] = field(default_factory=set)
    lambda_outputs: set[str] = field(default_factory=set)


@dataclass
class ReferenceReport:
    """The outcome of a check: every reference found, and every one that did not resolve."""

    resolved: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every reference resolves."""
        return not self.problems


def _steps(steps: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Every step, including those nested in condition branches."""
    for step in steps:
        yield step
        for branch in _BRANCHES:
            yield from _steps(step.get("Arguments", {}).get(branch, []))


def _gets(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """(reference, location) of every `{"Get": ...}` under `node`."""
    if isinstance(node, Mapping):
        if set(node) == {"Get"} and isinstance(node["Get"], str):
            yield node["Get"], where
            return
        for key, value in node.items():
            if key in _BRANCHES:
                continue  # nested steps are checked as steps in their own right
            yield from _gets(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _gets(value, f"{where}[{index}]")


def _json_gets(node: Any, where: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "Std:JsonGet":
                yield value, where
            elif key not in _BRANCHES:
                yield from _json_gets(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _json_gets(value, f"{where}[{index}]")


def _collect_steps(definition: Mapping[str, Any], report: ReferenceReport) -> dict[str, StepInfo]:
    steps: dict[str, StepInfo] = {}
    for step in _steps(definition.get("Steps", [])):
        name = step.get("Name")
        if not isinstance(name, str) or not name:
            report.problems.append(f"a step has no name: {json.dumps(step)[:120]}")
            continue
        if name in steps:
            report.problems.append(f"step name {name!r} is defined twice")
        args = step.get("Arguments", {})
        info = StepInfo(name=name, type=step.get("Type", ""))
        for output in args.get("ProcessingOutputConfig", {}).get("Outputs", []):
            info.outputs.add(output.get("OutputName"))
        for prop in step.get("PropertyFiles", []):
            info.property_files.add(prop.get("PropertyFileName"))
            if prop.get("OutputName") not in info.outputs:
                report.problems.append(
                    f"step {name!r}: property file {prop.get('PropertyFileName')!r} reads output "
                    f"{prop.get('OutputName')!r}, which the step does not define ({sorted(info.outputs)})"
                )
            if not prop.get("FilePath"):
                report.problems.append(f"step {name!r}: property file {prop.get('PropertyFileName')!r} has no FilePath")
        for output in step.get("OutputParameters", []):
            info.lambda_outputs.add(output.get("OutputName"))
        steps[name] = info
    return steps


def _resolve(ref: str, owner: str, params: set[str], steps: dict[str, StepInfo]) -> str | None:
    """None when `ref` (used in step `owner`, or "" at top level) resolves, else why not."""
    root, _, rest = ref.partition(".")
    if root == "Parameters":
        return None if rest in params else f"parameter {rest!r} is not defined ({sorted(params)})"
    if root == "Execution":
        return None if rest in EXECUTION_VARIABLES else f"unknown execution variable {rest!r}"
    if root == "PipelineExperimentConfig":
        return None if rest in EXPERIMENT_PROPERTIES else f"unknown experiment property {rest!r}"
    match = _STEP_REF.match(ref)
    if not match:
        return f"unknown reference root {root!r}"
    name, rest = match["step"], match["rest"]
    if name not in steps:
        return f"step {name!r} is not defined"
    if name == owner:
        return f"step {name!r} references its own properties"
    step = steps[name]
    if m := _PROPERTY_FILE.match(rest):
        return None if m["name"] in step.property_files else (
            f"step {name!r} has no property file {m['name']!r} ({sorted(step.property_files)})")
    if m := _LAMBDA_OUTPUT.match(rest):
        return None if m["name"] in step.lambda_outputs else (
            f"step {name!r} has no Lambda output {m['name']!r} ({sorted(step.lambda_outputs)})")
    if m := _PROCESSING_OUTPUT.match(rest):
        return None if m["name"] in step.outputs else (
            f"step {name!r} has no processing output {m['name']!r} ({sorted(step.outputs)})")
    if not rest.startswith(".") or len(rest) < 2:
        return f"reference to step {name!r} names no property"
    return None


def check_references(definition: str | Mapping[str, Any]) -> ReferenceReport:
    """Check every reference of a pipeline definition (JSON text or parsed)."""
    if isinstance(definition, str):
        definition = json.loads(definition)
    assert not isinstance(definition, str)
    report = ReferenceReport()
    params = {p.get("Name") for p in definition.get("Parameters", [])}
    steps = _collect_steps(definition, report)

    scopes: list[tuple[str, Any, str]] = [
        ("", definition.get("PipelineExperimentConfig"), "PipelineExperimentConfig"),
    ]
    for step in _steps(definition.get("Steps", [])):
        name = step.get("Name", "?")
        scopes.append((name, {k: v for k, v in step.items() if k != "DependsOn"}, f"Steps[{name}]"))
        for dependency in step.get("DependsOn", []) or []:
            if dependency not in steps:
                report.problems.append(f"Steps[{name}].DependsOn: step {dependency!r} is not defined")
            elif dependency == name:
                report.problems.append(f"Steps[{name}].DependsOn: a step cannot depend on itself")
            else:
                report.resolved.append(f"DependsOn {dependency}")

    for owner, node, where in scopes:
        for ref, location in _gets(node, where):
            problem = _resolve(ref, owner, params, steps)
            if problem:
                report.problems.append(f"{location}: {ref!r}: {problem}")
            else:
                report.resolved.append(ref)
        for json_get, location in _json_gets(node, where):
            prop = json_get.get("PropertyFile")
            if not json_get.get("Path"):
                report.problems.append(f"{location}: Std:JsonGet has no Path")
            if prop is None and "S3Uri" not in json_get:
                report.problems.append(f"{location}: Std:JsonGet names neither a PropertyFile nor an S3Uri")
            elif isinstance(prop, Mapping) and not _PROPERTY_FILE.match(
                (_STEP_REF.match(prop.get("Get", "")) or {"rest": ""})["rest"]
            ):
                report.problems.append(f"{location}: Std:JsonGet PropertyFile is not a property file: {prop}")
    return report


def assert_references(definition: str | Mapping[str, Any]) -> ReferenceReport:
    """`check_references`, raising ValueError that lists every unresolved reference."""
    report = check_references(definition)
    if report.problems:
        raise ValueError("pipeline definition has unresolved references:\n  " + "\n  ".join(report.problems))
    return report
