"""The GitHub REST calls of the promotion scripts, with the job's token. Standard library only."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class GitHubError(Exception):
    """GitHub answered a request with an HTTP error (`status`); the message says which and why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class GitHub:
    """One repository's REST API (`api_url` is GITHUB_API_URL, `repository` is `owner/name`)."""

    def __init__(self, api_url: str, repository: str, token: str):
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.repository = repository
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer; GitHubError on any HTTP error."""
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:500]
            raise GitHubError(err.code, f"GitHub refused {method} {path}: HTTP {err.code} {detail}") from None

    def find(self, path: str) -> Any:
        """GET `path`, or None when GitHub answers 404 (no such branch, file or pull request)."""
        try:
            return self.call("GET", path)
        except GitHubError as err:
            if err.status == 404:
                return None
            raise
