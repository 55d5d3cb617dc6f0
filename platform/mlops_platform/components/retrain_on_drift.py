"""Scheduled inference (and, for a model an endpoint serves, scheduled live-drift checks), and
retraining when either finds drift, for one model."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ml import retrain_gate_settings, retraining_rules
from ml.models import ModelSpec
from mlops_facts import arn
from mlops_platform import iam, naming
from mlops_platform.components.events import GuardedRule, GuardedRuleArgs, RuleTarget
from mlops_platform.components.functions import PlatformFunction, PlatformFunctionArgs
from mlops_platform.components.kms import KEY_USE_ACTIONS
from mlops_platform.components.ml_code import MlCode
from mlops_platform.components.pipelines import LIVE_DRIFT, has_live_drift
from mlops_platform.settings import WorkloadSettings

GATE_FUNCTION = "retrain-gate"
LEASE_TABLE = "retrain-lease"


@dataclass(frozen=True)
class GateShared:
    """What every model's retrain gate shares in one stack: the role (one policy, scoped by
    pattern to every model's training pipeline) and the lease table (one lease item per training
    pipeline, `retrain_gate.GateConfig.lease_id`, so each model has its own lease)."""

    role_arn: pulumi.Output[str]
    table_name: str
    policy: pulumi.Resource  # the role's policy: Lambda checks it when the invoke config is written


@dataclass(frozen=True)
class RetrainOnDriftArgs:
    settings: WorkloadSettings
    model: ModelSpec
    names: naming.ModelNames
    code: MlCode
    bucket_name: str
    data_key_arn: pulumi.Input[str]
    notifications_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    dead_letter_arn: pulumi.Input[str]
    events_role_arn: pulumi.Input[str]
    shared: GateShared | None = None  # None: create the shared pieces (the first model's component)
    live_drift: bool | None = None  # as ModelPipelinesArgs.live_drift (components/pipelines.py)


class RetrainOnDrift(pulumi.ComponentResource):
    """EventBridge wiring of one model's loop in one workload account.

    - a schedule starts the model's inference pipeline; for a model an endpoint serves, another
      starts its live-drift pipeline on the same schedule;
    - only the drift fail step of those pipelines starts retraining, through the model's retrain
      gate: a Lambda that lets one training run through per cool-down (an atomic DynamoDB lease of
      the model's own, shared by batch and live drift) and none while one is running, so a burst
      of drift events is no storm;
    - every other failure of any of them notifies the alert topic, once;
    - every target has a bounded retry policy and the encrypted dead-letter queue.

    The first model's component also creates what every model's gate shares (`GateShared`), under
    the logical names they had before models were configurable; `self.shared` hands them on.
    """

    def __init__(self, name: str, args: RetrainOnDriftArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:RetrainOnDrift", name, None, opts)
        s, m, n, child = args.settings, args.model, args.names, pulumi.ResourceOptions(parent=self)
        account = s.account_id
        inference_arn = n.pipeline_arn(s.region, account, "inference")
        training_arn = n.pipeline_arn(s.region, account, "training")
        live_arn = n.pipeline_arn(s.region, account, LIVE_DRIFT) if has_live_drift(m, args.live_drift) else None
        self.shared = args.shared or self._shared(args, child)
        gate = PlatformFunction(n.logical(GATE_FUNCTION), PlatformFunctionArgs(
            function_name=f"{n.prefix}-{GATE_FUNCTION}",
            description="Starts retraining on drift, at most once per cool-down.",
            package=args.code.lambdas[GATE_FUNCTION], bucket_name=args.bucket_name, role_arn=self.shared.role_arn,
            environment=dict(retrain_gate_settings.retrain_gate_environment(
                training_pipeline_name=n.pipeline_name("training"), inference_pipeline_arn=inference_arn,
                lease_table_name=self.shared.table_name, cooldown_seconds=m.retrain_cooldown_minutes * 60,
                live_pipeline_arn=live_arn))),
            depends_on=args.code.uploads, opts=child)
        self.gate_arn = gate.arn
        # Lambda's own retries of an asynchronous invocation are bounded too, and land in the DLQ.
        aws.lambda_.FunctionEventInvokeConfig(
            n.logical(GATE_FUNCTION), function_name=gate.name, maximum_retry_attempts=2,
            maximum_event_age_in_seconds=3600,
            destination_config={"on_failure": {"destination": args.dead_letter_arn}},
            # Lambda checks the role may send to the destination when the config is written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.shared.policy]))

        after = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        for spec in retraining_rules.workload_rules(inference_arn, training_arn, live_arn):
            to_gate = spec.target == retraining_rules.TARGET_RETRAIN_GATE
            target = (RuleTarget(key="retrain-gate", arn=gate.arn) if to_gate
                      else RuleTarget(key="notify", arn=args.alert_topic_arn))
            rule = GuardedRule(n.logical(spec.name), GuardedRuleArgs(
                rule_name=f"{n.prefix}-{spec.name}", description=spec.description,
                dead_letter_arn=args.dead_letter_arn, event_pattern=spec.pattern, targets=[target]), opts=after)
            if to_gate:
                aws.lambda_.Permission(n.logical("retrain-gate-invoke"), action="lambda:InvokeFunction",
                                       function=gate.name, principal="events.amazonaws.com",
                                       source_arn=rule.arn, opts=child)
        if m.serving.batch:  # an endpoint-only model is not scored in batches (its pipeline stays, unscheduled)
            GuardedRule(n.logical("inference-schedule"), GuardedRuleArgs(
                rule_name=f"{n.prefix}-inference-schedule",
                description="Starts batch inference on the configured schedule.",
                dead_letter_arn=args.dead_letter_arn, schedule_expression=m.inference_schedule,
                # No parameters: each run reads the batch at the pipeline's default location.
                targets=[RuleTarget(key="inference", arn=inference_arn, role_arn=args.events_role_arn)]),
                opts=after)
        if live_arn is not None:
            GuardedRule(n.logical(f"{LIVE_DRIFT}-schedule"), GuardedRuleArgs(
                rule_name=f"{n.prefix}-{LIVE_DRIFT}-schedule",
                description="Checks the endpoint's captured requests for drift on the model's inference schedule.",
                dead_letter_arn=args.dead_letter_arn, schedule_expression=m.inference_schedule,
                # No parameters: each run judges the last CaptureWindowHours under the model's capture prefix.
                targets=[RuleTarget(key=LIVE_DRIFT, arn=live_arn, role_arn=args.events_role_arn)]),
                opts=after)
        self.register_outputs({})

    def _shared(self, args: RetrainOnDriftArgs, child: pulumi.ResourceOptions) -> GateShared:
        s = args.settings
        pre, account = naming.prefix(s.role), s.account_id
        table_name = f"{pre}-{LEASE_TABLE}"
        table_arn = arn("dynamodb", s.region, account, f"table/{table_name}")
        hash_key = retrain_gate_settings.LEASE_TABLE_HASH_KEY
        aws.dynamodb.Table(
            LEASE_TABLE, name=table_name, billing_mode=retrain_gate_settings.LEASE_TABLE_BILLING_MODE,
            hash_key=hash_key, attributes=[{"name": hash_key, "type": retrain_gate_settings.LEASE_TABLE_HASH_KEY_TYPE}],
            ttl={"attribute_name": retrain_gate_settings.LEASE_TABLE_TTL_ATTRIBUTE, "enabled": True},
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": args.data_key_arn}, opts=child)
        role = aws.iam.Role(
            "retrain-gate-role", name=naming.role_name(s.role, naming.RETRAIN_GATE_LAMBDA),
            description="Starts the training pipeline on drift, at most once per cool-down.",
            assume_role_policy=iam.service_trust("lambda.amazonaws.com", account), opts=child)
        # Every model's training pipeline and gate logs by pattern: one policy for all models.
        training = arn("sagemaker", s.region, account, f"pipeline/{pre}-*training")
        logs = arn("logs", s.region, account, f"log-group:/aws/lambda/{pre}-*{GATE_FUNCTION}:*")
        policy = aws.iam.RolePolicy(
            "retrain-gate-policy", role=role.name, name="least-privilege",
            policy=pulumi.Output.all(args.data_key_arn, args.notifications_key_arn, args.dead_letter_arn).apply(
                lambda v: gate_policy(training, table_arn, logs, *v)),
            opts=child)
        return GateShared(role.arn, table_name, policy)


def gate_policy(training_arn: str, table_arn: str, log_group_arn: str, data_key: str,
                notifications_key: str, dead_letters: str) -> str:
    """What the gates call (from `ml.retraining_rules`), plus the keys, DLQ and logs around them."""
    return iam.document(
        *retrain_gate_settings.retrain_gate_policy(training_arn, table_arn)["Statement"],
        iam.allow("LeaseTableKey", KEY_USE_ACTIONS, data_key, Condition={"StringEquals": {
            "kms:ViaService": f"dynamodb.{training_arn.split(':')[3]}.amazonaws.com"}}),
        iam.allow("DeadLetterFailedInvocations", ["sqs:SendMessage"], dead_letters),
        iam.allow("DeadLetterQueueKey", ["kms:Decrypt", "kms:GenerateDataKey"], notifications_key),
        iam.allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], log_group_arn),
    )
