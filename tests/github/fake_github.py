"""A local stand-in for the few GitHub REST endpoints the promotion script calls.

It keeps one repository in memory (branches -> {path: text}, pull requests with their state) and
records every request, so a test can check what the script changed and in which order, over real
HTTP on 127.0.0.1. Unknown endpoints answer 404, as GitHub does.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeRepository:
    name: str
    branches: dict[str, dict[str, str]]
    token: str
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def sha(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def head(self, branch: str) -> str:
        return self.sha(json.dumps(self.branches[branch], sort_keys=True))

    def handle(self, method: str, url: str, body: Any, token: str) -> tuple[int, Any]:
        self.requests.append((method, url, body))
        if token != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        parsed = urlparse(url)
        prefix = f"/repos/{self.name}"
        if not parsed.path.startswith(prefix):
            return 404, {"message": "Not Found"}
        path, query = parsed.path[len(prefix):], parse_qs(parsed.query)
        if method == "GET" and path.startswith("/git/ref/heads/"):
            branch = path.removeprefix("/git/ref/heads/")
            return (200, {"object": {"sha": self.head(branch)}}) if branch in self.branches else (404, {})
        if method == "POST" and path == "/git/refs":
            branch = body["ref"].removeprefix("refs/heads/")
            if branch in self.branches:
                return 422, {"message": "Reference already exists"}
            source = next(b for b in self.branches if self.head(b) == body["sha"])
            self.branches[branch] = dict(self.branches[source])
            return 201, {"ref": body["ref"]}
        if path.startswith("/contents/"):
            return self._contents(method, path.removeprefix("/contents/"), query, body)
        if method == "POST" and path == "/pulls":
            if body["head"] not in self.branches or body["base"] not in self.branches:
                return 422, {"message": "Validation Failed"}
            if any(p["head"] == body["head"] and p["state"] == "open" for p in self.pulls):
                return 422, {"message": "A pull request already exists"}
            self.pulls.append({**body, "state": "open", "merged_at": None})
            return 201, self._pull(len(self.pulls))
        if method == "GET" and path == "/pulls":
            # GitHub's filters: `head` is `owner:branch`, `state` open (default), closed or all.
            state, head = query.get("state", ["open"])[0], query.get("head", [""])[0]
            owner = self.name.split("/")[0]
            return 200, [self._pull(n) for n, p in enumerate(self.pulls, 1)
                         if (not head or f"{owner}:{p['head']}" == head) and state in ("all", p["state"])]
        return 404, {"message": "Not Found"}

    def _pull(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number - 1]
        return {"number": number, "html_url": f"https://github.test/{self.name}/pull/{number}",
                "state": pull["state"], "merged_at": pull["merged_at"], "head": {"ref": pull["head"]}}

    def close(self, number: int, *, merged: bool) -> None:
        """What a reviewer does to a pull request: merge it (its pin reaches the base) or decline it."""
        pull = self.pulls[number - 1]
        pull["state"] = "closed"
        if merged:
            pull["merged_at"] = "2030-01-01T00:00:00Z"
            self.branches[pull["base"]] = dict(self.branches[pull["head"]])

    def _contents(self, method: str, file: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if method == "GET":
            files = self.branches.get(query.get("ref", ["main"])[0], {})
            if file not in files:
                return 404, {"message": "Not Found"}
            text = files[file]
            return 200, {"sha": self.sha(text), "content": base64.b64encode(text.encode()).decode()}
        files = self.branches[body["branch"]]
        if self.sha(files.get(file, "")) != body["sha"]:
            return 409, {"message": "sha does not match"}
        files[file] = base64.b64decode(body["content"]).decode()
        return 200, {"commit": {"message": body["message"]}}


@contextmanager
def fake_github(repository: FakeRepository) -> Iterator[str]:
    """Serve `repository` on 127.0.0.1 and a free port; yields the API base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload = repository.handle(self.command, self.path, body, self.headers.get("Authorization", ""))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
