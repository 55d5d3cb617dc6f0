"""The resource's properties: their names, wire forms, defaults, and how two sets compare.

Pure functions of the property dictionaries (no AWS): the provider's check and diff, and the
resource's early registration check, all build on them.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown

# The engine's wire marker for a value not known yet (preview); see pulumi.runtime.rpc.UNKNOWN.
# The provider host hands it to check/diff as a `pulumi.output.Unknown` instance instead.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

INPUT_KEYS = (
    "name", "definition", "role_arn", "description", "tags", "parallelism", "region",
    "assume_role_arn", "adopt_existing", "start_on_create", "start_parameters",
    "stop_timeout_seconds",
)
# Inputs added after states were first written. The resource registers them only when the
# program sets them, so a program that leaves them alone sends (and stores) exactly the
# inputs it sent before; `normalize` supplies their defaults for old and new states alike.
LATER_KEYS = ("stop_timeout_seconds",)
OUTPUT_KEYS = ("arn", "account_id", "definition_sha256", "first_execution_arn", "adopted")
# Fields SageMaker stores; the rest only steer this provider and never cause an API call.
LIVE_KEYS = ("definition", "role_arn", "description", "tags", "parallelism")
REPLACE_KEYS = ("name", "region", "account_id")

# How long deleting a pipeline waits for its running executions to stop. A Lambda step cannot
# be stopped and runs to its end (StopPipelineExecution, SageMaker API reference); Lambda
# functions run at most 15 minutes. 20 minutes covers that and the jobs' own stop, inside the
# deploy jobs' 90-minute limit.
DEFAULT_STOP_TIMEOUT_SECONDS = 1200

ROLE_ARN_RE = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


def is_unknown(value: Any) -> bool:
    """Whether a value, or anything inside it, is not known yet (a preview)."""
    if isinstance(value, Unknown):
        return True
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    return isinstance(value, (list, tuple)) and any(is_unknown(v) for v in value)


def canonical_definition(definition: str) -> str:
    """The definition re-dumped with sorted keys and no whitespace: equal meaning, equal text."""
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def definition_sha256(definition: str) -> str:
    """SHA-256 of the canonical definition, so formatting never changes the hash.

    A live definition that is not JSON (edited by hand) is hashed as it is.
    """
    try:
        text = canonical_definition(definition)
    except ValueError:
        text = definition
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def same_definition(a: str | None, b: str | None) -> bool:
    try:
        return canonical_definition(a or "") == canonical_definition(b or "")
    except ValueError:
        return a == b


def account_of(role_arn: str) -> str:
    """The 12-digit account id inside an IAM role ARN."""
    match = ROLE_ARN_RE.match(role_arn or "")
    if not match:
        raise ValueError(f"not an IAM role ARN: {role_arn!r}")
    return match.group(2)


def _whole(value: Any) -> Any:
    """Protobuf carries every number as a float: give whole numbers back their int type."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def normalize(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults filled and wire types undone (protobuf turns ints into floats)."""
    out = {k: props.get(k) for k in INPUT_KEYS}
    out["parallelism"] = _whole(out["parallelism"])
    out["description"] = "" if out["description"] is None else out["description"]
    for key in ("tags", "start_parameters"):
        out[key] = out[key] if is_unknown(out[key]) else dict(out[key] or {})
    out["assume_role_arn"] = out["assume_role_arn"] or None
    for flag in ("adopt_existing", "start_on_create"):
        out[flag] = out[flag] if is_unknown(out[flag]) else bool(out[flag])
    timeout = _whole(out["stop_timeout_seconds"])
    out["stop_timeout_seconds"] = DEFAULT_STOP_TIMEOUT_SECONDS if timeout is None else timeout
    return out


def _account(props: Mapping[str, Any]) -> Any:
    role = props.get("role_arn")
    if is_unknown(role):
        return UNKNOWN
    if not isinstance(role, str):
        return role
    try:
        return account_of(role)
    except ValueError:
        return role


def _comparable(props: Mapping[str, Any], key: str) -> Any:
    value = props.get(key)
    if key == "definition" and isinstance(value, str) and not is_unknown(value):
        try:
            return canonical_definition(value)
        except ValueError:
            return value
    return value


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(keys that differ, keys among them that force a replacement), both sorted.

    `olds` are the stored outputs, `news` the checked inputs. The account comes from the role
    ARN, so moving the role to another account replaces the pipeline (an unknown role ARN is
    assumed to stay in its account); an unknown name or region counts as a replacement so
    that previews never understate.
    """
    old, new = normalize(olds), normalize(news)
    changed = {k for k in INPUT_KEYS
               if is_unknown(new[k]) or _comparable(old, k) != _comparable(new, k)}
    old_account = olds.get("account_id") or _account(olds)
    new_account = _account(news)
    if new_account != UNKNOWN and new_account != old_account:
        changed.add("account_id")
    return sorted(changed), sorted(k for k in changed if k in REPLACE_KEYS)
