"""EventBridge rules whose deliveries are bounded, retried and dead-lettered."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

# EventBridge's default keeps retrying for 24 h / 185 attempts; an hour and a handful is
# enough to ride out throttling, after which the DLQ alarm tells a person.
MAX_EVENT_AGE_SECONDS = 3600
MAX_RETRY_ATTEMPTS = 8


@dataclass(frozen=True)
class RuleTarget:
    """One target of a rule: what to deliver to, and how."""

    key: str  # short, stable, unique within the rule (the target id)
    arn: pulumi.Input[str]
    role_arn: pulumi.Input[str] | None = None  # needed for SageMaker pipeline targets
    pipeline_parameters: dict[str, str] | None = None


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
            pipeline = None
            if target.pipeline_parameters is not None:
                pipeline = {"pipeline_parameter_lists": [
                    {"name": k, "value": v} for k, v in sorted(target.pipeline_parameters.items())]}
            aws.cloudwatch.EventTarget(
                f"{name}-{target.key}", rule=self.rule.name, target_id=target.key, arn=target.arn,
                role_arn=target.role_arn, sagemaker_pipeline_target=pipeline,
                retry_policy={"maximum_event_age_in_seconds": MAX_EVENT_AGE_SECONDS,
                              "maximum_retry_attempts": MAX_RETRY_ATTEMPTS},
                dead_letter_config={"arn": args.dead_letter_arn}, opts=child)
        self.arn = self.rule.arn
        self.register_outputs({"arn": self.arn})
