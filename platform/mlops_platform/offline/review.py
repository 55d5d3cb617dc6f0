"""The properties a reviewer checks on each resource, read from its registered inputs.

Retention (retain-on-delete, forceDestroy, key deletion windows), encryption keys, the network
isolation and VPC of SageMaker jobs, schedules and event patterns, pipeline parameters such as the
AUC threshold, IAM statements and trust (OIDC subjects), and GitHub environment reviewers. A
resource type not listed here still appears by name, and `inputs_digest` catches any change to
inputs that no listed property shows. Secret values never appear: they read as "[secret]".
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from mlops_platform.offline.runner import POLICY_INPUTS, Registered, StackRun

# How the engine marks a secret value on the wire (pulumi's resource `sig` package:
# `4dabf18193072939515e22adb298388d` is the signature key, `1b47061264138c4ac30d75fd1eb44270` secret).
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SECRET = "[secret]"
PIPELINE = "pulumi-python:dynamic/mlops:SageMakerPipeline"
NETWORKED_STEPS = ("Processing", "Training", "Model")  # steps whose containers run with a network config


def plain(value: Any) -> Any:
    """Inputs as JSON-ready data: secrets masked, whole floats as ints, unknowns as a marker."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return SECRET
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return "[unknown]"  # an output the mocks did not resolve


def inputs_digest(r: Registered) -> str:
    """A short digest of every input: any change shows in a plan diff, reviewed property or not."""
    text = json.dumps(plain(r.inputs), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def reviewed_properties(r: Registered, run: StackRun) -> dict[str, Any]:
    """What a reviewer checks on `r`: retention flags, then the properties its type is known for."""
    inputs = plain(r.inputs)
    props: dict[str, Any] = {}
    if r.retain_on_delete:
        props["retainOnDelete"] = True
    if r.protect:
        props["protect"] = True
    props.update(_pick(inputs, PICKED.get(r.type, ())))
    if r.type in POLICY_INPUTS:
        props.update(_policy(inputs.get(POLICY_INPUTS[r.type])))
    if r.type in EXTRACTED:
        props.update(EXTRACTED[r.type](inputs, run))
    return props


def _pick(inputs: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for path in paths:
        value: Any = inputs
        for part in path.split("."):
            value = _json_text(value)
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            out[path] = _json_text(value)
    return out


def _json_text(value: Any) -> Any:
    """Providers and some inputs carry JSON as text: read it, so it renders and diffs as data."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


# Inputs shown as they are, per type (dotted paths into the inputs).
PICKED: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region", "allowedAccountIds", "defaultTags.tags"),
    "pulumi:providers:github": ("owner",),
    "pulumi:pulumi:StackReference": ("name",),
    "aws:s3/bucket:Bucket": ("bucket", "forceDestroy"),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration.status",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ("rules",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("rules",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("rule.objectOwnership",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("bucket", "key"),
    "aws:kms/key:Key": ("deletionWindowInDays", "enableKeyRotation"),
    "aws:kms/alias:Alias": ("name", "targetKeyId"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url", "clientIdLists"),
    "aws:iam/policy:Policy": ("name",),
    "aws:iam/rolePolicy:RolePolicy": ("role", "name"),
    "aws:iam/role:Role": ("name", "permissionsBoundary", "maxSessionDuration"),
    "aws:sns/topic:Topic": ("name", "kmsMasterKeyId"),
    "aws:sns/topicSubscription:TopicSubscription": ("protocol", "endpoint"),
    "aws:sqs/queue:Queue": ("name", "kmsMasterKeyId", "messageRetentionSeconds"),
    "aws:cloudwatch/eventRule:EventRule": ("name", "scheduleExpression", "eventPattern", "state"),
    "aws:cloudwatch/eventTarget:EventTarget": (
        "rule", "arn", "roleArn", "deadLetterConfig.arn", "retryPolicy"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays", "kmsKeyId"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "name", "namespace", "metricName", "comparisonOperator", "threshold", "alarmActions"),
    "aws:dynamodb/table:Table": (
        "name", "serverSideEncryption.kmsKeyArn", "pointInTimeRecovery.enabled", "deletionProtectionEnabled"),
    "aws:lambda/function:Function": (
        "name", "runtime", "role", "kmsKeyArn", "vpcConfig", "environment.variables"),
    "aws:lambda/permission:Permission": ("action", "principal", "sourceArn"),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (
        "maximumRetryAttempts", "destinationConfig.onFailure.destination"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("modelPackageGroupName",),
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": ("modelPackageGroupName",),
    "github:index/repositoryEnvironment:RepositoryEnvironment": (
        "environment", "preventSelfReview", "canAdminsBypass", "waitTimer", "deploymentBranchPolicy"),
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": (
        "environment", "branchPattern", "tagPattern"),
    "github:index/actionsVariable:ActionsVariable": ("variableName", "value"),
    "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": ("environment", "variableName", "value"),
    "github:index/actionsSecret:ActionsSecret": ("secretName",),
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret": ("environment", "secretName"),
    PIPELINE: ("name", "role_arn", "start_on_create"),
}


def _policy(document: Any) -> dict[str, Any]:
    """Each statement by Sid (or position): effect, actions, resources, principal, conditions."""
    doc = _json_text(document)
    if not isinstance(doc, dict):
        return {}
    statements = doc.get("Statement")
    statements = statements if isinstance(statements, list) else [statements]
    out = {}
    for i, s in enumerate(x for x in statements if isinstance(x, dict)):
        entry = {"effect": s.get("Effect")}
        for key, name in (("Action", "actions"), ("NotAction", "notActions"), ("Resource", "resources"),
                          ("NotResource", "notResources")):
            if key in s:
                entry[name] = sorted(set(s[key] if isinstance(s[key], list) else [s[key]]))
        for key, name in (("Principal", "principal"), ("Condition", "conditions")):
            if key in s:
                entry[name] = s[key]
        out[str(s.get("Sid") or f"#{i + 1}")] = entry
    return {"statements": out}


def _role(inputs: dict[str, Any], _run: StackRun) -> dict[str, Any]:
    """Who may assume the role, and for GitHub OIDC, which workflow subjects."""
    doc = _json_text(inputs.get("assumeRolePolicy"))
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    trusted: set[str] = set()
    subjects: set[str] = set()
    for s in statements if isinstance(statements, list) else [statements]:
        for kind, who in (s.get("Principal") or {}).items() if isinstance(s.get("Principal"), dict) else []:
            trusted.update(f"{kind} {w}" for w in (who if isinstance(who, list) else [who]))
        for test in (s.get("Condition") or {}).values():
            for key, value in test.items():
                if key.endswith(":sub"):
                    subjects.update(value if isinstance(value, list) else [value])
    out: dict[str, Any] = {"trustedBy": sorted(trusted)}
    if subjects:
        out["oidcSubjects"] = sorted(subjects)
    return out


def _environment(inputs: dict[str, Any], run: StackRun) -> dict[str, Any]:
    """Required reviewers by login (the program looks users up by login and passes their ids)."""
    users, teams = [], []
    for block in inputs.get("reviewers") or []:
        users += [run.github_logins.get(str(u), f"user id {u}") for u in block.get("users") or []]
        teams += [f"team id {t}" for t in block.get("teams") or []]
    return {"reviewers": sorted(users) + sorted(teams)}


def _pipeline(inputs: dict[str, Any], _run: StackRun) -> dict[str, Any]:
    """From the SageMaker definition: parameters (thresholds, instance types), every job's network
    isolation and VPC, and the KMS keys of job volumes and outputs."""
    definition = _json_text(inputs.get("definition"))
    if not isinstance(definition, dict):
        return {}
    steps = _all_steps(definition.get("Steps") or [])
    networked = [s for s in steps if s.get("Type") in NETWORKED_STEPS]
    isolated = sorted(s["Name"] for s in networked if _network(s).get("EnableNetworkIsolation") is True)
    without_vpc = sorted(s["Name"] for s in networked if not _network(s).get("VpcConfig"))
    subnets = {x for s in networked for x in (_network(s).get("VpcConfig") or {}).get("Subnets", [])}
    groups = {x for s in networked for x in (_network(s).get("VpcConfig") or {}).get("SecurityGroupIds", [])}
    return {
        "parameters": {p["Name"]: plain(p.get("DefaultValue")) for p in definition.get("Parameters") or []},
        "steps": [f"{s['Name']} ({s.get('Type')})" for s in steps],
        "networkIsolation": _share(isolated, [s["Name"] for s in networked]),
        "vpcSubnets": sorted(subnets),
        "vpcSecurityGroups": sorted(groups),
        "jobsOutsideVpc": without_vpc,
        "kmsKeys": sorted({k for s in steps for k in _kms_keys(s)}),
    }


def _all_steps(steps: list[Any]) -> list[dict[str, Any]]:
    out = []
    for s in steps:
        out.append(s)
        args = s.get("Arguments") if isinstance(s.get("Arguments"), dict) else {}
        out += _all_steps(args.get("IfSteps") or []) + _all_steps(args.get("ElseSteps") or [])
    return out


def _network(step: dict[str, Any]) -> dict[str, Any]:
    args = step.get("Arguments") or {}
    return args.get("NetworkConfig") or args  # processing jobs nest it; training jobs and models do not


def _kms_keys(step: dict[str, Any]) -> list[str]:
    args = step.get("Arguments") or {}
    paths = (("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"), ("ProcessingOutputConfig", "KmsKeyId"),
             ("ResourceConfig", "VolumeKmsKeyId"), ("OutputDataConfig", "KmsKeyId"),
             ("TransformResources", "VolumeKmsKeyId"), ("TransformOutput", "KmsKeyId"))
    keys = []
    for path in paths:
        value: Any = args
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            keys.append(value)
    return keys


def _share(selected: list[str], of: list[str]) -> str:
    if not of:
        return "no jobs"
    if len(selected) == len(of):
        return f"all {len(of)} jobs"
    return f"{len(selected)} of {len(of)} jobs" + (f": {', '.join(selected)}" if selected else "")


# Properties that need more than picking an input, per type.
EXTRACTED: dict[str, Callable[[dict[str, Any], StackRun], dict[str, Any]]] = {
    "aws:iam/role:Role": _role,
    "github:index/repositoryEnvironment:RepositoryEnvironment": _environment,
    PIPELINE: _pipeline,
}
