"""How the platform's stack config reads, shared by the program's settings and the policy pack.

The engine hands config to a program and to a policy pack the same way (PULUMI_CONFIG): every
value a string, lists and maps JSON-encoded, booleans "true"/"false". The offline runner and the
tests may pass values already structured. These functions decode one value either way; each
raises `ConfigValueError` with a message that the caller prefixes with the key.
"""
from __future__ import annotations

import json
from typing import Any, Final, Literal

PROJECT: Final = "mlops-platform"
Role = Literal["registry", "dev", "prod"]
ROLES: tuple[Role, ...] = ("registry", "dev", "prod")
WORKLOAD_ROLES: tuple[Role, ...] = ("dev", "prod")
# Where models live: the registry (every approved model's files) and prod (the served ones).
# Their data is kept on `pulumi destroy` unless the stack file says `retainData: false`.
KEEPS_MODELS: tuple[Role, ...] = ("registry", "prod")

# Spellings YAML 1.1 reads as booleans. The Pulumi CLI reads stack files with go-yaml v3 (since
# 3.50; YAML 1.2): to it `retainData: yes` is the *text* "yes", so a program sees "yes", not
# "true". PyYAML (YAML 1.1) would read it as true. Refused with the spelling that means it.
YAML11_TRUE: Final = frozenset({"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"})
YAML11_FALSE: Final = frozenset({"n", "N", "no", "No", "NO", "off", "Off", "OFF"})


class ConfigValueError(ValueError):
    """A config value of the wrong shape; the message says what was expected."""


def key(name: str) -> str:
    """The fully qualified key of one of the project's settings, e.g. `mlops-platform:role`."""
    return f"{PROJECT}:{name}"


def retain_data_default(role: str | None) -> bool:
    """Whether a stack keeps its data when the stack file does not say (`retainData`)."""
    return role in KEEPS_MODELS


def decode(value: Any, kind: type) -> Any:
    """A list or map given as the engine passes it (a JSON string) or already structured."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise ConfigValueError(f"must be a {_name(kind)}, got text that is not JSON ({err.msg})") from err
    if not isinstance(value, kind):
        raise ConfigValueError(f"must be a {_name(kind)}, got {type(value).__name__} {value!r}")
    return value


def boolean(value: Any) -> bool:
    """`true`/`false` as YAML, JSON or the engine's string form; nothing else (see YAML11_*)."""
    if isinstance(value, bool):
        return value
    text = str(value)
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if text in YAML11_TRUE | YAML11_FALSE:
        meant = "true" if text in YAML11_TRUE else "false"
        raise ConfigValueError(f"must be true or false, got {text!r}: the Pulumi CLI reads YAML 1.2, where "
                               f"{text!r} is text, not the boolean {meant} (YAML 1.1): write {meant}")
    raise ConfigValueError(f"must be true or false, got {text!r}")


def _name(kind: type) -> str:
    return "map" if kind is dict else "list" if kind is list else kind.__name__
