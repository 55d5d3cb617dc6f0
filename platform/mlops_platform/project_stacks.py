"""What the program can learn from the project's stack files besides its own config.

A workload stack names its registry stack (`registryStack`); when that stack belongs to this
project, its file is here and says its role, so a typo or a wrong stack is refused before
anything is deployed instead of failing at the StackReference (or worse, reading the wrong one).
Which keys `Pulumi.yaml` sets tells a shared key from a per-stack one (`modelOverrides`).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from mlops_facts.stack_config import PROJECT

# The repository root, where Pulumi.yaml lives (the program runs from platform/, `main: platform/`).
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """Pulumi's project root when the engine knows it, else the repository this program is in."""
    import pulumi

    # Under mocks (and in some SDK versions) the engine's value is a placeholder: trust it only
    # where a Pulumi.yaml is.
    root = Path(str(pulumi.get_root_directory() or ""))
    return root if root.is_absolute() and (root / "Pulumi.yaml").is_file() else REPOSITORY_ROOT


def stack_roles(root: Path) -> dict[str, str | None]:
    """{stack name: the role its Pulumi.<stack>.yaml sets, or None if it sets none or is unreadable}."""
    roles: dict[str, str | None] = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            roles[stack] = None  # its own run reports the file; here it only is not a registry
            continue
        config = data.get("config") if isinstance(data, dict) else None
        value = (config.get(f"{PROJECT}:role", config.get("role")) if isinstance(config, dict) else None)
        roles[stack] = value if isinstance(value, str) else None
    return roles


def project_config_keys(root: Path) -> frozenset[str]:
    """The config keys `Pulumi.yaml` itself sets (fully qualified), e.g. `mlops-platform:models`.

    The engine merges them into every stack's config, so only the file tells a key every stack
    shares from one a stack file sets. Empty when the file cannot be read (its own run reports it).
    """
    try:
        data = yaml.safe_load((root / "Pulumi.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return frozenset()
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return frozenset()
    return frozenset(str(k) if ":" in str(k) else f"{PROJECT}:{k}" for k in config)
