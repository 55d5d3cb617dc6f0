"""Captured requests become a raw batch of the model's layout: the same rows, in order, that a
client sent, whatever the encoding and however the capture files are split."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ml.models import PROJECT_ROOT, load_project_models
from ml.serving import capture_batch, smoke_test
from tests.ml.serving.capture_files import record, write_capture


@pytest.fixture(scope="module")
def spec():
    return next(s for s in load_project_models(PROJECT_ROOT) if s.name == "mammography")


def _base(tmp_path, spec, rows):
    base = tmp_path / "job"
    write_capture(base / "input" / "capture", rows)
    (base / "input" / "schema").mkdir(parents=True)
    (base / "input" / "schema" / "schema.json").write_bytes(spec.schema.document_bytes(spec.name))
    return base


def test_captured_requests_come_back_as_the_rows_sent_in_the_raw_layout(tmp_path, spec):
    sample = smoke_test.sample_rows(spec.schema, (PROJECT_ROOT / spec.data_file).read_text(), 100)
    rows = sample.payload.splitlines()
    base = _base(tmp_path, spec, rows)
    proc = subprocess.run([sys.executable, capture_batch.__file__, "--base-dir", str(base)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "100 captured requests" in proc.stdout
    out = (base / "output" / "batch" / capture_batch.OUTPUT_FILE).read_text().splitlines()
    # mammography's raw layout is its model layout without the label: the rows come back as sent
    assert out == rows


def test_text_domains_go_back_from_positions_and_blanks_become_missing():
    schema = {"columns": ["colour", "size", "label"], "missing": ["NA"], "delimiter": ";", "header": True,
              "label": {"name": "label"},
              "features": [{"name": "size", "kind": "numeric", "domain": [0, 10]},
                           {"name": "colour", "kind": "nominal", "domain": ["red", "green", "blue"]}]}
    assert capture_batch.raw_row(schema, ["3.5", "2"], "x") == ["blue", "3.5"]
    assert capture_batch.raw_row(schema, ["", "0"], "x") == ["red", "NA"]
    with pytest.raises(capture_batch.CaptureError, match="not a position in its domain"):
        capture_batch.raw_row(schema, ["1", "7"], "x")


def test_a_record_that_is_not_a_capture_is_refused_with_file_and_line(tmp_path, spec):
    base = _base(tmp_path, spec, ["4,60,2,1,3"])
    bad = base / "input" / "capture" / "zz.jsonl"
    bad.write_text(json.dumps(record(["4,60,2,1,3"], 1)) + "\n" + json.dumps({"other": 1}) + "\n")
    assert capture_batch.main(["--base-dir", str(base)]) == 2
    with pytest.raises(capture_batch.CaptureError, match=r"zz.jsonl line 2: not a SageMaker capture record"):
        capture_batch.convert(base / "input" / "capture", json.loads(spec.schema.document_bytes(spec.name)),
                              tmp_path / "out.data")
