"""Captured endpoint requests -> a raw batch the drift check reads (a processing step's script).

An endpoint with data capture writes every request and response to S3 as JSON Lines, one
object per invocation (SageMaker's capture format: ``captureData.endpointInput`` with its
``data``, ``encoding`` CSV or BASE64 and ``observedContentType``). The requests are model-ready
rows: the model's features in order, categorical values of a text domain as their position.
This script turns them back into the model's raw layout (its schema document: columns in file
order, the label left out, a missing value written as the schema's first missing token) so the
very drift check of the batch path compares live traffic with the model's reference.

Runs alone in the SageMaker scikit-learn image (standard library only). Reads every file under
``{base}/input/capture`` (sub-folders included, hidden skipped, in S3 key order) and
``{base}/input/schema/schema.json``; writes ``{base}/output/batch/captured.data``. Exit 2 with
the file and line on stderr for anything that is not a capture record of this model's shape.
"""
from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import sys
from pathlib import Path

OUTPUT_FILE = "captured.data"


class CaptureError(Exception):
    """A capture file or record this model's drift check cannot use."""


def list_input_files(directory: Path) -> list[Path]:
    """Every file under ``directory``, sub-folders included, hidden skipped, in S3 key order."""
    if not directory.is_dir():
        return []
    found = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    return [found[key] for key in sorted(found) if not any(part.startswith(".") for part in key.split("/"))]


def request_rows(record: dict, where: str) -> list[list[str]]:
    """The CSV rows of one captured request."""
    try:
        request = record["captureData"]["endpointInput"]
        data, encoding = request["data"], request.get("encoding", "CSV")
    except (KeyError, TypeError):
        raise CaptureError(f"{where}: not a SageMaker capture record (no captureData.endpointInput.data)") from None
    if encoding == "BASE64":
        data = base64.b64decode(data).decode("utf-8")
    elif encoding != "CSV":
        raise CaptureError(f"{where}: request encoding {encoding!r}, expected CSV or BASE64")
    return [row for row in csv.reader(io.StringIO(data)) if row]


def raw_row(schema: dict, row: list[str], where: str) -> list[str]:
    """One model-ready row back in the model's raw layout (no label)."""
    features = schema["features"]
    if len(row) != len(features):
        raise CaptureError(f"{where}: {len(row)} values, the model takes {len(features)} "
                           f"({', '.join(f['name'] for f in features)})")
    by_name = {}
    for feature, text in zip(features, row, strict=True):
        by_name[feature["name"]] = _raw_value(feature, text.strip(), schema["missing"][0], where)
    return [by_name[c] for c in schema["columns"] if c != schema["label"]["name"]]


def _raw_value(feature: dict, text: str, missing: str, where: str) -> str:
    if text == "" or text.lower() == "nan":
        return missing
    domain = feature["domain"]
    if feature["kind"] == "numeric" or all(isinstance(v, int | float) for v in domain):
        return text
    try:
        return str(domain[int(float(text))])
    except (ValueError, IndexError):
        raise CaptureError(f"{where}: {feature['name']} is {text!r}, not a position in its domain "
                           f"(0 to {len(domain) - 1})") from None


def convert(capture_dir: Path, schema: dict, out_file: Path) -> int:
    """Write every captured request under `capture_dir` as raw rows; the number of rows."""
    writer_rows = []
    for path in list_input_files(capture_dir):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                record = json.loads(line)
            except ValueError:
                raise CaptureError(f"{where}: not JSON; capture files hold one JSON object per line") from None
            writer_rows += [raw_row(schema, row, where) for row in request_rows(record, where)]
    out_file.parent.mkdir(parents=True, exist_ok=True)
    header = [[c for c in schema["columns"] if c != schema["label"]["name"]]] if schema["header"] else []
    with out_file.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=schema["delimiter"], lineterminator="\n").writerows(header + writer_rows)
    return len(writer_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", default="/opt/ml/processing")
    args = parser.parse_args(argv)
    base = Path(args.base_dir)
    try:
        schema = json.loads((base / "input" / "schema" / "schema.json").read_text(encoding="utf-8"))
        rows = convert(base / "input" / "capture", schema, base / "output" / "batch" / OUTPUT_FILE)
    except (OSError, ValueError, KeyError, CaptureError) as err:
        print(f"capture_batch: error: {err}", file=sys.stderr)
        return 2
    print(f"capture_batch: {rows} captured requests written as a raw batch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
