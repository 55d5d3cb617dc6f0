"""Open the pull request that pins an approved model version for one stack.

Usage:
  promote_version.py pin STACK_FILE MODEL VERSION          print the stack file with the pin set
  promote_version.py propose --stack STACK --model MODEL --version N --package PACKAGE_JSON
                     [--evaluation EVALUATION_JSON] [--base main]
      commit the pinned stack file on a new branch and open a pull request whose body is the
      version's card (model_version_summary.py); needs GH_TOKEN, GITHUB_REPOSITORY and
      GITHUB_API_URL (the Actions defaults) in the environment. Prints the pull request's URL
      (an earlier one's, if this promotion was proposed before: each is proposed once).
  promote_version.py propose-each --stack STACK --cards CARDS_JSON [--base main]
      the same for every card of version_cards.py's output; prints a Markdown line per card
      for the job summary and exits 1 if any could not be proposed.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model_version_summary  # noqa: E402  (beside this file)
from github_api import GitHub, GitHubError  # noqa: E402

KEY = "mlops-platform:servedVersions"
MODEL = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
# What a pin may be: a version number of the model's group, or a version's ARN.
_VERSION = re.compile(r"^(?:[1-9][0-9]{0,9}|arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:"
                      r"model-package/[A-Za-z0-9-]+/[1-9][0-9]{0,9})$")
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


@dataclass(frozen=True)
class Proposal:
    """The pull request of one promotion: its URL and whether this run opened it."""

    url: str
    state: str  # "opened" (by this run), or an earlier one's: "open", "closed", "merged"

    @property
    def opened(self) -> bool:
        return self.state == "opened"


class AlreadyServed(PromotionError):
    """The base branch's stack file already pins that version: there is nothing to promote."""


def branch_name(stack: str, model: str, version: str) -> str:
    """One branch per promotion, so a promotion is proposed once, whoever asks again."""
    return f"promote/{stack}/{model}-{version.rsplit('/', 1)[-1]}"


def propose(github: GitHub, *, stack: str, model: str, version: str, card: str, base: str = "main") -> Proposal:
    """Branch `promote/<stack>/<model>-<version>` from `base`, pin, open the pull request.

    A promotion is proposed at most once: if a pull request from its branch exists in any state
    (open, closed unmerged = declined, merged = done, even if reverted since), that one is returned
    and nothing changes; so re-running a workflow, or every later deploy of dev, never reopens a
    promotion someone declined or rolled back. A branch left by an interrupted run is reused.
    """
    if not STACK.fullmatch(stack):
        raise PromotionError(f"stack {stack!r} is not a stack name")
    pin("config:\n", model, version)  # refuses a bad model or version before any request
    path = f"Pulumi.{stack}.yaml"
    branch = branch_name(stack, model, version)
    if earlier := _earlier_pull(github, branch):
        return earlier
    current = github.call("GET", f"/contents/{path}?ref={quote(base)}")
    text = base64.b64decode(current["content"]).decode()
    if served_versions(text).get(model) == version:
        raise AlreadyServed(f"{path} already serves {model} version {version}: nothing to promote")
    if github.find(f"/git/ref/heads/{quote(branch)}") is None:
        head = github.call("GET", f"/git/ref/heads/{quote(base)}")["object"]["sha"]
        github.call("POST", "/git/refs", {"ref": f"refs/heads/{branch}", "sha": head})
        on_branch = current
    else:  # an interrupted run's branch: pin it there unless that run already did
        on_branch = github.call("GET", f"/contents/{path}?ref={quote(branch)}")
    branch_text = base64.b64decode(on_branch["content"]).decode()
    if served_versions(branch_text).get(model) != version:
        github.call("PUT", f"/contents/{path}", {
            "message": f"Serve {model} version {version} in {stack}", "branch": branch, "sha": on_branch["sha"],
            "content": base64.b64encode(pin(branch_text, model, version).encode()).decode()})
    pull = github.call("POST", "/pulls", {
        "title": f"Serve {model} version {version} in {stack}", "head": branch, "base": base,
        "body": _body(stack, model, version, card)})
    return Proposal(str(pull["html_url"]), "opened")


def _earlier_pull(github: GitHub, branch: str) -> Proposal | None:
    owner = github.repository.split("/", 1)[0]
    pulls = github.call("GET", f"/pulls?head={quote(owner + ':' + branch)}&state=all&per_page=1")
    if not pulls:
        return None
    state = "merged" if pulls[0].get("merged_at") else str(pulls[0].get("state"))
    return Proposal(str(pulls[0]["html_url"]), state)


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
    e = sub.add_parser("propose-each")
    e.add_argument("--stack", required=True)
    e.add_argument("--cards", required=True, type=Path)
    e.add_argument("--base", default="main")
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
        elif args.command == "propose-each":
            return _propose_each(args)
        else:
            proposal = _propose(args)
            if not proposal.opened:
                print(f"promote_version: a pull request for this promotion exists ({proposal.state})", file=sys.stderr)
            print(proposal.url)
    except (OSError, ValueError, KeyError, PromotionError, GitHubError) as err:
        print(f"promote_version: {err}", file=sys.stderr)
        return 2
    return 0


def _github() -> GitHub:
    return GitHub(os.environ["GITHUB_API_URL"], os.environ["GITHUB_REPOSITORY"], os.environ["GH_TOKEN"])


def _card(stack: str, version: str, package: Any, evaluation: Any) -> str:
    if not isinstance(package, dict) or str(package.get("ModelApprovalStatus")) != "Approved":
        status = package.get("ModelApprovalStatus") if isinstance(package, dict) else None
        raise PromotionError(f"version {version} is {status!r}, not Approved")
    return model_version_summary.render(package, evaluation if isinstance(evaluation, dict) else None,
                                        asks=f"asks to serve in {stack}")


def _propose(args: argparse.Namespace) -> Proposal:
    package = json.loads(Path(args.package).read_text(encoding="utf-8"))
    evaluation = json.loads(Path(args.evaluation).read_text(encoding="utf-8")) if args.evaluation else None
    card = _card(args.stack, args.version, package, evaluation)
    return propose(_github(), stack=args.stack, model=args.model, version=args.version, card=card, base=args.base)


def _propose_each(args: argparse.Namespace) -> int:
    """One pull request per card of `--cards` (version_cards.py's output); a Markdown line each.

    Every card is tried; the exit status is 1 when any could not be proposed (its line says why).
    """
    cards = json.loads(args.cards.read_text(encoding="utf-8"))
    if not isinstance(cards, list):
        raise PromotionError(f"{args.cards} must hold a list of version cards")
    github, failed = _github(), 0
    print(f"### Promotions to {args.stack}\n")
    for entry in cards:
        model, version = str(entry.get("model")), str(entry.get("version"))
        label = f"`{model}` version `{version}`" if MODEL.fullmatch(model) and _VERSION.fullmatch(version) else "a card"
        try:
            card = _card(args.stack, version, entry.get("package"), entry.get("evaluation"))
            proposal = propose(github, stack=args.stack, model=model, version=version, card=card, base=args.base)
        except AlreadyServed:
            print(f"- {label}: `Pulumi.{args.stack}.yaml` already pins it; nothing to promote.")
            continue
        except (PromotionError, GitHubError, KeyError, AttributeError) as err:
            failed += 1
            print(f"- {label}: **not proposed**: {model_version_summary.code(err)}")
            continue
        said = {"opened": "opened", "open": "already proposed, still open",
                "merged": "already proposed and merged (since reverted or changed: propose it again by hand)",
                "closed": "already proposed and declined (closed unmerged)"}.get(proposal.state, proposal.state)
        print(f"- {label}: {said}: {proposal.url}")
    if not cards:
        print(f"- nothing to promote to {args.stack}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
