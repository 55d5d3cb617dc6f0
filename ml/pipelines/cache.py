"""A content-addressed disk cache of built pipeline definitions.

Building a definition with the SageMaker SDK takes seconds (importing the SDK, compiling
steps), and a definition is a pure function of its `PipelineSettings`, our own source code
and the SDK's version; the cache key is a hash of exactly those, so an entry can never be
stale: any change makes a new key. It only saves time: a miss, an unreadable entry or
`MLOPS_DEFINITION_CACHE=off` builds as usual. Entries are written atomically.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from ml import contract

SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "sagemaker-mlops", "sagemaker-train", "sagemaker-serve")
ENV_SWITCH = "MLOPS_DEFINITION_CACHE"  # "off" disables; any other value is the cache directory


def cache_dir() -> Path | None:
    value = os.environ.get(ENV_SWITCH, "")
    if value.lower() == "off":
        return None
    if value:
        return Path(value)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlops-platform" / "definitions"


@functools.cache  # once per process: both definitions of a stack share it
def _source_digest() -> str:
    """Every module of the ml package: the builders and everything they import from us."""
    digest = hashlib.sha256()
    for path in sorted(contract.PACKAGE_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(contract.PACKAGE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(kind: str, settings) -> str:
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    fields = {k: dict(v) if hasattr(v, "items") else v for k, v in fields.items()}
    versions = {d: metadata.version(d) for d in SDK_DISTRIBUTIONS}
    blob = json.dumps({"kind": kind, "settings": fields, "sdk": versions, "source": _source_digest()},
                      sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()


def cached(kind: str, build: Callable[[Any], str], settings: Any) -> str:
    """`build(settings)`, or the same bytes from the cache."""
    directory = cache_dir()
    if directory is None:
        return build(settings)
    entry = directory / f"{kind}-{cache_key(kind, settings)}.json"
    try:
        return entry.read_text()
    except (OSError, UnicodeDecodeError):
        pass
    definition = build(settings)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".partial-")
        with os.fdopen(fd, "w") as handle:
            handle.write(definition)
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only or full disk only costs the next run the build time
    return definition
