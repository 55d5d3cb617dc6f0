"""The checks of what only dev and prod have: the registry they use, the network their jobs run
in, and prod's posture (VPC-only and network-isolated).

Run whenever the role is a workload role *or unknown*: a bad `role` must not hide these
problems; with an unknown role only the keys that are present are checked.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mlops_facts import stack_config as sc
from mlops_facts.stack_config import PROJECT, WORKLOAD_ROLES, Role
from mlops_platform import validators as v
from mlops_platform.settings import VpcSettings, Workload

if TYPE_CHECKING:
    from mlops_platform.config_loader import _Collector

OPT_OUT_KEY = "prodWithoutNetworkIsolation"
# The one value that turns prod's network posture check off: a sentence nobody types by accident.
OPT_OUT_VALUE = "I accept that prod's SageMaker jobs can reach the network"
# Private subnets reach S3 only through a gateway endpoint (or a NAT); SageMaker jobs in them
# read data and write models there. Checked by nobody before the first job runs: say it.
S3_ENDPOINT_PREREQUISITE = (
    "The subnets' VPC needs an S3 gateway endpoint (or a NAT gateway) on their route tables whose "
    "policy allows this stack's data bucket and the registry's artifacts bucket; without it every "
    "job fails to read its input (README, Prerequisites).")


def workload(c: _Collector, role: Role | None, stack_roles: Mapping[str, str | None] | None) -> Workload | None:
    """The workload part; None (with problems recorded) when anything in it is bad.

    What differs by model (schedule, threshold, cool-down, first run) is each model's
    (`config_models`); the per-stack keys of those are the models' defaults there.
    """
    required = role in WORKLOAD_ROLES
    before = len(c.problems)
    ref = registry_stack(c, required, stack_roles)
    network = vpc(c)
    _prod_posture(c, role, network)
    if not required or len(c.problems) > before or ref is None:
        return None
    return Workload(ref, network)


def registry_stack(c: _Collector, required: bool, stack_roles: Mapping[str, str | None] | None) -> str | None:
    """`<org>/<project>/<stack>`; a stack of this project must exist here and have role registry."""
    key = f"{PROJECT}:registryStack"
    ref = c.text("registryStack", required=required,
                 fix="Name the registry stack, e.g. <org>/mlops-platform/registry.")
    if ref is None:
        return None
    if not v.STACK_REF.fullmatch(ref):
        c.fail(key, f"{ref!r} must look like <org>/<project>/<stack>.")
        return None
    _org, project, stack = ref.split("/")
    if project != PROJECT or stack_roles is None:
        return ref  # another project's stack: its file is not here to check
    if stack not in stack_roles:
        c.fail(key, f"{ref!r} names stack {stack!r}, but this project has no Pulumi.{stack}.yaml "
               f"(stacks here: {', '.join(sorted(stack_roles)) or 'none'}): name the registry stack.")
        return None
    if stack_roles[stack] != "registry":
        c.fail(key, f"{ref!r} names a stack whose role is {stack_roles[stack]!r} (Pulumi.{stack}.yaml), not "
               "registry: workloads read the model package group, bucket and key from the registry stack.")
        return None
    return ref


def vpc(c: _Collector) -> VpcSettings | None:
    raw = c.structured("vpc", dict, required=False,
                       fix="Set {subnetIds: [...], securityGroupIds: [...], networkIsolation: true}.")
    if raw is None:
        return None
    key = f"{PROJECT}:vpc"
    before = len(c.problems)
    unknown = sorted(set(raw) - {"subnetIds", "securityGroupIds", "networkIsolation"})
    if unknown:
        c.fail(key, f"has {unknown}, which it does not read: it takes subnetIds, securityGroupIds, networkIsolation.")
    subnets, groups = raw.get("subnetIds") or [], raw.get("securityGroupIds") or []
    if not isinstance(subnets, list) or not subnets or not all(
            isinstance(s, str) and v.SUBNET.fullmatch(s) for s in subnets):
        c.fail(f"{key}.subnetIds", "must list subnet ids such as subnet-0abc12345def67890.")
    if not isinstance(groups, list) or not groups or not all(
            isinstance(g, str) and v.SECURITY_GROUP.fullmatch(g) for g in groups):
        c.fail(f"{key}.securityGroupIds", "must list security group ids such as sg-0abc12345def67890 "
               "(VPC-only jobs need both subnets and security groups).")
    try:
        isolation = sc.boolean(raw.get("networkIsolation", True))
    except sc.ConfigValueError as err:
        c.fail(f"{key}.networkIsolation", str(err) + ".")
        isolation = True
    if len(c.problems) > before:
        return None
    return VpcSettings(tuple(sorted(subnets)), tuple(sorted(groups)), isolation)


def _prod_posture(c: _Collector, role: Role | None, network: VpcSettings | None) -> None:
    """prod is VPC-only and network-isolated unless the stack file says, in words, that it is not."""
    opt_out = c.text(OPT_OUT_KEY, required=False, fix="")
    key = f"{PROJECT}:{OPT_OUT_KEY}"
    if opt_out is not None and role is not None and role != "prod":
        c.fail(key, "is read by the prod stack only: remove it here.")
    if opt_out is not None and opt_out != OPT_OUT_VALUE:
        c.fail(key, f"must be exactly {OPT_OUT_VALUE!r} to run prod without a VPC or network isolation "
               "(or remove it).")
    if role != "prod" or opt_out == OPT_OUT_VALUE:
        return
    accept = f"To accept the risk instead, set {key}: \"{OPT_OUT_VALUE}\"."
    if c.raw(f"{PROJECT}:vpc") is None:
        c.fail(f"{PROJECT}:vpc", "is required for prod: its SageMaker jobs run only in private subnets "
               "(README). Set {subnetIds: [...], securityGroupIds: [...], networkIsolation: true}. "
               f"{S3_ENDPOINT_PREREQUISITE} {accept}")
    elif network is not None and not network.network_isolation:
        c.fail(f"{PROJECT}:vpc.networkIsolation", "is false, but prod's jobs run network-isolated (README): "
               f"set it to true. {accept}")
