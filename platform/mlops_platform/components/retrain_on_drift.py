"""Scheduled inference, and retraining when the inference pipeline finds drift."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ml import retraining_rules
from mlops_facts import arn
from mlops_platform import iam, naming
from mlops_platform.components.events import GuardedRule, GuardedRuleArgs, RuleTarget
from mlops_platform.components.functions import PlatformFunction, PlatformFunctionArgs
from mlops_platform.components.kms import KEY_USE_ACTIONS
from mlops_platform.components.ml_code import MlCode
from mlops_platform.settings import WorkloadSettings


@dataclass(frozen=True)
class RetrainOnDriftArgs:
    settings: WorkloadSettings
    code: MlCode
    bucket_name: str
    data_key_arn: pulumi.Input[str]
    notifications_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    dead_letter_arn: pulumi.Input[str]
    events_role_arn: pulumi.Input[str]


class RetrainOnDrift(pulumi.ComponentResource):
    """EventBridge wiring of the model loop in one workload account.

    - a schedule starts the inference pipeline;
    - only the inference pipeline's drift fail step starts retraining, through the retrain
      gate: a Lambda that lets one training run through per cool-down (an atomic DynamoDB
      lease) and none while one is running, so a burst of drift events is no storm;
    - every other failure of either pipeline notifies the alert topic, once;
    - every target has a bounded retry policy and the encrypted dead-letter queue.
    """

    def __init__(self, name: str, args: RetrainOnDriftArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:RetrainOnDrift", name, None, opts)
        s, child = args.settings, pulumi.ResourceOptions(parent=self)
        pre, account = naming.prefix(s.role), s.account_id
        inference_arn = naming.pipeline_arn(s.region, account, s.role, "inference")
        training_arn = naming.pipeline_arn(s.region, account, s.role, "training")
        table_name = f"{pre}-retrain-lease"
        table_arn = arn("dynamodb", s.region, account, f"table/{table_name}")
        hash_key = retraining_rules.LEASE_TABLE_HASH_KEY
        aws.dynamodb.Table(
            "retrain-lease", name=table_name, billing_mode=retraining_rules.LEASE_TABLE_BILLING_MODE,
            hash_key=hash_key, attributes=[{"name": hash_key, "type": retraining_rules.LEASE_TABLE_HASH_KEY_TYPE}],
            ttl={"attribute_name": retraining_rules.LEASE_TABLE_TTL_ATTRIBUTE, "enabled": True},
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": args.data_key_arn}, opts=child)

        gate_name = f"{pre}-retrain-gate"
        gate_logs = arn("logs", s.region, account, f"log-group:/aws/lambda/{gate_name}:*")
        gate_role = aws.iam.Role(
            "retrain-gate-role", name=naming.role_name(s.role, naming.RETRAIN_GATE_LAMBDA),
            description="Starts the training pipeline on drift, at most once per cool-down.",
            assume_role_policy=iam.service_trust("lambda.amazonaws.com", account), opts=child)
        gate_policy_resource = aws.iam.RolePolicy("retrain-gate-policy", role=gate_role.name, name="least-privilege",
                           policy=pulumi.Output.all(args.data_key_arn, args.notifications_key_arn,
                                                    args.dead_letter_arn).apply(
                               lambda v: gate_policy(training_arn, table_arn, gate_logs, *v)),
                           opts=child)
        gate_environment: dict[str, pulumi.Input[str]] = {**retraining_rules.retrain_gate_environment(
            training_pipeline_name=naming.pipeline_name(s.role, "training"),
            inference_pipeline_arn=inference_arn, lease_table_name=table_name,
            cooldown_seconds=s.workload.retrain_cooldown_minutes * 60)}
        gate = PlatformFunction("retrain-gate", PlatformFunctionArgs(
            function_name=gate_name, description="Starts retraining on drift, at most once per cool-down.",
            package=args.code.lambdas["retrain-gate"], bucket_name=args.bucket_name, role_arn=gate_role.arn,
            environment=gate_environment), depends_on=args.code.uploads, opts=child)
        # Lambda's own retries of an asynchronous invocation are bounded too, and land in the DLQ.
        aws.lambda_.FunctionEventInvokeConfig(
            "retrain-gate", function_name=gate.name, maximum_retry_attempts=2,
            maximum_event_age_in_seconds=3600,
            destination_config={"on_failure": {"destination": args.dead_letter_arn}},
            # Lambda checks the role may send to the destination when the config is written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gate_policy_resource]))

        rules = {spec.name: spec for spec in retraining_rules.workload_rules(inference_arn, training_arn)}
        after = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        for spec in rules.values():
            to_gate = spec.target == retraining_rules.TARGET_RETRAIN_GATE
            target = (RuleTarget(key="retrain-gate", arn=gate.arn) if to_gate
                      else RuleTarget(key="notify", arn=args.alert_topic_arn))
            rule = GuardedRule(spec.name, GuardedRuleArgs(
                rule_name=f"{pre}-{spec.name}", description=spec.description,
                dead_letter_arn=args.dead_letter_arn, event_pattern=spec.pattern, targets=[target]), opts=after)
            if to_gate:
                aws.lambda_.Permission("retrain-gate-invoke", action="lambda:InvokeFunction",
                                       function=gate.name, principal="events.amazonaws.com",
                                       source_arn=rule.arn, opts=child)
        GuardedRule("inference-schedule", GuardedRuleArgs(
            rule_name=f"{pre}-inference-schedule", description="Starts batch inference on the configured schedule.",
            dead_letter_arn=args.dead_letter_arn, schedule_expression=s.workload.inference_schedule,
            # No parameters: each run reads the batch at the pipeline's default location.
            targets=[RuleTarget(key="inference", arn=inference_arn, role_arn=args.events_role_arn)]),
            opts=after)
        self.register_outputs({})


def gate_policy(training_arn: str, table_arn: str, log_group_arn: str, data_key: str,
                notifications_key: str, dead_letters: str) -> str:
    """What the gate calls (from `ml.retraining_rules`), plus the keys, DLQ and logs around it."""
    return iam.document(
        *retraining_rules.retrain_gate_policy(training_arn, table_arn)["Statement"],
        iam.allow("LeaseTableKey", KEY_USE_ACTIONS, data_key, Condition={"StringEquals": {
            "kms:ViaService": f"dynamodb.{training_arn.split(':')[3]}.amazonaws.com"}}),
        iam.allow("DeadLetterFailedInvocations", ["sqs:SendMessage"], dead_letters),
        iam.allow("DeadLetterQueueKey", ["kms:Decrypt", "kms:GenerateDataKey"], notifications_key),
        iam.allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], log_group_arn),
    )
