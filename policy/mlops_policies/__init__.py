"""Policy rules of the mlops-platform pack, as pure functions over resource inputs.

Importable without pulumi-policy: `catalog` lists the rules, `pack` (which needs
pulumi-policy) wraps them for the policy engine.
"""
