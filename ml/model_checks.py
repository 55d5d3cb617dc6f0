"""Small checks shared by the model configuration parser (`ml/model_config.py`, `ml/model_schema.py`).

Each check reports through a `Report` (the parser's `fail(config_key, message_with_fix)` with a
count, so a caller can tell whether a part was clean) and returns the parsed value or None.
Standard library only, like `ml/models.py`.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mlops_facts import stack_config

# The shape SageMaker accepts for instance types (`ml.<family>.<size>`), as ml/pipelines/settings.py.
INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")


class Report:
    """Forwards problems to `fail` and counts them."""

    def __init__(self, fail: Callable[[str, str], None]):
        self._fail = fail
        self.count = 0

    def __call__(self, key: str, message: str) -> None:
        self.count += 1
        self._fail(key, message)


def closest(name: str, known: Iterable[str]) -> str | None:
    near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return near[0] if near else None


def unknown_keys(report: Report, key: str, entry: Mapping[Any, Any], known: tuple[str, ...]) -> None:
    """One problem per key of `entry` that is not in `known`, with the closest known name."""
    for name in sorted(str(k) for k in entry if k not in known):
        near = closest(name, known)
        hint = f"did you mean {near}?" if near else f"the keys here are {', '.join(known)}."
        report(f"{key}.{name}", f"is not a key here: {hint} Fix its name or remove it (a misspelled key "
               "would otherwise leave its setting at the default).")


def mapping(report: Report, key: str, value: Any, example: str) -> Mapping[Any, Any] | None:
    if isinstance(value, Mapping):
        return value
    report(key, f"must be a map, got {type(value).__name__} {value!r}: write it as {example}.")
    return None


def is_number(value: Any) -> bool:
    """A real number as YAML or JSON gives it (booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def number(report: Report, key: str, value: Any, *, whole: bool, ok: Callable[[float], bool],
           what: str) -> float | int | None:
    """A number given as a number or as text (stack files quote them, e.g. "0.85"), accepted by `ok`."""
    parsed: float | int | None = None
    if is_number(value):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = int(value) if whole else float(value)
        except ValueError:
            parsed = None
    if parsed is not None and whole and (isinstance(parsed, float) and not parsed.is_integer()):
        parsed = None
    if parsed is None or not math.isfinite(parsed) or not ok(parsed):
        report(key, f"must be {what}, got {value!r}.")
        return None
    return int(parsed) if whole else float(parsed)


def text(report: Report, key: str, value: Any, what: str) -> str | None:
    if isinstance(value, str) and value:
        return value
    report(key, f"must be {what}, got {value!r}.")
    return None


def boolean(report: Report, key: str, value: Any) -> bool | None:
    """`true`/`false`, refusing YAML 1.1 spellings the Pulumi CLI reads as text (mlops_facts)."""
    try:
        return stack_config.boolean(value)
    except stack_config.ConfigValueError as err:
        report(key, f"{err}.")
        return None


def value_text(value: Any) -> str:
    """How a domain value reads in a data file: 5 and 5.0 both read "5" there, "5" too."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
