"""Stack outputs: what other stacks, workflows and people read."""
from __future__ import annotations

import pulumi

from mlops_platform.settings import RegistrySettings, Settings, WorkloadSettings


def _common(settings: Settings) -> None:
    pulumi.export("accountId", settings.account_id)
    pulumi.export("region", settings.region)
    pulumi.export("role", settings.role)
    # The model that keeps the names the platform had before models were configurable.
    pulumi.export("firstModel", settings.first_model.name)


def registry(settings: RegistrySettings, account) -> None:
    _common(settings)
    pulumi.export("artifactsBucketName", account.artifacts.name)
    pulumi.export("artifactsBucketArn", account.artifacts.arn)
    pulumi.export("artifactsKeyArn", account.artifacts_key.arn)
    # The first model's group under the names the outputs had; every model's in modelPackageGroups,
    # which the workload stacks read (each model's pipelines register into its own group).
    pulumi.export("modelPackageGroupName", account.registry.group_name)
    pulumi.export("modelPackageGroupArn", account.registry.group_arn)
    pulumi.export("modelPackageGroups", {
        model: {"arn": r.group_arn, "name": r.group_name} for model, r in sorted(account.registries.items())})
    pulumi.export("modelEventsTopicArn", account.topic.arn)


def workload(settings: WorkloadSettings, account, lifecycle) -> None:
    _common(settings)
    pulumi.export("dataBucketName", account.data.name)
    pulumi.export("dataKeyArn", account.data_key.arn)
    pulumi.export("sagemakerExecutionRoleArn", account.roles.sagemaker_execution_role_arn)
    pulumi.export("modelLookupRoleArn", account.roles.model_lookup_role_arn)
    pulumi.export("eventsRoleArn", account.roles.events_role_arn)
    pulumi.export("alertTopicArn", account.notifications.topic.arn)
    pulumi.export("deadLetterQueueArn", account.notifications.dead_letters.arn)
    # The first model's under the names the outputs had; every model's under `models`.
    first = lifecycle.models[settings.first_model.name]
    pulumi.export("registryModelPackageGroupArn", first.group_arn)
    pulumi.export("trainingPipelineArn", first.pipelines.training.arn)
    pulumi.export("inferencePipelineArn", first.pipelines.inference.arn)
    pulumi.export("latestModelFunctionArn", first.latest_model.arn)
    pulumi.export("models", {
        name: {"modelPackageGroupArn": m.group_arn, "trainingPipelineArn": m.pipelines.training.arn,
               "inferencePipelineArn": m.pipelines.inference.arn, "latestModelFunctionArn": m.latest_model.arn,
               "retrainGateFunctionArn": m.retraining.gate_arn}
        for name, m in sorted(lifecycle.models.items())})
    # Which version serves where: every endpoint of the stack (empty when nothing serves). The
    # deploy workflow smoke-tests each; the README reads it to answer "what serves in prod?".
    pulumi.export("servedVersions", served_versions(settings, lifecycle))


def served_versions(settings: WorkloadSettings, lifecycle) -> dict[str, dict[str, object]]:
    """{model: {version, modelPackageArn, endpointName, endpointConfigName}} of every model with an
    endpoint; the configuration is the one this deploy rolled out (an endpoint found on another
    after the deploy was rolled back by its alarms)."""
    return {name: {"version": settings.served_versions[name].version,
                   "modelPackageArn": settings.served_versions[name].arn,
                   "endpointName": m.served.endpoint_name,
                   "endpointConfigName": m.served.endpoint.config.name}
            for name, m in sorted(lifecycle.models.items()) if m.served is not None}


def github(settings: Settings, oidc, control) -> None:
    """What the GitHub workflows are wired to (also set as GitHub variables by `control`)."""
    pulumi.export("githubDeployRoleArn", oidc.deploy_role.arn)
    pulumi.export("githubPreviewRoleArn", oidc.preview_role.arn)
    pulumi.export("githubEnvironments", sorted(control.environments))
    if oidc.approver_role is not None:
        pulumi.export("githubModelApproverRoleArn", oidc.approver_role.arn)
