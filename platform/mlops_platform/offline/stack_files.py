"""A stack's config read from `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the Pulumi CLI reads it.

The CLI's rules (pulumi/pulumi, sdk/go/common/workspace/project.go and config.go):
- In Pulumi.yaml a key of this project written as a plain value or a list is that key's *default*;
  a key of another namespace (`aws:region`) written so is its *value*. A map declares the key:
  `{type, description, items, default, value, secret}`, so a map value goes under `value:`.
- A stack's value wins over the project's `value` or `default`; a key of this project declared
  with neither must be set by every stack; a typed key's value must have its type, and a
  `secret: true` key must be `secure:` in the stack file.
- YAML is read as YAML 1.2 (go-yaml v3; see `yaml12`): `yes`/`on` are text, not booleans; a
  key written twice in one map is an error.
`secure:` values cannot be decrypted without the CLI: each gets a deterministic stand-in and is
listed as secret, as the engine lists it. Every problem is reported at once, each naming its file
(and line or key) and the fix.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_platform.offline.yaml12 import load_file
from mlops_platform.settings import ConfigError

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "mlops-platform"
PROJECT_FILE = "Pulumi.yaml"
DECLARATION_ATTRIBUTES = ("default", "description", "items", "secret", "type", "value")
CONFIG_TYPES = ("array", "boolean", "integer", "object", "string")


class StackFileError(ConfigError):
    """A config file cannot be read as the Pulumi CLI would read it; each problem starts with the file."""


@dataclass(frozen=True)
class StackConfig:
    """One stack's merged config: structured values by qualified key, the secret keys, and where each
    value was written (the stack file or Pulumi.yaml)."""

    values: dict[str, Any]
    secret_keys: list[str]
    origins: dict[str, str] = field(default_factory=dict)


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def secret_stand_in(key: str) -> str:
    """What a `secure:` value reads as offline: fixed per key, and plainly not a real secret."""
    return f"offline-stand-in-for-{key}"


def read_stack_config(stack: str, root: Path = ROOT) -> StackConfig:
    """Merge Pulumi.yaml and Pulumi.<stack>.yaml; raise `StackFileError` listing every problem."""
    problems: list[str] = []
    project = load_file(root / PROJECT_FILE, problems, fix="run from a checkout of the project")
    stack_name = stack_file_name(stack)
    settings = load_file(root / stack_name, problems, fix=(
        f"every stack needs its settings file beside Pulumi.yaml: restore it (git checkout -- {stack_name}) "
        f"or create it with `pulumi stack init {stack}` and set its keys (README, Settings)"))
    if problems:
        raise StackFileError(problems)
    raw_name = project.get("name")
    name = raw_name if isinstance(raw_name, str) else PROJECT
    declared = _declarations(name, _config_map(project, PROJECT_FILE, problems), problems)
    stack_values, secret_keys = _stack_values(name, _config_map(settings, stack_name, problems), stack_name)
    config = _merge(name, declared, stack_values, secret_keys, stack_name, problems)
    if problems:
        raise StackFileError(problems)
    return config


def stack_config(stack: str, root: Path = ROOT) -> tuple[dict[str, Any], list[str]]:
    """Merged config (structured values) and the keys that are secrets."""
    config = read_stack_config(stack, root)
    return config.values, config.secret_keys


def encode(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the engine hands them to a program: strings, JSON for lists/maps."""
    out = {}
    for key, value in config.items():
        if value is not None:
            out[key] = _engine_text(value) if not isinstance(value, (dict, list)) else json.dumps(value)
    return out


def _engine_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _config_map(data: dict[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    config = data.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        problems.append(f"{name}: `config:` must be a map of keys to values, not a {type(config).__name__}.")
        return {}
    return config


# --- Pulumi.yaml declarations ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Declaration:
    key: str
    spec: dict[str, Any]

    @property
    def provided(self) -> Any:
        return self.spec.get("value", self.spec.get("default"))


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _declarations(project: str, config: dict[str, Any], problems: list[str]) -> dict[str, _Declaration]:
    declared = {}
    for raw_key, raw in config.items():
        key = _qualify(str(raw_key), project)
        own = key.startswith(f"{project}:")
        spec = raw if isinstance(raw, dict) else {} if raw is None else {"default" if own else "value": raw}
        if _declaration_ok(key, own, spec, problems):
            declared[key] = _Declaration(key, spec)
    return declared


def _declaration_ok(key: str, own: bool, spec: dict[str, Any], problems: list[str]) -> bool:
    before = len(problems)

    def fail(message: str) -> None:
        problems.append(f"{PROJECT_FILE}: {key}: {message}")

    unknown = sorted(str(a) for a in spec if a not in DECLARATION_ATTRIBUTES)
    if unknown:
        hints = [m for a in unknown for m in difflib.get_close_matches(a, DECLARATION_ATTRIBUTES, n=1)]
        fail(f"a map here declares the key, and {unknown} are not declaration attributes "
             f"({', '.join(DECLARATION_ATTRIBUTES)}){f'; did you mean {hints}?' if hints else ''}. "
             "To give the key a map value, put the map under `value:`.")
    if "default" in spec and "value" in spec:
        fail("has both `default` and `value`: keep one.")
    if not own:
        if "type" in spec or "default" in spec:
            fail("belongs to another namespace: give it a `value:` (no `type` or `default`).")
        elif "value" not in spec:
            fail("belongs to another namespace and must have a `value:`.")
    typ, items = spec.get("type"), spec.get("items")
    if typ is not None and typ not in CONFIG_TYPES:
        fail(f"`type: {typ}` is not one of {', '.join(CONFIG_TYPES)}.")
    elif typ == "array" and not isinstance(items, dict):
        fail("`type: array` needs `items:` with the type of its elements, e.g. items: {type: string}.")
    elif typ is not None and "default" in spec and not _has_type(typ, items, spec["default"]):
        fail(f"the default {spec['default']!r} is not of type {_type_name(typ, items)}.")
    if "secret" in spec and not isinstance(spec["secret"], bool):
        fail("`secret` must be true or false.")
    return len(problems) == before


def _has_type(typ: str | None, items: Any, value: Any) -> bool:
    """The CLI's check of a value against a declared type (ValidateConfigValue)."""
    if typ == "string":
        return isinstance(value, str)
    if typ == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"[-+]?[0-9]+", value) is not None)
    if typ == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if typ == "object":
        return isinstance(value, dict)
    if typ == "array" and isinstance(items, dict) and isinstance(value, list):
        return all(_has_type(items.get("type"), items.get("items"), v) for v in value)
    return False


def _type_name(typ: str, items: Any) -> str:
    if isinstance(items, dict):
        return f"array<{_type_name(str(items.get('type')), items.get('items'))}>"
    return typ


# --- the stack file and the merge -----------------------------------------------------------------

def _stack_values(project: str, config: dict[str, Any], stack_name: str) -> tuple[dict[str, Any], list[str]]:
    values, secrets = {}, []
    for raw_key, raw in config.items():
        key = _qualify(str(raw_key), project)
        value, secret = _stand_in_secrets(key, raw)
        values[key] = value
        if secret:
            secrets.append(key)
    return values, secrets


def _stand_in_secrets(key: str, value: Any) -> tuple[Any, bool]:
    """Replace every `{secure: ...}` in a value (nested ones too) by the key's stand-in."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return secret_stand_in(key), True
    if isinstance(value, dict):
        pairs = {k: _stand_in_secrets(key, v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_stand_in_secrets(key, v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _merge(project: str, declared: dict[str, _Declaration], stack_values: dict[str, Any],
           secret_keys: list[str], stack_name: str, problems: list[str]) -> StackConfig:
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key in sorted(declared):
        d = declared[key]
        if key in stack_values:
            continue
        if "value" in d.spec or "default" in d.spec:
            values[key], origins[key] = d.provided, PROJECT_FILE
        elif key.startswith(f"{project}:"):
            problems.append(f"{stack_name}: {key}: Pulumi.yaml declares it without a default, so every stack "
                            f"must set it: add it to {stack_name}.")
    for key, value in stack_values.items():
        values[key], origins[key] = value, stack_name
    for key in sorted(k for k in declared if k in values):
        _check_declared(declared[key], values[key], key in secret_keys, stack_name, problems)
    return StackConfig(values, sorted(secret_keys), origins)


def _check_declared(d: _Declaration, value: Any, secure: bool, stack_name: str, problems: list[str]) -> None:
    bare = d.key.split(":", 1)[1]
    if d.spec.get("secret") is True and not secure:
        problems.append(f"{stack_name}: {d.key}: Pulumi.yaml declares it secret: set it in {stack_name} "
                        f"with `pulumi config set --secret {bare} <value>` so it is encrypted.")
    typ = d.spec.get("type")
    if typ is None or value is None or secure:  # a secret's real value cannot be read offline
        return
    engine_view = value if isinstance(value, (dict, list)) else _engine_text(value)
    if not _has_type(typ, d.spec.get("items"), engine_view):
        problems.append(f"{stack_name}: {d.key}: Pulumi.yaml declares it of type "
                        f"{_type_name(typ, d.spec.get('items'))}, got {value!r}.")
