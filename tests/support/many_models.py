"""Stack configs with many models, generated for scale tests and the benchmark.

`many_models_config("dev", 20)` is the dev stack's real config (Pulumi.yaml merged with
Pulumi.dev.yaml, as `stack_config` reads it) whose `mlops-platform:models` map holds 20 models:
the shipped models first (the first model first), then clones of the mammography entry named
`m01`, `m02`, ... with their own model package groups. A clone gets the stack's per-model
overrides of the mammography model too, so each clone behaves in every stack exactly as the model
it copies. Fewer models than are shipped keeps the first `count` of them. Use it as

    config, secret_keys = many_models_config(stack, 20)
    run_stack(stack, config=config, secret_keys=secret_keys, registry_outputs=...)
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from mlops_platform.offline.stack_files import PROJECT, ROOT, stack_config

MODELS_KEY = f"{PROJECT}:models"
OVERRIDES_KEY = f"{PROJECT}:modelOverrides"
FIRST_MODEL_KEY = f"{PROJECT}:firstModel"
TEMPLATE = "mammography"  # the entry every clone copies
GROUP_KEY = "modelPackageGroupName"


def clone_names(count: int, taken: set[str] = frozenset()) -> list[str]:
    """`count` generated model names, `m01`, `m02`, ..., skipping any in `taken`."""
    names: list[str] = []
    number = 0
    while len(names) < count:
        number += 1
        name = f"m{number:02d}"
        if name not in taken:
            names.append(name)
    return names


def shipped_models(config: dict[str, Any]) -> list[str]:
    """The configured model names, the first model first, the others in file order."""
    models = config.get(MODELS_KEY) or {}
    first = config.get(FIRST_MODEL_KEY)
    if first not in models:
        first = next(iter(models), None)
    return [] if first is None else [first, *(name for name in models if name != first)]


def with_models(config: dict[str, Any], count: int) -> dict[str, Any]:
    """A copy of `config` (merged stack config values) with exactly `count` models (see module doc)."""
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive number of models, got {count!r}")
    out = copy.deepcopy(config)
    models: dict[str, Any] = out.get(MODELS_KEY) or {}
    if TEMPLATE not in models:
        raise ValueError(f"{MODELS_KEY} has no {TEMPLATE!r} entry to clone; models: {sorted(models)}")
    shipped = shipped_models(out)
    kept = shipped[:count]
    clones = clone_names(count - len(kept), taken=set(models))
    template = models[TEMPLATE]
    overrides: dict[str, Any] = out.get(OVERRIDES_KEY) or {}
    new_models = {name: models[name] for name in kept}
    new_overrides = {name: overrides[name] for name in kept if name in overrides}
    for name in clones:
        entry = copy.deepcopy(template)
        entry[GROUP_KEY] = f"{template[GROUP_KEY]}-{name}"  # one group per model, as a real one would have
        new_models[name] = entry
        if TEMPLATE in overrides:
            new_overrides[name] = copy.deepcopy(overrides[TEMPLATE])
    out[MODELS_KEY] = new_models
    out[FIRST_MODEL_KEY] = kept[0]
    if new_overrides:
        out[OVERRIDES_KEY] = new_overrides
    else:
        out.pop(OVERRIDES_KEY, None)
    return out


def many_models_config(stack: str, count: int, root: Path = ROOT) -> tuple[dict[str, Any], list[str]]:
    """The stack's real config with `count` models, and its secret keys (what `stack_config` returns)."""
    values, secret_keys = stack_config(stack, root)
    return with_models(values, count), secret_keys


# AWS's limits on policy documents, in characters without whitespace (IAM quotas: managed policy
# 6,144, role trust policy 2,048 by default, all inline policies of one role 10,240; S3 bucket
# policy 20 KB; KMS key policy 32 KB).
DOCUMENT_LIMITS = {"aws:iam/policy:Policy": 6144, "aws:iam/role:Role": 2048,
                   "aws:s3/bucketPolicy:BucketPolicy": 20480, "aws:kms/key:Key": 32768,
                   "aws:kms/keyPolicy:KeyPolicy": 32768}
ROLE_INLINE_LIMIT = 10240
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def iam_documents(run, models: list[str]) -> list[dict[str, Any]]:
    """Every IAM document of a stack run: its resource type and name, that name with a model's name
    prefix replaced by `<model>-` (so one model's document lines up with another's), whether it is a model's own,
    its size as AWS counts it (JSON without whitespace), and for a role policy its role."""
    import json
    import re

    pattern = re.compile(r"^(" + "|".join(map(re.escape, sorted(models, key=len, reverse=True))) + r")-")
    out = []
    for resource, document in run.policy_documents():
        out.append({"type": resource.type, "resource": resource.name, "name": pattern.sub("<model>-", resource.name),
                    "per_model": bool(pattern.match(resource.name)),
                    "size": len(json.dumps(document, separators=(",", ":"))),
                    "role": resource.inputs.get("role") if resource.type == ROLE_POLICY else None})
    return out


def over_limits(documents: list[dict[str, Any]]) -> list[str]:
    """Every document over AWS's limit for its kind, and every role whose inline policies together are."""
    problems = [f"{d['type']} {d['name']}: {d['size']} characters, over {DOCUMENT_LIMITS[d['type']]}"
                for d in documents if d["size"] > DOCUMENT_LIMITS.get(d["type"], d["size"])]
    inline: dict[str, int] = {}
    for d in documents:
        if d["role"]:
            inline[str(d["role"])] = inline.get(str(d["role"]), 0) + d["size"]
    return problems + [f"role {role}: inline policies total {size} characters, over {ROLE_INLINE_LIMIT}"
                       for role, size in inline.items() if size > ROLE_INLINE_LIMIT]
