"""Capture files as SageMaker's data capture writes them: JSON Lines under
`<endpoint>/<variant>/yyyy/mm/dd/hh/`, one record per invocation, the request CSV (or its BASE64)
in `captureData.endpointInput`, the time in `eventMetadata.inferenceTime`.

Standard library only: the image stage (tests/ml/steps/images) runs the capture step's tests too.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path

ENDPOINT = "mlops-dev-mammography"
VARIANT = "AllTraffic"
START = datetime(2026, 12, 1, 6, 0, 0)


def stamp(moment: datetime) -> str:
    """`2026-12-01T06:00:00Z`, as SageMaker writes inferenceTime."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def record(rows: list[str], event: int, *, encoding: str = "CSV", at: datetime = START,
           content_type: str = "text/csv") -> dict:
    """One capture record of a request holding `rows` (model-ready CSV lines), answered `at`."""
    data = "\n".join(rows)
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    return {"captureData": {
        "endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": encoding},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5", "encoding": "CSV"}},
        "eventMetadata": {"eventId": f"00000000-0000-0000-0000-{event:012d}", "inferenceTime": stamp(at)},
        "eventVersion": "0"}


def write_capture(directory: Path, rows: list[str], *, per_request: int = 3, per_file: int = 20,
                  start: datetime = START, every: timedelta = timedelta(minutes=1),
                  endpoint: str = ENDPOINT) -> list[Path]:
    """`rows` (model-ready CSV lines) as capture files: a few rows per request, every other request
    BASE64-encoded, one request every `every` from `start`, each file in its first request's hour
    folder (as SageMaker names them)."""
    requests = [rows[i:i + per_request] for i in range(0, len(rows), per_request)]
    files = []
    for index in range(0, len(requests), per_file):
        first = start + every * index
        folder = directory / endpoint / VARIANT / first.strftime("%Y/%m/%d/%H")
        path = folder / f"{first:%M-%S}-capture-{index // per_file}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(record(r, index + i, encoding="BASE64" if (index + i) % 2 else "CSV",
                                   at=start + every * (index + i)))
                 for i, r in enumerate(requests[index:index + per_file])]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files
