"""Alert topics and dead-letter queues, encrypted with customer-managed keys."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_facts import arn
from mlops_platform import iam
from mlops_platform.components.kms import CustomerManagedKey, CustomerManagedKeyArgs, service_use

# Services that publish alerts: EventBridge rules and CloudWatch alarms.
PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


@dataclass(frozen=True)
class AlertTopicArgs:
    topic_name: str
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    email: str


class AlertTopic(pulumi.ComponentResource):
    """An SNS topic for people, with an e-mail subscription.

    Encrypted with a CMK (whose policy must let EventBridge and CloudWatch use it): with the
    AWS-managed SNS key, EventBridge deliveries are dropped without an error.
    """

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:messaging:AlertTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(name, name=args.topic_name, kms_master_key_id=args.kms_key_arn, opts=child)
        topic_arn = arn("sns", args.region, args.account_id, args.topic_name)
        aws.sns.TopicPolicy(name, arn=self.topic.arn, policy=iam.document(
            iam.allow("ServicesOfThisAccountPublish", ["sns:Publish"], topic_arn,
                      Principal={"Service": list(PUBLISHERS)},
                      Condition={"StringEquals": {"aws:SourceAccount": args.account_id}}),
            iam.deny("DenyInsecureTransport", ["sns:Publish"], topic_arn, Principal="*",
                     Condition={"Bool": {"aws:SecureTransport": "false"}}),
        ), opts=child)
        aws.sns.TopicSubscription(name, topic=self.topic.arn, protocol="email",
                                  endpoint=args.email, opts=child)
        self.arn = self.topic.arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class DeadLetterQueueArgs:
    queue_name: str
    account_id: str
    region: str
    kms_key_arn: pulumi.Input[str]
    rule_name_prefix: str  # rules allowed to dead-letter here, e.g. "mlops-dev-"
    alarm_topic_arn: pulumi.Input[str]


class DeadLetterQueue(pulumi.ComponentResource):
    """Where EventBridge puts events it could not deliver, and an alarm when any arrive.

    The queue policy admits only this account's rules with the stack's name prefix; the
    alarm notifies the alert topic, so a failed delivery is never silent.
    """

    def __init__(self, name: str, args: DeadLetterQueueArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:messaging:DeadLetterQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.queue = aws.sqs.Queue(
            name, name=args.queue_name, kms_master_key_id=args.kms_key_arn,
            kms_data_key_reuse_period_seconds=3600, message_retention_seconds=1209600, opts=child)
        queue_arn = arn("sqs", args.region, args.account_id, args.queue_name)
        rules = arn("events", args.region, args.account_id, f"rule/{args.rule_name_prefix}*")
        aws.sqs.QueuePolicy(name, queue_url=self.queue.url, policy=iam.document(
            iam.allow("StackRulesDeadLetter", ["sqs:SendMessage"], queue_arn,
                      Principal={"Service": "events.amazonaws.com"},
                      Condition={"ArnLike": {"aws:SourceArn": rules}}),
            iam.deny("DenyInsecureTransport", ["sqs:SendMessage", "sqs:ReceiveMessage"], queue_arn,
                     Principal="*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
        ), opts=child)
        self.alarm = aws.cloudwatch.MetricAlarm(
            name, name=f"{args.queue_name}-not-empty",
            alarm_description="EventBridge could not deliver an event; read the queue for the event and its error.",
            namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": args.queue_name}, statistic="Maximum", period=300,
            evaluation_periods=1, threshold=0, comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching", alarm_actions=[args.alarm_topic_arn], opts=child)
        self.arn = self.queue.arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class NotificationChannelArgs:
    prefix: str  # the stack's name prefix, e.g. "mlops-dev"
    account_id: str
    region: str
    email: str
    topic: str  # the topic's purpose, e.g. "alerts"; its name is "<prefix>-<topic>"
    # Key-policy statements naming the stack's deploy role (it administers the key).
    key_statements: list[dict[str, Any]] = field(default_factory=list)


class NotificationChannel(pulumi.ComponentResource):
    """How a stack tells people: a CMK that EventBridge and CloudWatch may use, an alert
    topic with an e-mail subscription, and the stack's EventBridge dead-letter queue, whose
    alarm notifies that topic."""

    def __init__(self, name: str, args: NotificationChannelArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:messaging:NotificationChannel", name, None, opts)
        child, pre, account = pulumi.ResourceOptions(parent=self), args.prefix, args.account_id
        self.key = CustomerManagedKey("notifications-key", CustomerManagedKeyArgs(
            account_id=account, region=args.region, alias=f"{pre}-notifications", retain=False,
            description="Encrypts alerts and the EventBridge dead-letter queue.",
            statements=[*args.key_statements,
                        # As AWS documents it, without aws:SourceAccount/aws:SourceArn: EventBridge's
                        # KMS requests for an encrypted SNS topic or SQS queue may not carry them, and
                        # every alert and dead letter would then fail silently (Amazon EventBridge User
                        # Guide, "Troubleshooting Amazon EventBridge": rule triggered but the encrypted
                        # SNS topic receives nothing; the key policy statement for events.amazonaws.com).
                        service_use("EventBridgeUsesKey", "events.amazonaws.com"),
                        service_use("CloudWatchUsesKey", "cloudwatch.amazonaws.com", account)]), opts=child)
        self.topic = AlertTopic(args.topic, AlertTopicArgs(
            topic_name=f"{pre}-{args.topic}", account_id=account, region=args.region,
            kms_key_arn=self.key.arn, email=args.email), opts=child)
        self.dead_letters = DeadLetterQueue("events-dlq", DeadLetterQueueArgs(
            queue_name=f"{pre}-events-dlq", account_id=account, region=args.region,
            kms_key_arn=self.key.arn, rule_name_prefix=f"{pre}-", alarm_topic_arn=self.topic.arn), opts=child)
        self.register_outputs({})
