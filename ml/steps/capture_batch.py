"""Capture-batch step: an endpoint's captured requests -> a raw batch the drift check reads.

An endpoint with data capture writes every request and response to S3 as JSON Lines, one object
per invocation (SageMaker's capture format: ``captureData.endpointInput`` with its ``data``,
``encoding`` CSV or BASE64 and ``observedContentType``; ``eventMetadata.inferenceTime``). The
requests are model-ready rows: the model's features in schema order, a categorical value of a
text domain as its position in the domain. This step turns the requests of a time window back
into the model's raw layout (its schema document: columns in file order, the label left out, a
missing value written as the schema's first missing token), so the very drift check of the batch
path compares live traffic with the model's reference (ml/pipelines/live_drift.py).

Runs alone in the SageMaker scikit-learn image, possibly without network access: the standard
library and the steps' shared library (``tabular``: the schema and the input-listing rule).

Inputs  ``{base}/input/schema/schema.json``  the model's schema document.
        ``{base}/input/capture/``  every file under it (``tabular.list_input_files``: sub-folders
                                   included, hidden skipped, in S3 key order), each JSON Lines.
Outputs ``{base}/output/batch/captured.data``  the window's requests in the raw layout, in order.

The window: ``--window-hours H`` (default 24; 0: every record) ending at ``--until`` (ISO 8601;
default now, the job's clock): a record is kept when ``until - H hours < inferenceTime <= until``.
A scheduled run thus judges the traffic of the last day, not the endpoint's whole history, in
which a recent change would be diluted.

Values are not judged here: a position outside its text domain is written as a value outside the
domain, a number as it came, so the drift check counts them (out-of-domain rate, schema check)
as it does for a batch. Exit 2 with the file and line on stderr for anything that is not a
capture record of this model's shape (not JSON, no request, another content type or encoding, a
row with the wrong number of fields), and when the window holds no request at all.
"""
from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path


def _library_path() -> list[str]:
    """This script's directory (ml/steps, run locally) and the job's shared-library input under
    --base-dir (contract.STEP_LIBRARY_INPUT_DIR): where ``import tabular`` finds the library."""
    argv = sys.argv[1:]
    base = next((value for flag, value in zip(argv, argv[1:], strict=False) if flag == "--base-dir"),
                next((a.split("=", 1)[1] for a in argv if a.startswith("--base-dir=")), "/opt/ml/processing"))
    return [str(Path(__file__).resolve().parent), str(Path(base) / "input" / "lib")]


sys.path[:0] = [p for p in _library_path() if p not in sys.path]
import tabular  # noqa: E402

UTC = timezone.utc  # noqa: UP017  (datetime.UTC is Python 3.11; the image runs 3.10)

DEFAULT_BASE_DIR = "/opt/ml/processing"
INPUT_DIRS = {"capture": "input/capture", "schema": tabular.SCHEMA_INPUT_DIR, "lib": tabular.LIBRARY_INPUT_DIR}
OUTPUT_DIRS = {"batch": "output/batch"}
OUTPUT_FILE = "captured.data"
DEFAULT_WINDOW_HOURS = 24
CSV_TYPES = ("text/csv",)
# Written for a position outside a text domain: no domain value, so the drift check counts it
# as out of domain (tabular_cells.text_values gives it -1), as it would count it in a raw batch.
OUT_OF_DOMAIN = "<out-of-domain>"
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?")


class CaptureError(Exception):
    """A capture file or record this model's drift check cannot use."""


def parse_time(text: str, what: str) -> datetime:
    """An ISO 8601 time (``2026-12-01T06:00:00Z``, fractions of any length, an offset or none:
    UTC) as an aware datetime. Python 3.10's fromisoformat takes neither ``Z`` nor 9 digits."""
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise CaptureError(f"{what}: {text!r} is not an ISO 8601 time such as 2026-12-01T06:00:00Z")
    stamp, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    return datetime.fromisoformat(f"{stamp}.{(fraction or '0')[:6].ljust(6, '0')}{zone}").astimezone(UTC)


def request_rows(record: object, where: str) -> list[list[str]]:
    """The CSV rows of one captured request."""
    try:
        request = record["captureData"]["endpointInput"]  # type: ignore[index]
        data, encoding = request["data"], request.get("encoding", "CSV")
    except (KeyError, TypeError, AttributeError):
        raise CaptureError(f"{where}: not a SageMaker capture record (no captureData.endpointInput.data)") from None
    content_type = str(request.get("observedContentType") or "text/csv").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES:
        raise CaptureError(f"{where}: a {content_type} request; the model takes text/csv rows (send CSV)")
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error and UnicodeDecodeError
            raise CaptureError(f"{where}: a BASE64 request that is not BASE64-encoded UTF-8 text") from None
    elif encoding != "CSV":
        raise CaptureError(f"{where}: request encoding {encoding!r}, expected CSV or BASE64")
    return [row for row in csv.reader(io.StringIO(data)) if row]


def inference_time(record: dict, where: str) -> datetime:
    """When the endpoint answered the request (``eventMetadata.inferenceTime``)."""
    metadata = record.get("eventMetadata")
    if not isinstance(metadata, dict) or "inferenceTime" not in metadata:
        raise CaptureError(f"{where}: no eventMetadata.inferenceTime, so the record cannot be placed in the window")
    return parse_time(metadata["inferenceTime"], f"{where}: eventMetadata.inferenceTime")


def raw_row(schema: tabular.Schema, row: list[str], where: str) -> list[str]:
    """One model-ready row back in the model's raw layout (no label)."""
    if len(row) != len(schema.features):
        raise CaptureError(f"{where}: {len(row)} values, the model takes {len(schema.features)} "
                           f"({', '.join(schema.feature_names)})")
    missing = schema.missing[0] if schema.missing else ""
    by_name = {column.name: _raw_value(column, text.strip(), missing)
               for column, text in zip(schema.features, row, strict=True)}
    return [by_name[name] for name in schema.without_label]


def _raw_value(column: tabular.Column, text: str, missing: str) -> str:
    if text == "" or text.lower() == "nan":  # what XGBoost reads as missing in a CSV request
        return missing
    if not column.text_valued:
        return text  # numbers are written as they are in both layouts
    try:
        position = float(text)
    except ValueError:
        return OUT_OF_DOMAIN
    if position.is_integer() and 0 <= position < len(column.domain):
        return column.domain_text[int(position)]
    return OUT_OF_DOMAIN


def window_rows(capture_dir: Path, schema: tabular.Schema, since: datetime | None,
                until: datetime) -> tuple[list[list[str]], int]:
    """The raw rows of every request answered in (since, until] (since None: every request up to
    until), in S3 key order; and how many records fell outside the window."""
    rows, outside = [], 0
    for path in tabular.list_input_files(capture_dir):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                record = json.loads(line)
            except ValueError:
                raise CaptureError(f"{where}: not JSON; capture files hold one JSON object per line") from None
            if not isinstance(record, dict) or "captureData" not in record:
                raise CaptureError(f"{where}: not a SageMaker capture record (no captureData)")
            answered = inference_time(record, where)
            if answered > until or since is not None and answered <= since:
                outside += 1  # not read further: an old odd record must not stop every later run
                continue
            rows += [raw_row(schema, row, where) for row in request_rows(record, where)]
    return rows, outside


def write_batch(rows: list[list[str]], schema: tabular.Schema, out_file: Path) -> None:
    """The rows as a raw batch file of the schema (header, delimiter), no label column."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    header = [list(schema.without_label)] if schema.header else []
    with out_file.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=schema.delimiter, lineterminator="\n").writerows(header + rows)


def run(base_dir: str | Path, window_hours: int = DEFAULT_WINDOW_HOURS, until: datetime | None = None) -> dict:
    """Run the step under ``base_dir``; a summary. Raises CaptureError or ValueError (nothing
    written) for unusable inputs or an empty window."""
    if isinstance(window_hours, bool) or not isinstance(window_hours, int) or window_hours < 0:
        raise ValueError(f"window_hours must be a whole number of hours, 0 for no window, got {window_hours!r}")
    base, until = Path(base_dir), until or datetime.now(UTC)
    since = until - timedelta(hours=window_hours) if window_hours else None
    schema = tabular.load_schema(tabular.schema_path(base))
    capture = base / INPUT_DIRS["capture"]
    rows, outside = window_rows(capture, schema, since, until)
    window = f"answered after {since:%Y-%m-%dT%H:%M:%SZ} and " if since else "answered "
    if not rows:
        raise CaptureError(f"{capture}: no captured request {window}by {until:%Y-%m-%dT%H:%M:%SZ} ({outside} "
                           "outside the window): the endpoint had no traffic then, or its data capture is off")
    write_batch(rows, schema, base / OUTPUT_DIRS["batch"] / OUTPUT_FILE)
    return {"model": schema.model, "rows": len(rows), "outside_window": outside,
            "since": since.isoformat() if since else None, "until": until.isoformat()}


def main(argv: list[str] | None = None) -> int:
    """Processing-job entry point; ``--base-dir`` replaces /opt/ml/processing to run locally."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-dir", default=DEFAULT_BASE_DIR)
    parser.add_argument("--window-hours", type=int, default=DEFAULT_WINDOW_HOURS,
                        help=f"judge the requests of these last hours (default {DEFAULT_WINDOW_HOURS}; 0: all)")
    parser.add_argument("--until", help="the window's end, ISO 8601 (default: now)")
    args = parser.parse_args(argv)
    try:
        until = parse_time(args.until, "--until") if args.until else None
        summary = run(args.base_dir, window_hours=args.window_hours, until=until)
    except (OSError, ValueError, CaptureError) as err:  # SchemaError is a ValueError
        print(f"capture_batch: error: {err}", file=sys.stderr)
        return 2
    print("capture_batch: " + json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
