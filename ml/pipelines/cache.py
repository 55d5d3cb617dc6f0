"""A content-addressed disk cache of built pipeline definitions.

Building a definition with the SageMaker SDK takes seconds (importing the SDK, compiling
steps), and a definition is a pure function of its `PipelineSettings`, our own source code
and the SDK's version; the cache key is a hash of exactly those, so an entry can never be
stale: any change makes a new key. It only saves time: a miss, an unreadable entry or
`MLOPS_DEFINITION_CACHE=off` builds as usual. Entries are written atomically. Each model's
definitions have their own entries (their settings differ), and so does each model's seed data
(`cached_files`), so a repeated preview of a stack of many models builds nothing.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from ml import contract

SDK_DISTRIBUTIONS = ("sagemaker", "sagemaker-core", "sagemaker-mlops", "sagemaker-train", "sagemaker-serve")
ENV_SWITCH = "MLOPS_DEFINITION_CACHE"  # "off" disables; any other value is the cache directory


def cache_dir() -> Path | None:
    """Where entries live (`MLOPS_DEFINITION_CACHE`, else the user cache directory); None: off.

    CI keeps the default directory between runs (.github/workflows: preview.yml, deploy.yml).
    """
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


@functools.cache  # a metadata lookup scans sys.path (~2 ms): once per process, not once per model
def _sdk_versions() -> dict[str, str]:
    return {d: metadata.version(d) for d in SDK_DISTRIBUTIONS}


def cache_key(kind: str, settings) -> str:
    """The entry name of one definition: a hash of the kind, every settings field (so each
    model's definitions have their own entries), the SDK's versions and our source."""
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    fields = {k: dict(v) if hasattr(v, "items") else v for k, v in fields.items()}
    blob = json.dumps({"kind": kind, "settings": fields, "sdk": _sdk_versions(), "source": _source_digest()},
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
    _write(directory, entry, definition)
    return definition


def cached_files(kind: str, inputs: Mapping[str, Any], build: Callable[[], Mapping[str, bytes]],
                 distributions: tuple[str, ...] = ()) -> dict[str, bytes]:
    """`build()` (named files' bytes), or the same bytes from the cache.

    For other things the program derives from known inputs, such as a model's seed data (a
    pandas and scikit-learn import and a split per model, seconds for a stack of models): the
    entry name hashes `inputs` (JSON), the versions of `distributions` and our source, so it
    is never stale either.
    """
    directory = cache_dir()
    if directory is None:
        return dict(build())
    versions = {d: metadata.version(d) for d in distributions}
    blob = json.dumps({"kind": kind, "inputs": inputs, "versions": versions, "source": _source_digest()},
                      sort_keys=True, default=list)
    entry = directory / f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()}.json"
    try:
        stored = json.loads(entry.read_text())
        return {name: base64.b64decode(data, validate=True) for name, data in stored.items()}
    except (OSError, ValueError, AttributeError, TypeError):  # missing, unreadable or not our format
        pass
    files = dict(build())
    _write(directory, entry, json.dumps({name: base64.b64encode(data).decode() for name, data in files.items()},
                                        sort_keys=True))
    return files


def _write(directory: Path, entry: Path, text: str) -> None:
    """Write `entry` atomically (a reader sees the old entry or the whole new one, never a part)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".partial-")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only or full disk only costs the next run the build time
