"""A model's `jobs`: instance type, count and maximum runtime per job kind, layered like every value.

`jobs.<processing|training|transform>.{instanceType, instanceCount, maxRuntimeSeconds}` from the
models entry, then the stack's `modelOverrides` on top, key by key; what neither sets is the
built-in `JobSizing` default. Standard library only, like `ml/models.py`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ml import model_checks as mc
from ml.model_checks import Report
from ml.models import JOB_KINDS, JobSizing

JOB_KEYS = ("instanceType", "instanceCount", "maxRuntimeSeconds")
MAX_INSTANCES = 10
RUNTIME_SECONDS = (60, 24 * 3600)  # a job longer than a day on these data is a bug (ml/pipelines/settings.py)
# A transform job has no job-level time limit in SageMaker: its maxRuntimeSeconds bounds each
# request instead (InvocationsTimeoutInSeconds), which SageMaker caps at an hour; 600 s was the
# platform's value before models were configurable.
TRANSFORM_REQUEST_SECONDS = (60, 3600)
KIND_DEFAULTS: dict[str, dict[str, Any]] = {"transform": {"max_runtime_seconds": 600}}


def parse_jobs(report: Report, layers: tuple[tuple[str, Mapping[Any, Any]], ...]) -> dict[str, JobSizing] | None:
    """Every job kind's sizing; `layers` are (key, source) from the override down to the entry."""
    before = report.count
    chosen: dict[str, dict[str, Any]] = {kind: {} for kind in JOB_KINDS}
    for where, source in reversed(layers):  # the entry first, then the override on top
        if "jobs" not in source:
            continue
        jobs = mc.mapping(report, f"{where}.jobs", source["jobs"], "{training: {instanceType: ml.m5.xlarge}}")
        for kind, raw in (jobs or {}).items():
            if kind not in JOB_KINDS:
                mc.unknown_keys(report, f"{where}.jobs", {kind: raw}, JOB_KINDS)
                continue
            sizing = mc.mapping(report, f"{where}.jobs.{kind}", raw, "{instanceType: ml.m5.large, instanceCount: 1}")
            if sizing is not None:
                mc.unknown_keys(report, f"{where}.jobs.{kind}", sizing, JOB_KEYS)
                chosen[kind].update(_sizing(report, f"{where}.jobs.{kind}", sizing, kind))
    if report.count > before:
        return None
    return {kind: JobSizing(**{**KIND_DEFAULTS.get(kind, {}), **chosen[kind]}) for kind in JOB_KINDS}


def _sizing(report: Report, key: str, sizing: Mapping[Any, Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "instanceType" in sizing:
        value = sizing["instanceType"]
        if isinstance(value, str) and mc.INSTANCE_TYPE.fullmatch(value):
            out["instance_type"] = value
        else:
            report(f"{key}.instanceType", f"must be a SageMaker instance type like ml.m5.large (ml.<family>.<size>), "
                   f"got {value!r}.")
    if "instanceCount" in sizing:
        count = mc.number(report, f"{key}.instanceCount", sizing["instanceCount"], whole=True,
                          ok=lambda x: 1 <= x <= MAX_INSTANCES, what=f"a whole number from 1 to {MAX_INSTANCES}")
        if count is not None:
            out["instance_count"] = count
    if "maxRuntimeSeconds" in sizing:
        low, high = TRANSFORM_REQUEST_SECONDS if kind == "transform" else RUNTIME_SECONDS
        what = (f"a whole number of seconds from {low} to {high}: for a transform it bounds each request, "
                "which SageMaker allows at most an hour" if kind == "transform"
                else f"a whole number of seconds from {low} to {high} (a day)")
        seconds = mc.number(report, f"{key}.maxRuntimeSeconds", sizing["maxRuntimeSeconds"], whole=True,
                            ok=lambda x: low <= x <= high, what=what)
        if seconds is not None:
            out["max_runtime_seconds"] = seconds
    return out
