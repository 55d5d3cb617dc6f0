"""Which version each endpoint serves in this stack: `mlops-platform:servedVersions`.

A pin is per stack (dev and prod promote on their own, each by a reviewed pull request to its
own file), so the key belongs in `Pulumi.dev.yaml` or `Pulumi.prod.yaml`: set in `Pulumi.yaml` it
would pin the same version everywhere, and the registry serves nothing. Pins are checked by
`ml.serving_config.resolve_pins` (the model's own group, this region, the registry account, a
model whose serving mode includes an endpoint) with every problem reported beside the rest of
the config; a model served by endpoint without a pin gets a note, which the program logs as a
warning and the offline plan prints (it is not an error: a new model has nothing to pin yet).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mlops_facts.stack_config import PROJECT, Role

if TYPE_CHECKING:
    from ml.models import ModelSpec
    from ml.serving_config import Pin
    from mlops_platform.config_loader import _Collector
    from mlops_platform.settings import Accounts

KEY = "servedVersions"
PINS_KEY = f"{PROJECT}:{KEY}"
FIX = 'Set it in Pulumi.<stack>.yaml to {<model>: "<version number>"} (README, "Promote a version").'


def served_versions(c: _Collector, role: Role | None, models: tuple[ModelSpec, ...] | None, region: str | None,
                    accounts: Accounts | None, project_keys: Iterable[str] | None) -> tuple[dict[str, Pin] | None, list[str]]:
    """The stack's pins (None when any is bad, problems recorded) and the notes about endpoint
    models without one. Read for every role, so that the key is known to every stack."""
    raw = c.structured(KEY, dict, required=False, fix=FIX)
    if not _placed_well(c, role, raw, project_keys) or role in (None, "registry"):
        return {}, []
    if models is None or region is None or accounts is None:
        return None, []  # their problems are recorded: pins cannot be checked against them
    from ml.serving_config import resolve_pins  # the ML package's parser: the local tools share it

    notes: list[str] = []
    pins = resolve_pins(raw, serving={m.name: m.serving for m in models},
                        groups={m.name: m.group_name for m in models}, region=region,
                        registry_account=accounts.registry, fail=c.fail, note=notes.append)
    return pins, notes


def _placed_well(c: _Collector, role: Role | None, raw: Any, project_keys: Iterable[str] | None) -> bool:
    """A pin belongs in a workload stack's own file; anywhere else it is refused with the fix."""
    if raw is None:
        return True
    if project_keys is not None and PINS_KEY in set(project_keys):
        c.fail(PINS_KEY, "is set in Pulumi.yaml, where it would pin the same version in every stack: a version "
               "is promoted to dev first and to prod only once dev is healthy, each by its own pull request. "
               "Move it to Pulumi.dev.yaml and Pulumi.prod.yaml.")
        return False
    if role == "registry":
        c.fail(PINS_KEY, "is read by the dev and prod stacks only: the registry holds the versions but serves none. "
               "Remove it from Pulumi.registry.yaml and pin the version in Pulumi.dev.yaml or Pulumi.prod.yaml.")
        return False
    return True
