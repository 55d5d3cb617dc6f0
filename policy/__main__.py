"""Entry point the policy engine runs: serves the pack over gRPC and blocks.

Tests never import this file (PolicyPack starts a server); they use mlops_policies.
"""
from pulumi_policy import EnforcementLevel, PolicyPack

from mlops_policies.pack import PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Security and wiring rules of the mlops-platform stacks (registry, dev, prod).",
)
