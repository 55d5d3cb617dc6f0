"""The capture step (ml/steps/capture_batch.py): an endpoint's captured requests of a time window
become a raw batch of the model's layout, the very rows a client sent, whatever the encoding and
however the capture files are split; what is not a value of the model is left for the drift
check to count, what is not a capture record of the model stops the step with its file and line.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ml import contract
from ml.steps import capture_batch as cb
from tests.ml.steps.capture_files import record, write_capture
from tests.ml.steps.step_inputs import LOANS, tabular, with_library, with_schema

SCRIPT = contract.STEPS_DIR / contract.CAPTURE_BATCH_SCRIPT
UNTIL = "2026-12-01T18:00:00Z"  # the default window (24 h) holds every request write_capture makes


def complete_mammography_rows(count: int = 120) -> list[str]:
    """Model-ready rows of the real data: complete rows (no '?'), label left out, typo kept."""
    lines = [line for line in contract.DATA_FILE.read_text().splitlines() if line.strip() and "?" not in line]
    return [line.rsplit(",", 1)[0] for line in lines[:count]]


def job(tmp_path, rows, document=None, **capture):
    base = with_schema(tmp_path / "job", document)
    write_capture(base / cb.INPUT_DIRS["capture"], rows, **capture)
    return base


def output(base):
    return (base / cb.OUTPUT_DIRS["batch"] / cb.OUTPUT_FILE).read_text().splitlines()


def test_names_agree_with_the_contract():
    assert SCRIPT.name == "capture_batch.py" and cb.INPUT_DIRS["schema"] == contract.SCHEMA_INPUT_DIR
    assert cb.INPUT_DIRS["lib"] == contract.STEP_LIBRARY_INPUT_DIR


def test_captured_requests_come_back_as_the_rows_sent_run_as_sagemaker_stages_the_script(tmp_path):
    rows = complete_mammography_rows()
    base = with_library(job(tmp_path, rows))
    staged = base / "input" / "code" / SCRIPT.name  # the script alone, its library in input/lib
    staged.parent.mkdir(parents=True)
    shutil.copy(SCRIPT, staged)
    proc = subprocess.run([sys.executable, str(staged), "--base-dir", str(base), "--until", UNTIL],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.split("capture_batch: ", 1)[1])
    assert (summary["rows"], summary["outside_window"], summary["model"]) == (120, 0, "mammography")
    # mammography's raw layout is its model layout without the label: the rows come back as sent
    assert output(base) == rows


def test_text_domains_go_back_from_positions_in_the_raw_layout_and_read_as_the_values_sent(tmp_path):
    # The synthetic loans model: text domains, a header, ';' between fields, the label in the middle.
    schema = tabular.schema_from_document(LOANS, "loans")
    # Model-ready: text domains as positions (region, grade), numbers and a numeric domain (band) as they are.
    sent = np.array([[0, 25000.5, 1, 2, 1], [3, 1200, 0, 0, 5], [1, 0, 2, 1, 2]], dtype=float)
    assert [c.name for c in schema.features] == ["region", "income", "grade", "dependents", "band"]
    rows = [",".join(f"{v:g}" for v in row) for row in sent]
    base = job(tmp_path, rows, LOANS)
    cb.run(base, until=cb.parse_time(UNTIL, "until"))
    lines = output(base)
    assert lines[0] == ";".join(schema.without_label)
    assert lines[1].split(";")[0] == "north"  # region: position 0 of its text domain
    read = tabular.read_inputs(base / cb.OUTPUT_DIRS["batch"], schema)  # strict: every value in its domain
    assert np.array_equal(read[list(schema.feature_names)].to_numpy(), sent)


def test_blanks_become_missing_and_impossible_positions_are_left_for_the_drift_check_to_count():
    schema = tabular.schema_from_document(LOANS, "loans")
    # region, income, grade, dependents, band
    assert cb.raw_row(schema, ["", "nan", "1", "0", "2"], "x") == ["NA", "NA", "mid", "0", "2"]
    for bad in ("7", "-1", "1.5", "north"):
        row = cb.raw_row(schema, [bad, "10", "0", "0", "0"], "x")
        assert row[0] == cb.OUT_OF_DOMAIN, bad
    column = schema.column("region")
    values, problems = tabular.cells.text_values(pd.Series([cb.OUT_OF_DOMAIN, "south"]), column, schema.missing)
    assert values.tolist() == [-1.0, 1.0] and problems.tolist() == [0, 0]  # out of domain, not unreadable
    assert cb.raw_row(schema, ["0", "abc", "0", "0", "0"], "x")[1] == "abc"  # a number column: as it came


def test_the_window_keeps_the_requests_of_its_last_hours_only(tmp_path):
    rows = complete_mammography_rows(90)
    # One request (3 rows) every 30 minutes from START: 30 requests over 15 hours.
    base = job(tmp_path, rows, every=timedelta(minutes=30))
    until = datetime(2026, 12, 1, 15, 0, tzinfo=cb.UTC)  # requests 0..18 answered by then
    summary = cb.run(base, window_hours=4, until=until)
    # (11:00, 15:00]: requests at 11:30 ... 15:00, i.e. numbers 11..18
    assert (summary["rows"], summary["outside_window"]) == (8 * 3, 30 - 8)
    assert output(base) == rows[11 * 3:19 * 3]
    everything = cb.run(base, window_hours=0, until=until)
    assert everything["rows"] == 19 * 3 and output(base) == rows[:19 * 3]  # never a request after `until`


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T06:00:00Z", datetime(2026, 12, 1, 6, tzinfo=cb.UTC)),
    ("2026-12-01T06:00:00.123456789Z", datetime(2026, 12, 1, 6, 0, 0, 123456, tzinfo=cb.UTC)),
    ("2026-12-01T07:00:00+01:00", datetime(2026, 12, 1, 6, tzinfo=cb.UTC)),
    ("2026-12-01T07:00:00+0100", datetime(2026, 12, 1, 6, tzinfo=cb.UTC)),
    ("2026-12-01T06:00:00", datetime(2026, 12, 1, 6, tzinfo=cb.UTC)),
])
def test_inference_times_are_read_in_the_forms_iso_8601_allows(text, expected):
    assert cb.parse_time(text, "t") == expected


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "not JSON"),
    (json.dumps({"other": 1}), "not a SageMaker capture record"),
    (json.dumps(record(["4,60,2,1"], 1)), "4 values, the model takes 5"),
    (json.dumps(record(["{}"], 1, content_type="application/json")), "application/json request"),
    (json.dumps({**record(["4,60,2,1,3"], 1), "eventMetadata": {}}), "no eventMetadata.inferenceTime"),
    (json.dumps(record(["4,60,2,1,3"], 1, encoding="JSON")), "request encoding 'JSON'"),
    (json.dumps(record(["4,60,2,1,3"], 1, encoding="BASE64")).replace('"data": "', '"data": "!'),
     "not BASE64-encoded UTF-8 text"),
])
def test_what_is_not_a_capture_record_of_the_model_stops_the_step_with_file_and_line(tmp_path, line, message):
    base = job(tmp_path, ["4,60,2,1,3"])
    bad = base / cb.INPUT_DIRS["capture"] / "zz.jsonl"
    bad.write_text(json.dumps(record(["4,60,2,1,3"], 1)) + "\n" + line + "\n")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--base-dir", str(base), "--until", UNTIL],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "zz.jsonl line 2: " in proc.stderr and message in proc.stderr
    assert not (base / cb.OUTPUT_DIRS["batch"]).exists()


def test_records_outside_the_window_are_not_read_further(tmp_path):
    base = job(tmp_path, complete_mammography_rows(9))
    old = base / cb.INPUT_DIRS["capture"] / "old.jsonl"  # a day before: another shape, long since fixed
    old.write_text(json.dumps(record(["4,60,2"], 1, at=datetime(2026, 11, 30))) + "\n")
    assert cb.run(base, until=cb.parse_time(UNTIL, "until"))["outside_window"] == 1


def test_a_window_without_requests_stops_the_step_and_says_why(tmp_path):
    base = job(tmp_path, complete_mammography_rows(9))
    assert cb.main(["--base-dir", str(base), "--until", "2026-12-09T00:00:00Z"]) == 2
    with pytest.raises(cb.CaptureError, match=r"no captured request answered after 2026-12-08T00:00:00Z .*"
                                              r"\(3 outside the window\): the endpoint had no traffic"):
        cb.run(base, until=cb.parse_time("2026-12-09T00:00:00Z", "until"))
    with pytest.raises(ValueError, match="window_hours"):
        cb.run(base, window_hours=-1)

