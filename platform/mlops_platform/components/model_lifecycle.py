"""The model loop of a workload account: code, Lambdas, pipelines, schedule and retraining."""
from __future__ import annotations

import pulumi

from mlops_facts import arn
from mlops_platform import naming
from mlops_platform.components.functions import PlatformFunction, PlatformFunctionArgs
from mlops_platform.components.ml_code import MlCode, MlCodeArgs
from mlops_platform.components.pipelines import ModelPipelines, ModelPipelinesArgs
from mlops_platform.components.retrain_on_drift import RetrainOnDrift, RetrainOnDriftArgs
from mlops_platform.components.workload_account import WorkloadAccount
from mlops_platform.iam_documents.scope import Scope
from mlops_platform.iam_documents.workload import model_lookup_environment
from mlops_platform.settings import WorkloadSettings


class ModelLifecycle(pulumi.ComponentResource):
    """Uploads the step scripts and Lambda code, creates the latest-approved-model Lambda,
    both pipelines, the inference schedule and the drift -> retraining wiring."""

    def __init__(self, name: str, settings: WorkloadSettings, account: WorkloadAccount,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:ModelLifecycle", name, None, opts)
        s, child = settings, pulumi.ResourceOptions(parent=self)
        pre = naming.prefix(s.role)
        bucket = naming.data_bucket(s.role, s.account_id, s.region)
        self.code = MlCode("code", MlCodeArgs(
            bucket_name=bucket, region=s.region, seed_data=s.workload.first_training_run),
            depends_on=[account.data], opts=child)
        lookup_name = f"{pre}-latest-approved-model"
        self.latest_model = PlatformFunction("latest-approved-model", PlatformFunctionArgs(
            function_name=lookup_name,
            description="Returns the newest Approved model of the central group, its artifacts verified and copied.",
            package=self.code.lambdas["latest-approved-model"], bucket_name=bucket,
            role_arn=account.roles.model_lookup_role_arn, timeout_seconds=300,
            environment=model_lookup_environment(Scope.of(s), account.registry.group_arn)),
            depends_on=self.code.uploads, opts=child)
        self.pipelines = ModelPipelines("pipelines", ModelPipelinesArgs(
            settings=s, execution_role_arn=naming.role_arn(s.region, s.account_id, s.role, naming.SAGEMAKER_EXECUTION),
            data_bucket_name=bucket, data_key_arn=account.data_key.arn,
            registry_group_arn=account.registry.group_arn, registry_bucket_name=account.registry.bucket_name,
            registry_key_arn=account.registry.key_arn, script_uris=self.code.script_uris,
            latest_model_lambda_arn=arn("lambda", s.region, s.account_id, f"function:{lookup_name}")),
            depends_on=[self.code, self.latest_model, account.roles], opts=child)
        RetrainOnDrift("retraining", RetrainOnDriftArgs(
            settings=s, code=self.code, bucket_name=bucket, data_key_arn=account.data_key.arn,
            notifications_key_arn=account.notifications.key.arn, alert_topic_arn=account.notifications.topic.arn,
            dead_letter_arn=account.notifications.dead_letters.arn, events_role_arn=account.roles.events_role_arn),
            depends_on=[self.pipelines], opts=child)
        self.register_outputs({})
