"""Open the pull request that pins an approved model version for one stack.

Usage:
  promote_version.py pin STACK_FILE MODEL VERSION          print the stack file with the pin set
  promote_version.py propose --stack STACK --model MODEL --version N --package PACKAGE_JSON
                     [--evaluation EVALUATION_JSON] [--from-stack STACK]
      commit the pinned stack file on a new branch and open a pull request whose body is the
      version's card (model_version_summary.py); needs GH_TOKEN, GITHUB_REPOSITORY and
      GITHUB_API_URL (the Actions defaults) in the environment.
  promote_version.py pending --from-stack dev --stack prod  print `model version` lines pinned in
      the first stack file and not (or differently) in the second: what is ready to promote.

A served version is pinned, never "latest": the stack file's `mlops-platform:servedVersions`
map says which version of each model's central group serves in that stack, so a preview shows
exactly what a merge will change and a revert is a rollback. The edit changes only that map's
lines (comments and everything else in the file stay as they are).

Standard library only: it runs on the GitHub runner's own python3. Changes go through the
GitHub REST API (Git refs, contents, pulls), so the workflow needs no git credentials and the
pull request is created with the token the job was given (a GitHub App token: a pull request
opened with the default GITHUB_TOKEN would not start the preview workflow).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model_version_summary  # noqa: E402  (beside this file)

KEY = "mlops-platform:servedVersions"
MODEL = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
STACK = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_ENTRY = re.compile(r"^(?P<indent> +)(?P<model>[a-z][a-z0-9-]*):\s*(?P<value>[^#\s]+)?\s*(#.*)?$")


class PromotionError(Exception):
    """The stack file, the inputs or the GitHub API refused the promotion; the message says why."""


def served_versions(text: str) -> dict[str, str]:
    """The `servedVersions` map of a stack file, as written (version numbers or ARNs as text)."""
    start, end = _block(text.splitlines())
    if start is None:
        return {}
    pins = {}
    for line in text.splitlines()[start + 1:end]:
        if m := _ENTRY.match(line):
            pins[m["model"]] = (m["value"] or "").strip("\"'")
    return pins


def pin(text: str, model: str, version: str) -> str:
    """`text` with `servedVersions.<model>` set to `version`; every other line unchanged."""
    if not MODEL.fullmatch(model):
        raise PromotionError(f"model {model!r} is not a model name (lower-case letters, digits, hyphens)")
    if not (version.isdigit() or version.startswith("arn:")):
        raise PromotionError(f"version {version!r} must be a version number of the model's group or its ARN")
    lines = text.splitlines()
    start, end = _block(lines)
    entry = f'{model}: "{version}"'
    if start is None:
        if not any(line.rstrip() == "config:" for line in lines):
            raise PromotionError("the stack file has no top-level `config:` map")
        return "\n".join([*lines, f"  {KEY}:", f"    {entry}"]) + "\n"
    body = lines[start + 1:end]
    indent = next((m["indent"] for line in body if (m := _ENTRY.match(line))), "    ")
    kept = [line for line in body if not ((m := _ENTRY.match(line)) and m["model"] == model)]
    entries = sorted([line for line in kept if _ENTRY.match(line)] + [f"{indent}{entry}"],
                     key=lambda line: _ENTRY.match(line)["model"])  # type: ignore[index]
    others = [line for line in kept if not _ENTRY.match(line)]
    return "\n".join([*lines[:start + 1], *others, *entries, *lines[end:]]) + "\n"


def _block(lines: list[str]) -> tuple[int | None, int]:
    """Index of the `servedVersions:` line and the end (exclusive) of its indented block."""
    for i, line in enumerate(lines):
        if line.strip() == f"{KEY}:" and line.startswith("  ") and not line.startswith("   "):
            end = i + 1
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
            return i, end
        if line.strip().startswith(f"{KEY}:") and line.strip() != f"{KEY}:":
            raise PromotionError(f"{KEY} must be a block map (one `model: version` line each), not inline")
    return None, len(lines)


class GitHub:
    """The few REST calls a promotion makes, with the job's token."""

    def __init__(self, api_url: str, repository: str, token: str):
        self.base = f"{api_url.rstrip('/')}/repos/{repository}"
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:500]
            raise PromotionError(f"GitHub refused {method} {path}: HTTP {err.code} {detail}") from None


def propose(github: GitHub, *, stack: str, model: str, version: str, card: str, base: str = "main") -> str:
    """Branch `promote/<stack>/<model>-<version>` from `base`, pin, open the pull request; its URL."""
    if not STACK.fullmatch(stack):
        raise PromotionError(f"stack {stack!r} is not a stack name")
    path = f"Pulumi.{stack}.yaml"
    branch = f"promote/{stack}/{model}-{version.rsplit('/', 1)[-1]}"
    head = github.call("GET", f"/git/ref/heads/{base}")["object"]["sha"]
    current = github.call("GET", f"/contents/{path}?ref={base}")
    text = base64.b64decode(current["content"]).decode()
    if served_versions(text).get(model) == version:
        raise PromotionError(f"{path} already serves {model} version {version}: nothing to promote")
    github.call("POST", "/git/refs", {"ref": f"refs/heads/{branch}", "sha": head})
    github.call("PUT", f"/contents/{path}", {
        "message": f"Serve {model} version {version} in {stack}", "branch": branch, "sha": current["sha"],
        "content": base64.b64encode(pin(text, model, version).encode()).decode()})
    pull = github.call("POST", "/pulls", {
        "title": f"Serve {model} version {version} in {stack}", "head": branch, "base": base,
        "body": _body(stack, model, version, card)})
    return str(pull["html_url"])


def _body(stack: str, model: str, version: str, card: str) -> str:
    return (f"Pins `{model}` version `{version}` for the **{stack}** stack (`{KEY}` in `Pulumi.{stack}.yaml`).\n\n"
            "Merging deploys it behind the canary rollout; the alarms roll it back by themselves. "
            "Reverting this pull request is the rollback.\n\n" + card)


def pending(source: str, target: str) -> list[tuple[str, str]]:
    """(model, version) pinned in the source stack file and not the same in the target."""
    have = served_versions(target)
    return [(m, v) for m, v in sorted(served_versions(source).items()) if have.get(m) != v]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pin")
    p.add_argument("stack_file", type=Path)
    p.add_argument("model")
    p.add_argument("version")
    o = sub.add_parser("propose")
    for name in ("--stack", "--model", "--version", "--package"):
        o.add_argument(name, required=True)
    o.add_argument("--evaluation")
    o.add_argument("--base", default="main")
    q = sub.add_parser("pending")
    q.add_argument("--from-stack", required=True)
    q.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "pin":
            sys.stdout.write(pin(args.stack_file.read_text(encoding="utf-8"), args.model, args.version))
        elif args.command == "pending":
            source, target = (Path(f"Pulumi.{s}.yaml").read_text(encoding="utf-8") for s in (args.from_stack, args.stack))
            for model, version in pending(source, target):
                print(model, version)
        else:
            print(_propose(args))
    except (OSError, ValueError, KeyError, PromotionError) as err:
        print(f"promote_version: {err}", file=sys.stderr)
        return 2
    return 0


def _propose(args: argparse.Namespace) -> str:
    package = json.loads(Path(args.package).read_text(encoding="utf-8"))
    evaluation = json.loads(Path(args.evaluation).read_text(encoding="utf-8")) if args.evaluation else None
    if str(package.get("ModelApprovalStatus")) != "Approved":
        raise PromotionError(f"version {args.version} is {package.get('ModelApprovalStatus')!r}, not Approved")
    card = model_version_summary.render(package, evaluation if isinstance(evaluation, dict) else None,
                                        asks=f"asks to serve in {args.stack}")
    github = GitHub(os.environ["GITHUB_API_URL"], os.environ["GITHUB_REPOSITORY"], os.environ["GH_TOKEN"])
    return propose(github, stack=args.stack, model=args.model, version=args.version, card=card, base=args.base)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
