"""Least-privilege roles of a workload account (dev or prod)."""
from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from mlops_platform import iam, naming
from mlops_platform.iam_documents import workload as documents
from mlops_platform.iam_documents.scope import Scope


@dataclass(frozen=True)
class WorkloadRolesArgs:
    scope: Scope
    data_key_arn: pulumi.Input[str]
    registry_key_arn: pulumi.Input[str]


class WorkloadRoles(pulumi.ComponentResource):
    """The SageMaker execution role, the model-lookup Lambda's role and the role EventBridge
    uses to start pipelines. No managed `*FullAccess` policy: each has one inline policy
    scoped to this stack's resources and the registry's bucket prefixes, key and group
    (`iam_documents.workload`); each carries the workload boundary (set by the program's
    boundary transformation), which also holds the job guardrails."""

    def __init__(self, name: str, args: WorkloadRolesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:security:WorkloadRoles", name, None, opts)
        self._scope = s = args.scope
        keys = pulumi.Output.all(args.data_key_arn, args.registry_key_arn)
        sm = self._role("sagemaker", naming.SAGEMAKER_EXECUTION, "sagemaker.amazonaws.com",
                        "Runs this stack's SageMaker pipeline jobs.",
                        keys.apply(lambda k: documents.execution_document(s, *k)))
        lookup = self._role("model-lookup", naming.MODEL_LOOKUP_LAMBDA, "lambda.amazonaws.com",
                            "Finds the latest approved model in the central registry and verifies its artifacts.",
                            keys.apply(lambda k: documents.lookup_document(s, *k)))
        events = self._role("events", naming.EVENTS_INVOKE, "events.amazonaws.com",
                            "Lets EventBridge start this stack's scheduled inference.",
                            pulumi.Output.from_input(documents.events_document(s)))
        self.sagemaker_execution_role_arn = sm.arn
        self.model_lookup_role_arn = lookup.arn
        self.events_role_arn = events.arn
        self.register_outputs({})

    def _role(self, key: str, purpose: str, service: str, description: str,
              policy: pulumi.Output[str]) -> aws.iam.Role:
        role = aws.iam.Role(f"{key}-role", name=naming.role_name(self._scope.role, purpose),
                            description=description, max_session_duration=3600,
                            assume_role_policy=iam.service_trust(service, self._scope.account),
                            opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicy(f"{key}-policy", role=role.name, name="least-privilege", policy=policy,
                           opts=pulumi.ResourceOptions(parent=self))
        return role
