"""``python -m ml.serving.smoke_test``: ask a freshly deployed endpoint about real rows.

After a merge deploys a pinned version, the workflow invokes the endpoint with rows taken from
the model's own data file and checks the answers: one score per row, each a probability in
[0, 1]. It also reports how well the scores rank the rows' labels (ROC AUC), which a healthy
model keeps far above chance; below ``--min-auc`` the smoke test fails too, because an endpoint
answering in range but at random is not healthy.

Rows are the complete ones (no missing value, every value in its domain, aliases applied),
taken evenly across the file so both classes are present, and encoded the way the pipelines
encode them for the model (ml/steps: numeric values as they are, a categorical value of a
text domain as its position in the domain), label left out.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ml.models import PROJECT_ROOT, DataSchema, Feature, ModelSpec, load_project_models

CONTENT_TYPE = "text/csv"


class SmokeTestError(Exception):
    """The endpoint answered wrongly, or could not be asked; the message says what and where."""


@dataclass(frozen=True)
class Sample:
    payload: str  # CSV, one model-ready row per line, no label
    labels: tuple[int, ...]  # 1 for the positive class


def _value(feature: Feature, text: str) -> float | None:
    """The model-ready number of one raw field, or None when it is not usable as it is."""
    raw = feature.aliases.get(text, text)
    if feature.categorical:
        for position, allowed in enumerate(feature.domain):
            if str(allowed) == str(raw) or _same_number(allowed, raw):
                return float(allowed) if isinstance(allowed, int | float) else float(position)
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    low, high = float(feature.domain[0]), float(feature.domain[1])
    if not low <= number <= high or feature.integer and not number.is_integer():
        return None
    return number


def _same_number(allowed: object, raw: object) -> bool:
    try:
        return isinstance(allowed, int | float) and float(str(raw)) == float(allowed)
    except ValueError:
        return False


def sample_rows(schema: DataSchema, text: str, count: int) -> Sample:
    """`count` complete rows taken evenly across the data file, as the model reads them."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows = list(csv.reader(lines[1:] if schema.header else lines, delimiter=schema.delimiter))
    position = {name: i for i, name in enumerate(schema.columns)}
    usable: list[tuple[list[float], int]] = []
    for row in rows:
        if len(row) != len(schema.columns) or any(field.strip() in schema.missing for field in row):
            continue
        values = [_value(f, row[position[f.name]].strip()) for f in schema.features]
        label = row[position[schema.label.name]].strip()
        if None in values or not any(str(v) == label or _same_number(v, label) for v in schema.label.domain):
            continue
        positive = str(schema.label.positive) == label or _same_number(schema.label.positive, label)
        usable.append(([v for v in values if v is not None], int(positive)))
    if len(usable) < count:
        raise SmokeTestError(f"the data file has {len(usable)} complete rows, fewer than the {count} asked for")
    chosen = [usable[i * len(usable) // count] for i in range(count)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[f"{v:g}" for v in values] for values, _ in chosen])
    return Sample(out.getvalue(), tuple(label for _, label in chosen))


def parse_scores(body: str, expected: int) -> list[float]:
    """One probability per row, newline- or comma-separated (the XGBoost container writes either)."""
    fields = [f.strip() for f in body.replace("\n", ",").split(",") if f.strip()]
    if len(fields) != expected:
        raise SmokeTestError(f"the endpoint returned {len(fields)} scores for {expected} rows")
    scores = []
    for index, field in enumerate(fields):
        try:
            score = float(field)
        except ValueError:
            raise SmokeTestError(f"answer {index + 1} is {field[:40]!r}, not a number") from None
        if not 0.0 <= score <= 1.0:
            raise SmokeTestError(f"answer {index + 1} is {score}, outside [0, 1]: not a probability")
        scores.append(score)
    return scores


def auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """ROC AUC by ranks (ties count half); None when the sample lacks a class."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def run(spec: ModelSpec, endpoint: str, *, rows: int, min_auc: float, client, root: Path) -> dict:
    """Invoke `endpoint` with `rows` rows of `spec`'s data; the checks' figures, or SmokeTestError."""
    sample = sample_rows(spec.schema, (root / spec.data_file).read_text(encoding="utf-8"), rows)
    try:
        response = client.invoke_endpoint(EndpointName=endpoint, ContentType=CONTENT_TYPE, Accept=CONTENT_TYPE,
                                          Body=sample.payload.encode())
    except Exception as err:  # botocore's errors: the endpoint is missing, failing or not allowed
        raise SmokeTestError(f"invoking {endpoint} failed: {err}") from None
    scores = parse_scores(response["Body"].read().decode(errors="replace"), rows)
    score = auc(scores, sample.labels)
    if score is not None and score < min_auc:
        raise SmokeTestError(f"the scores rank the labels with ROC AUC {score:.3f}, below {min_auc}: "
                             "the endpoint answers, but not like the approved model")
    return {"endpoint": endpoint, "model": spec.name, "rows": rows, "auc": score,
            "variant": response.get("InvokedProductionVariant")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.serving.smoke_test", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the model's name in Pulumi.yaml")
    parser.add_argument("--endpoint", required=True, help="the endpoint's name (the stack output)")
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--min-auc", type=float, default=0.6)
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    import boto3  # only when asking a real endpoint

    try:
        specs = {s.name: s for s in load_project_models(PROJECT_ROOT)}
        if args.model not in specs:
            raise SmokeTestError(f"no model {args.model!r} in Pulumi.yaml (models: {', '.join(sorted(specs))})")
        client = boto3.client("sagemaker-runtime", region_name=args.region)
        result = run(specs[args.model], args.endpoint, rows=args.rows, min_auc=args.min_auc, client=client,
                     root=PROJECT_ROOT)
    except (SmokeTestError, OSError, ValueError) as err:
        print(f"smoke test: FAILED: {err}", file=sys.stderr)
        return 1
    print(f"smoke test: ok: {result['endpoint']} answered {result['rows']} rows of {result['model']} "
          f"with probabilities; ROC AUC {result['auc'] if result['auc'] is None else round(result['auc'], 3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
