"""Render what a model approver is asked to approve, as Markdown for the job summary.

Usage: python3 model_version_summary.py PACKAGE_JSON [EVALUATION_JSON]

PACKAGE_JSON is `aws sagemaker describe-model-package` output; EVALUATION_JSON the version's
model-statistics file (evaluation.json), when it could be read. Standard library only: it runs
on the GitHub runner's own python3.

Every value comes from whoever registered the version (possibly a compromised workload
account), so nothing is trusted: each value is shown as inline code with backticks and
control characters removed and its length capped, so it can neither format the summary
(links, images, HTML) nor pass for something else. Exits 2, with the reason on stderr, when
the file is not a model package description.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

MAX_VALUE = 300
METRICS = ("auc", "accuracy", "precision", "recall", "f1")


def code(value: Any) -> str:
    """`value` as inert inline code: no backticks, no control characters, bounded length."""
    text = "" if value is None else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text).replace("`", "'").strip()
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE] + "..."
    text = text.replace("|", "\\|")  # a pipe would end the table cell, even inside code
    return f"`{text}`" if text else "_(none)_"


def creator(package: dict[str, Any]) -> str:
    created = package.get("CreatedBy") or {}
    identity = created.get("IamIdentity") or {}
    return identity.get("Arn") or created.get("UserProfileName") or ""


def metric_rows(evaluation: dict[str, Any] | None) -> list[str]:
    if evaluation is None:
        return []
    metrics = evaluation.get("binary_classification_metrics") or {}
    rows = []
    for name in METRICS:
        value = (metrics.get(name) or {}).get("value")
        if isinstance(value, (int, float)) and math.isfinite(value):
            rows.append(f"| {name} | {value:.4f} |")
        else:
            rows.append(f"| {name} | {code(value)} |")
    if isinstance(evaluation.get("test_rows"), int):
        rows.append(f"| test rows | {evaluation['test_rows']} |")
    return rows


def render(package: dict[str, Any], evaluation: dict[str, Any] | None, *, asks: str = "asks for approval") -> str:
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    statistics = ((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
    metadata = package.get("CustomerMetadataProperties") or {}
    lines = [
        f"### Model package version {code(package.get('ModelPackageVersion'))} {asks}",
        "",
        "Every value below was written by whoever registered the version: check it before approving it or serving it.",
        "",
        "| field | value |",
        "|---|---|",
        f"| version ARN | {code(package.get('ModelPackageArn'))} |",
        f"| status | {code(package.get('ModelApprovalStatus'))} |",
        f"| created | {code(package.get('CreationTime'))} |",
        f"| created by | {code(creator(package))} |",
        f"| image | {code(containers[0].get('Image'))} |",
        f"| model artifact | {code(containers[0].get('ModelDataUrl'))} |",
        f"| metrics file | {code(statistics.get('S3Uri'))} |",
    ]
    lines += [f"| metadata {code(k)} | {code(v)} |" for k, v in sorted(metadata.items())]
    rows = metric_rows(evaluation)
    if rows:
        lines += ["", "#### Metrics on the held-out test split", "", "| metric | value |", "|---|---|", *rows]
    else:
        lines += ["", "**No metrics could be read from the metrics file.**"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    try:
        package = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        evaluation = json.loads(Path(argv[1]).read_text(encoding="utf-8")) if len(argv) == 2 else None
    except (OSError, ValueError) as err:
        print(f"cannot read the model package description: {err}", file=sys.stderr)
        return 2
    if not isinstance(package, dict) or "ModelPackageArn" not in package:
        print("not a model package description (no ModelPackageArn)", file=sys.stderr)
        return 2
    sys.stdout.write(render(package, evaluation if isinstance(evaluation, dict) else None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
