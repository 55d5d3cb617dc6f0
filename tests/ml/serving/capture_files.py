"""Capture files as SageMaker writes them (JSON Lines under <endpoint>/<variant>/yyyy/mm/dd/hh/),
made from model-ready rows of the real data."""
from __future__ import annotations

import base64
import json
from pathlib import Path


def record(rows: list[str], event: int, *, encoding: str = "CSV") -> dict:
    data = "\n".join(rows)
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    return {"captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": encoding},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5", "encoding": "CSV"}},
        "eventMetadata": {"eventId": f"00000000-0000-0000-0000-{event:012d}", "inferenceTime": "2026-12-01T06:00:00Z"},
        "eventVersion": "0"}


def write_capture(directory: Path, rows: list[str], *, per_request: int = 3, per_file: int = 20) -> list[Path]:
    """`rows` (model-ready CSV lines) as capture files, a few rows per request, every other
    request BASE64-encoded, files spread over hourly folders."""
    requests = [rows[i:i + per_request] for i in range(0, len(rows), per_request)]
    files = []
    for index in range(0, len(requests), per_file):
        hour = index // per_file
        folder = directory / "mlops-dev-mammography" / "AllTraffic" / "2026" / "12" / "01" / f"{hour:02d}"
        path = folder / f"capture-{hour}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(record(r, index + i, encoding="BASE64" if (index + i) % 2 else "CSV"))
                 for i, r in enumerate(requests[index:index + per_file])]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    return files
