"""Describe model package versions for their promotion pull requests, with the AWS CLI.

Usage: VERSIONS='[{"model": "mammography", "version": "7", "arn": "arn:...:model-package/g/7"}]' \
           python3 version_cards.py > cards.json

For each entry: `aws sagemaker describe-model-package` and the version's metrics file
(`aws s3 cp`), with whatever credentials the job holds (the registry's read-only model reviewer
role). Prints one compact JSON line: the list of cards `{model, version, arn, package,
evaluation}` that promote_version.py's `propose-each` turns into pull requests; `evaluation` is
null when the metrics file could not be read (the card then says so). A version that is no longer
Approved gets no card: a `::warning::` annotation names it instead, because nothing not approved
may be proposed for serving.

The entries come from another job (a workflow input checked by the model-version action, or the
dev stack's `servedVersions` output), so each is checked again here before it reaches the CLI:
a model name, a version number, and a model package version ARN of that number. Exits 2 naming
every bad entry, before any AWS call. Standard library only: it runs on the runner's own python3.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

MODEL = re.compile(r"[a-z][a-z0-9-]{0,31}")
VERSION = re.compile(r"[1-9][0-9]{0,9}")
ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:[a-z]{2}(?:-[a-z]+)+-[0-9]:[0-9]{12}:"
                 r"model-package/[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62}/(?P<version>[1-9][0-9]{0,9})")


class CardError(Exception):
    """The versions to describe are malformed, or AWS could not describe one; the message says which."""


def check(entries: Any) -> list[dict[str, str]]:
    """The entries as `{model, version, arn}` texts; CardError naming every bad one."""
    if not isinstance(entries, list):
        raise CardError("VERSIONS must be a JSON list of {model, version, arn}")
    problems, out = [], []
    for index, entry in enumerate(entries):
        fields = {k: str(entry.get(k, "")) for k in ("model", "version", "arn")} if isinstance(entry, dict) else {}
        arn = ARN.fullmatch(fields.get("arn", ""))
        if not fields or not MODEL.fullmatch(fields["model"]) or not VERSION.fullmatch(fields["version"]):
            problems.append(f"entry {index}: needs a model name and a version number, got {entry!r:.200}")
        elif arn is None or arn["version"] != fields["version"]:
            problems.append(f"entry {index} ({fields['model']} {fields['version']}): {fields['arn']!r:.200} is not "
                            "the ARN of that version of a model package group")
        else:
            out.append(fields)
    if problems:
        raise CardError("; ".join(problems))
    return out


def aws(*args: str) -> str:
    """The AWS CLI's standard output; CardError with its message when it fails."""
    proc = subprocess.run(["aws", *args], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise CardError(f"aws {args[0]} {args[1]} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


def evaluation_of(package: dict[str, Any]) -> dict[str, Any] | None:
    """The version's metrics file, or None when it cannot be read (the card says so)."""
    uri = (((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}).get("S3Uri")
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    try:
        loaded = json.loads(aws("s3", "cp", "--only-show-errors", uri, "-"))
    except (CardError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def card(entry: dict[str, str]) -> dict[str, Any] | None:
    """The card of one version, or None (with a warning annotation) when it is not Approved."""
    package = json.loads(aws("sagemaker", "describe-model-package", "--model-package-name", entry["arn"],
                             "--output", "json"))
    status = package.get("ModelApprovalStatus")
    if status != "Approved":
        print(f"::warning title=Not approved::{entry['model']} version {entry['version']} is {status!r}, not "
              "Approved, so it is not proposed. If a stack serves it, revert the pull request that pinned it.",
              file=sys.stderr)
        return None
    return {**entry, "package": package, "evaluation": evaluation_of(package)}


def main() -> int:
    try:
        entries = check(json.loads(os.environ.get("VERSIONS") or "[]"))
        cards = [c for c in map(card, entries) if c is not None]
    except (CardError, ValueError) as err:
        print(f"::error title=Version cards::{err}", file=sys.stderr)
        return 2
    # One line: it becomes a job output (`cards=<json>`); json.dumps escapes every newline.
    print(json.dumps(cards, separators=(",", ":"), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
