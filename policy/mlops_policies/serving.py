"""Rules for real-time serving: a SageMaker model, its endpoint configuration and its endpoint.

The same posture as the pipelines' jobs: volumes and captured traffic encrypted with a
customer-managed key, the stack's subnets and network isolation when config `vpc` asks for them,
and a rollout that rolls itself back (blue/green with alarms) rather than replacing a fleet blind.
"""
from __future__ import annotations

from mlops_policies.model import Resource, StackContext

MODEL = "aws:sagemaker/model:Model"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
TYPES = (MODEL, ENDPOINT_CONFIG, ENDPOINT)


def check_endpoint(res: Resource, ctx: StackContext | None) -> list[str]:
    """Dispatch by type: each part of an endpoint has its own guard."""
    return {MODEL: _model, ENDPOINT_CONFIG: _config, ENDPOINT: _endpoint}[res.type](res, ctx)


def _model(res: Resource, ctx: StackContext | None) -> list[str]:
    vpc = ctx.vpc if ctx else None
    if vpc is None:
        return []
    out = []
    subnets, groups = set(res.get("vpcConfig", "subnets") or ()), set(res.get("vpcConfig", "securityGroupIds") or ())
    if subnets != set(vpc.subnets) or groups != set(vpc.security_groups):
        out.append(f"SageMaker model {res.name} serves in subnets {sorted(subnets)} / security groups {sorted(groups)}, "
                   f"not the stack's {sorted(vpc.subnets)} / {sorted(vpc.security_groups)}. Fix: pass the stack's "
                   "VpcSettings to the ModelEndpoint.")
    if vpc.network_isolation and res.props.get("enableNetworkIsolation") is not True:
        out.append(f"SageMaker model {res.name} does not enable network isolation, which config "
                   "`vpc.networkIsolation` requires. Fix: ModelEndpointArgs(network_isolation=True).")
    return out


def _config(res: Resource, ctx: StackContext | None) -> list[str]:
    out = []
    if not _kms_key(res.props.get("kmsKeyArn")):
        out.append(f"Endpoint configuration {res.name} does not encrypt its instances' volumes with a customer-managed "
                   "key. Fix: set kms_key_arn to the stack's data key.")
    if res.get("dataCaptureConfig", "enableCapture") and not _kms_key(res.get("dataCaptureConfig", "kmsKeyId")):
        out.append(f"Endpoint configuration {res.name} captures requests and responses without a customer-managed "
                   "key. Fix: set data_capture_config.kms_key_id to the stack's data key.")
    return out


def _endpoint(res: Resource, ctx: StackContext | None) -> list[str]:
    alarms = res.get("deploymentConfig", "autoRollbackConfiguration", "alarms") or []
    blue_green = res.get("deploymentConfig", "blueGreenUpdatePolicy", "trafficRoutingConfiguration", "type")
    if alarms and blue_green in ("CANARY", "LINEAR"):
        return []
    return [f"Endpoint {res.name} updates without a guarded rollout (blue/green {blue_green!r}, {len(alarms)} "
            "rollback alarm(s)): a bad version would take all traffic until someone notices. Fix: a canary or "
            "linear blue/green update policy with the endpoint's error and latency alarms in "
            "auto_rollback_configuration (ModelEndpoint does both)."]


def _kms_key(value: object) -> bool:
    """A KMS key ARN (an id or alias would not say which account's key; an output may be unknown)."""
    return isinstance(value, str) and value.startswith("arn:") and ":kms:" in value and ":key/" in value
