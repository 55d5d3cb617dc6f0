"""Pipeline executions that run until stopped: what moto lacks, added in front of it.

moto's executions are `Succeeded` as soon as they start, it has no StopPipelineExecution, and
it deletes a pipeline whatever runs. `RunningExecutions`, an overlay of the test proxy
(support_aws_proxy.py), keeps the state SageMaker keeps, over real HTTP and real botocore:
- an execution started through the proxy is `Executing` until stopped (or `finish`ed);
- StopPipelineExecution moves an `Executing` one to `Stopping`, and `stop_seconds` later it
  ends as `ends_as` (`Stopped`; `None` seconds: never, like a Lambda step that runs on);
- ListPipelineExecutions and DescribePipelineExecution report those statuses;
- DeletePipeline is refused with ConflictException while one of its executions runs, as
  SageMaker refuses it.
Pipelines are told apart by name only (tests use one account's names).
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.ml.support_aws_proxy import Response, json_error

RUNNING = ("Executing", "Stopping")


@dataclasses.dataclass
class _Run:
    pipeline: str
    status: str = "Executing"
    stop_requested: float | None = None


def pipeline_of(execution_arn: str) -> str:
    """`arn:...:pipeline/NAME/execution/ID` -> NAME."""
    return execution_arn.split(":pipeline/", 1)[1].split("/execution/", 1)[0]


class RunningExecutions:
    """The proxy overlay; `stops` lists the execution ARNs stopped, in order."""

    def __init__(self, stop_seconds: float | None = 0.2, ends_as: str = "Stopped") -> None:
        self.stop_seconds = stop_seconds
        self.ends_as = ends_as
        self.stops: list[str] = []
        self.on_stop: Callable[[str], None] | None = None
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()

    # --- what tests do and look at ---

    def status(self, arn: str) -> str:
        with self._lock:
            return self._current(self._runs[arn])

    def finish(self, arn: str, status: str = "Succeeded") -> None:
        """The execution ends by itself."""
        with self._lock:
            self._runs[arn].status = status

    def running(self, pipeline: str) -> list[str]:
        with self._lock:
            return sorted(arn for arn, run in self._runs.items()
                          if run.pipeline == pipeline and self._current(run) in RUNNING)

    # --- the overlay ---

    def answer(self, operation: str, body: bytes,
               forward: Callable[[], Response]) -> Response | None:
        handler = {
            "StartPipelineExecution": self._start,
            "StopPipelineExecution": self._stop,
            "ListPipelineExecutions": self._list,
            "DescribePipelineExecution": self._describe,
            "DeletePipeline": self._delete,
        }.get(operation)
        return None if handler is None else handler(json.loads(body or b"{}"), forward)

    def _current(self, run: _Run) -> str:
        if (run.status == "Stopping" and self.stop_seconds is not None
                and run.stop_requested is not None
                and time.monotonic() - run.stop_requested >= self.stop_seconds):
            run.status = self.ends_as
        return run.status

    def _start(self, _request: dict[str, Any], forward: Callable[[], Response]) -> Response:
        status, headers, body = forward()
        if status == 200:
            arn = json.loads(body)["PipelineExecutionArn"]
            with self._lock:
                self._runs[arn] = _Run(pipeline_of(arn))
        return status, headers, body

    def _stop(self, request: dict[str, Any], _forward: Callable[[], Response]) -> Response:
        arn = request["PipelineExecutionArn"]
        with self._lock:
            run = self._runs.get(arn)
            if run is None:
                return json_error(400, "ResourceNotFound", f"Pipeline execution {arn} not found")
            if self._current(run) != "Executing":
                return json_error(400, "ConflictException",
                                  f"Pipeline execution {arn} is {run.status}; it cannot be stopped")
            run.status, run.stop_requested = "Stopping", time.monotonic()
            self.stops.append(arn)
        if self.on_stop is not None:
            self.on_stop(arn)
        body = json.dumps({"PipelineExecutionArn": arn}).encode()
        return 200, [("Content-Type", "application/x-amz-json-1.1")], body

    def _rewrite(self, forward: Callable[[], Response],
                 patch: Callable[[dict[str, Any]], None]) -> Response:
        status, headers, body = forward()
        if status != 200:
            return status, headers, body
        doc = json.loads(body)
        with self._lock:
            patch(doc)
        return status, headers, json.dumps(doc).encode()

    def _patch_status(self, item: dict[str, Any]) -> None:
        run = self._runs.get(item.get("PipelineExecutionArn", ""))
        if run is not None:
            item["PipelineExecutionStatus"] = self._current(run)

    def _list(self, _request: dict[str, Any], forward: Callable[[], Response]) -> Response:
        def patch(doc: dict[str, Any]) -> None:
            for summary in doc.get("PipelineExecutionSummaries", []):
                self._patch_status(summary)

        return self._rewrite(forward, patch)

    def _describe(self, _request: dict[str, Any], forward: Callable[[], Response]) -> Response:
        return self._rewrite(forward, self._patch_status)

    def _delete(self, request: dict[str, Any], forward: Callable[[], Response]) -> Response | None:
        name = request.get("PipelineName", "")
        busy = self.running(name)
        if busy:
            return json_error(400, "ConflictException",
                              f"Pipeline {name} has running executions: {', '.join(busy)}")
        return None  # moto deletes it
