"""A loopback HTTP proxy in front of the moto server that records and sabotages AWS calls.

Tests point `AWS_ENDPOINT_URL` at it, so the code under test keeps building its own boto3
clients; the proxy sees every request on the wire (retries included), names its operation
and can answer with throttling or 5xx errors instead of (or after) forwarding it. Overlays
(`Overlay`) add behaviour moto lacks, still over real HTTP: they may answer an operation
themselves or rewrite moto's answer (see support_running_executions.py).
"""
from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

# (HTTP status, headers, body) of one answer.
Response = tuple[int, list[tuple[str, str]], bytes]


class Overlay(Protocol):
    def answer(self, operation: str, body: bytes,
               forward: Callable[[], Response]) -> Response | None:
        """The answer to `operation`, or None to let moto answer it. `forward()` asks moto."""


@dataclasses.dataclass
class Fault:
    """Answer the next `times` calls of `operation` with an error.

    `forward=True` passes the request to moto first and then loses the reply: the call
    took effect but the client sees a failure, as when a response times out on the way back.
    """

    operation: str
    times: int = 1
    status: int = 503
    code: str = "ServiceUnavailable"
    forward: bool = False


def operation_of(headers, body: bytes) -> str:
    """The AWS operation name of a request: JSON protocols name it in X-Amz-Target,
    query protocols (STS) in the form body's Action."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
    return action[0] if action else "unknown"


class AwsProxy:
    """Records `calls` (operation names, in order) and applies queued `Fault`s."""

    def __init__(self, upstream: str, *overlays: Overlay) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.overlays = overlays
        self.calls: list[str] = []
        self.faulted: list[str] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(dataclasses.replace(f) for f in faults)

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            self.calls.append(operation)
            for fault in self._faults:
                if fault.operation == operation and fault.times > 0:
                    fault.times -= 1
                    self.faulted.append(operation)
                    return fault
        return None

    def _respond(self, operation: str, method: str, path: str, headers, body: bytes) -> Response:
        """An overlay's answer if one gives it, else moto's."""
        def forward() -> Response:
            return self._forward(method, path, headers, body)

        for overlay in self.overlays:
            answer = overlay.answer(operation, body, forward)
            if answer is not None:
                return answer
        return forward()

    def _forward(self, method: str, path: str, headers, body: bytes) -> Response:
        conn = http.client.HTTPConnection(str(self.upstream.hostname), self.upstream.port,
                                          timeout=30)
        try:
            conn.request(method, path, body=body,
                         headers={k: v for k, v in headers.items()
                                  if k.lower() not in _HOP_HEADERS})
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start the proxy first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @contextlib.contextmanager
    def running(self) -> Iterator[AwsProxy]:
        """Serve on a free loopback port for the duration of the block."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = operation_of(self.headers, body)
                fault = proxy._take_fault(operation)
                if fault is None or fault.forward:
                    status, headers, data = proxy._respond(operation, self.command, self.path,
                                                           self.headers, body)
                if fault is not None:
                    status, headers, data = _error(fault, json_protocol="X-Amz-Target" in
                                                   self.headers)
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in _HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, *_args) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever,
                                  kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=10)


def json_error(status: int, code: str, message: str) -> Response:
    """An error answer in the JSON protocol (SageMaker's), as botocore parses it."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1")], body


def _error(fault: Fault, json_protocol: bool) -> Response:
    message = "injected by the test proxy"
    if json_protocol:
        return json_error(fault.status, fault.code, message)
    body = (f"<ErrorResponse><Error><Type>Receiver</Type><Code>{fault.code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>proxy</RequestId>"
            "</ErrorResponse>").encode()
    return fault.status, [("Content-Type", "text/xml")], body
