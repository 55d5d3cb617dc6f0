"""EventBridge rules whose deliveries are bounded, retried and dead-lettered."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

# EventBridge's default keeps retrying for 24 h / 185 attempts; an hour and a handful is
# enough to ride out throttling, after which the DLQ alarm tells a person. A drift or failure
# signal older than an hour is stale anyway: the next scheduled run reports again.
MAX_EVENT_AGE_SECONDS = 3600
MAX_RETRY_ATTEMPTS = 8


@dataclass(frozen=True)
class RuleTarget:
    """One target of a rule: what to deliver to, and how."""

    key: str  # short, stable, unique within the rule (the target id)
    arn: pulumi.Input[str]
    role_arn: pulumi.Input[str] | None = None  # needed for SageMaker pipeline targets
    # Parameters a SageMaker pipeline target starts the execution with; none: the defaults.
    pipeline_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GuardedRuleArgs:
    rule_name: str
    description: str
    dead_letter_arn: pulumi.Input[str]
    event_pattern: dict[str, Any] | None = None
    schedule_expression: str | None = None
    targets: list[RuleTarget] = field(default_factory=list)


class GuardedRule(pulumi.ComponentResource):
    """An EventBridge rule (pattern or schedule) and its targets, each with a bounded retry
    policy and the stack's encrypted dead-letter queue."""

    def __init__(self, name: str, args: GuardedRuleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:events:GuardedRule", name, None, opts)
        if (args.event_pattern is None) == (args.schedule_expression is None):
            raise ValueError(f"rule {args.rule_name}: give exactly one of event_pattern and schedule_expression")
        child = pulumi.ResourceOptions(parent=self)
        self.rule = aws.cloudwatch.EventRule(
            name, name=args.rule_name, description=args.description,
            event_pattern=json.dumps(args.event_pattern, sort_keys=True) if args.event_pattern else None,
            schedule_expression=args.schedule_expression, opts=child)
        for target in args.targets:
            aws.cloudwatch.EventTarget(
                f"{name}-{target.key}", rule=self.rule.name, target_id=target.key, arn=target.arn,
                role_arn=target.role_arn, sagemaker_pipeline_target=pipeline_target(target.pipeline_parameters),
                retry_policy={"maximum_event_age_in_seconds": MAX_EVENT_AGE_SECONDS,
                              "maximum_retry_attempts": MAX_RETRY_ATTEMPTS},
                dead_letter_config={"arn": args.dead_letter_arn}, opts=child)
        self.arn = self.rule.arn
        self.register_outputs({"arn": self.arn})


def pipeline_target(parameters: dict[str, str]) -> aws.cloudwatch.EventTargetSagemakerPipelineTargetArgsDict | None:
    """The `sagemaker_pipeline_target` block, or None (omitted) when there are no parameters.

    An empty nested block is not "no block" to the bridged provider: it is known to crash the
    expander or to show a diff on every preview. The pipeline then runs with its defaults.
    """
    if not parameters:
        return None
    return {"pipeline_parameter_lists": [{"name": k, "value": v} for k, v in sorted(parameters.items())]}
