"""The rules of `catalog` as pulumi-policy policies, every one mandatory.

Only this module and `policy/__main__.py` import pulumi_policy; the rules themselves do not.
The stack's config reaches the pack the way it reaches programs: the CLI puts it in
PULUMI_CONFIG (every value a string, objects JSON-encoded).
"""
from __future__ import annotations

import functools
import os
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mlops_policies import catalog
from mlops_policies.model import ContextError, Resource, StackContext

PACK_NAME = "mlops-platform"


@functools.lru_cache(maxsize=1)
def stack_context() -> StackContext | ContextError:
    """Read once per pack process: the config does not change while the engine runs it."""
    return catalog.context_from(pulumi.runtime.get_config_env(), os.environ.get("PULUMI_STACK", ""))


def to_resource(args: Any) -> Resource:
    """ResourceValidationArgs or PolicyResource -> the rules' Resource.

    Policy packs never see `retain_on_delete` (not in the analyzer protocol): it stays None.
    """
    deps = getattr(args, "property_dependencies", None) or {}
    return Resource(
        type=args.resource_type, name=args.name, props=args.props, urn=args.urn,
        protect=bool(getattr(args.opts, "protect", False)), retain_on_delete=None,
        dependencies={k: frozenset(r.urn for r in v) for k, v in deps.items()})


def resource_policy(rule: catalog.ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in catalog.evaluate_resource(rule, to_resource(args), stack_context()):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name, description=rule.description, validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY, remediation_steps=rule.remediation)


def stack_policy(rule: catalog.StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [to_resource(r) for r in args.resources]
        for message, urn in catalog.evaluate_stack(rule, resources, stack_context()):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=rule.name, description=rule.description, validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY, remediation_steps=rule.remediation)


def policies() -> list:
    """Every rule of the catalog, wrapped."""
    return ([resource_policy(r) for r in catalog.RESOURCE_RULES]
            + [stack_policy(r) for r in catalog.STACK_RULES])
