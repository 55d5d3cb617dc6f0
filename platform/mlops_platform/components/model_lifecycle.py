"""The model loops of a workload account: code, and per model its Lambdas, pipelines, schedule,
retraining and, where the stack pins a version to serve, its real-time endpoint."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ml.models import ModelSpec
from mlops_facts import arn
from mlops_platform import naming
from mlops_platform.components.functions import PlatformFunction, PlatformFunctionArgs
from mlops_platform.components.ml_code import MlCode, MlCodeArgs
from mlops_platform.components.pipelines import ModelPipelines, ModelPipelinesArgs
from mlops_platform.components.retrain_on_drift import GateShared, RetrainOnDrift, RetrainOnDriftArgs
from mlops_platform.components.serving import ServedModel, ServedModelArgs
from mlops_platform.components.workload_account import WorkloadAccount
from mlops_platform.iam_documents.scope import Scope
from mlops_platform.iam_documents.workload import LATEST_MODEL_FUNCTION, model_lookup_environment
from mlops_platform.settings import WorkloadSettings


@dataclass(frozen=True)
class ModelLoop:
    """One model's resources in one workload stack."""

    names: naming.ModelNames
    group_arn: pulumi.Output[str]
    latest_model: PlatformFunction
    pipelines: ModelPipelines
    retraining: RetrainOnDrift
    served: ServedModel | None = None  # the endpoint, when this stack pins a version to serve


class ModelLifecycle(pulumi.ComponentResource):
    """Uploads the step scripts, schemas and Lambda code once, then per model: the
    latest-approved-model Lambda, both pipelines, the inference schedule and the drift ->
    retraining wiring, and for a model whose serving mode includes an endpoint and whose version
    this stack pins (`WorkloadSettings.served_versions`) its serving role and endpoint.

    Every model's resources are children of this component, the first model's under the logical
    names they had before models were configurable (`naming.ModelNames.logical`), so a deployed
    stack keeps their URNs; every other model's names carry the model's name. The roles are one per
    job for all models (`WorkloadRoles`, the retrain gate's), scoped by name pattern.
    """

    def __init__(self, name: str, settings: WorkloadSettings, account: WorkloadAccount,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:ModelLifecycle", name, None, opts)
        s, child = settings, pulumi.ResourceOptions(parent=self)
        bucket = naming.data_bucket(s.role, s.account_id, s.region)
        self.code = MlCode("code", MlCodeArgs(
            bucket_name=bucket, region=s.region, models=s.models, stack_role=s.role),
            depends_on=[account.data], opts=child)
        self.models: dict[str, ModelLoop] = {}
        shared: GateShared | None = None
        for model in s.models:  # the first model first: its retrain gate creates what all share
            loop = self._model(s, model, account, bucket, shared, child)
            shared = loop.retraining.shared
            self.models[model.name] = loop
        self.register_outputs({})

    def _model(self, s: WorkloadSettings, model: ModelSpec, account: WorkloadAccount, bucket: str,
               shared: GateShared | None, child: pulumi.ResourceOptions) -> ModelLoop:
        names = naming.ModelNames(s.role, model.name, model.first)
        group_arn = account.registry.group_arn(model, naming.model_package_group_arn(
            s.region, s.accounts.registry, model.group_name))
        lookup_name = f"{names.prefix}-{LATEST_MODEL_FUNCTION}"
        latest_model = PlatformFunction(names.logical(LATEST_MODEL_FUNCTION), PlatformFunctionArgs(
            function_name=lookup_name,
            description="Returns the newest Approved model of the central group, its artifacts verified and copied.",
            package=self.code.lambdas[LATEST_MODEL_FUNCTION], bucket_name=bucket,
            role_arn=account.roles.model_lookup_role_arn, timeout_seconds=300,
            environment=model_lookup_environment(Scope.of(s), names, group_arn)),
            depends_on=self.code.uploads, opts=child)
        pipelines = ModelPipelines(names.logical("pipelines"), ModelPipelinesArgs(
            settings=s, model=model, names=names,
            execution_role_arn=naming.role_arn(s.region, s.account_id, s.role, naming.SAGEMAKER_EXECUTION),
            data_bucket_name=bucket, data_key_arn=account.data_key.arn, registry_group_arn=group_arn,
            registry_bucket_name=account.registry.bucket_name, registry_key_arn=account.registry.key_arn,
            script_uris=self.code.script_uris, library_uris=self.code.library_uris,
            schema_uri=self.code.schema_uris[model.name],
            latest_model_lambda_arn=arn("lambda", s.region, s.account_id, f"function:{lookup_name}"),
            # Live traffic joins the drift loop only where an endpoint captures it.
            live_drift=served(s, model)),
            depends_on=[self.code, latest_model, account.roles], opts=child)
        retraining = RetrainOnDrift(names.logical("retraining"), RetrainOnDriftArgs(
            settings=s, model=model, names=names, code=self.code, bucket_name=bucket,
            data_key_arn=account.data_key.arn, notifications_key_arn=account.notifications.key.arn,
            alert_topic_arn=account.notifications.topic.arn, dead_letter_arn=account.notifications.dead_letters.arn,
            events_role_arn=account.roles.events_role_arn, shared=shared, live_drift=served(s, model)),
            depends_on=[pipelines], opts=child)
        return ModelLoop(names, group_arn, latest_model, pipelines, retraining,
                         self._served(s, model, names, account, bucket, child))

    @staticmethod
    def _served(s: WorkloadSettings, model: ModelSpec, names: naming.ModelNames, account: WorkloadAccount,
                bucket: str, child: pulumi.ResourceOptions) -> ServedModel | None:
        pin = s.served_versions.get(model.name)
        if pin is None or not served(s, model):
            return None  # batch only, or nothing pinned yet (the config loader's note says so)
        # `serving` for the first model, `<model>-serving` for the others, like every name here.
        return ServedModel(names.logical("serving"), ServedModelArgs(
            settings=s, model=model, names=names, pin=pin, data_bucket_name=bucket,
            data_key_arn=account.data_key.arn, registry_key_arn=account.registry.key_arn,
            alert_topic_arn=account.notifications.topic.arn), opts=child)


def served(s: WorkloadSettings, model: ModelSpec) -> bool:
    """Whether an endpoint serves the model in this stack: its serving includes one, and the stack
    pins a version (`mlops-platform:servedVersions`)."""
    return model.serving.endpoint and model.name in s.served_versions
