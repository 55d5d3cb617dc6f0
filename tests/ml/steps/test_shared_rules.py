"""Rules every step script restates (each runs alone in its container and cannot import another):
one input-listing rule for all four, one reader for the two that parse raw UCI files. Proven by
source and by behaviour: data under a sub-prefix is read by preprocess, prepare_batch and the
drift check alike."""
from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ml import contract
from ml.steps import drift_check, evaluate, prepare_batch, preprocess

SCRIPTS = {name: contract.STEPS_DIR / name for name in (
    contract.PREPROCESS_SCRIPT, contract.PREPARE_BATCH_SCRIPT, contract.EVALUATE_SCRIPT,
    contract.DRIFT_CHECK_SCRIPT)}
RAW_READERS = (contract.PREPROCESS_SCRIPT, contract.PREPARE_BATCH_SCRIPT)


def function_source(script: Path, name: str) -> str:
    source = script.read_text()
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.get_source_segment(source, node) or ""


def test_every_step_script_restates_the_same_listing_rule():
    sources = {script: function_source(path, "list_input_files") for script, path in SCRIPTS.items()}
    assert len(set(sources.values())) == 1, sorted(sources)


def test_the_raw_readers_restate_the_same_table_reader():
    sources = {function_source(SCRIPTS[script], "read_table") for script in RAW_READERS}
    assert len(sources) == 1


def touch(root: Path, name: str, content: bytes = b"x") -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(content)


def test_listing_is_recursive_in_s3_key_order_and_skips_hidden_files(tmp_path):
    for name in ("b.data", "a/z.data", "a.data", "sub/deeper/c.data", ".hidden", "sub/.DS_Store",
                 ".cache/x.data", "sub/.tmp/y.data"):
        touch(tmp_path, name)
    listed = [p.relative_to(tmp_path).as_posix() for p in preprocess.list_input_files(tmp_path)]
    # S3 lists keys in UTF-8 byte order: "a.data" before "a/z.data" ('.' < '/').
    assert listed == ["a.data", "a/z.data", "b.data", "sub/deeper/c.data"]
    assert preprocess.list_input_files(tmp_path / "absent") == []


def spread(data: Path, lines: list[bytes]) -> None:
    """The lines as a top-level file, two files under sub-prefixes (key order = line order)
    and hidden junk that no step may read."""
    third = len(lines) // 3
    touch(data, "a-part-0", b"".join(lines[:third]))
    touch(data, "b/06/part-1", b"".join(lines[third:2 * third]))
    touch(data, "b/07/part-2", b"".join(lines[2 * third:]))
    touch(data, ".staging/part-9", b"not,data\n")
    touch(data, "b/.part-1.crc", b"\x00\x01")


def test_data_under_sub_prefixes_is_read_by_every_step_alike(tmp_path):
    lines = contract.DATA_FILE.read_bytes().splitlines(keepends=True)
    spread(tmp_path / "pre" / "input" / "data", lines)
    assert preprocess.main(["--base-dir", str(tmp_path / "pre")]) == 0
    split = {n: tmp_path / "pre" / preprocess.OUTPUT_DIRS[n] / preprocess.OUTPUT_FILES[n]
             for n in preprocess.OUTPUT_DIRS}
    trained_on = json.loads(split["imputation"].read_text())["fitted_on_rows"]
    assert trained_on == 672  # 70% of all 961 rows: every sub-prefix file was read

    prep = tmp_path / "prep"
    spread(prep / "input" / "batch", lines)
    (prep / "input" / "imputation").mkdir(parents=True)
    shutil.copy(split["imputation"], prep / "input" / "imputation")
    assert prepare_batch.main(["--base-dir", str(prep)]) == 0
    assert len((prep / "output" / "batch" / "batch.csv").read_text().splitlines()) == 961

    drift = tmp_path / "drift"
    spread(drift / "input" / "batch", lines)
    spread(drift / "input" / "reference", lines)
    assert drift_check.main(["--base-dir", str(drift)]) == 0
    report = json.loads((drift / "output" / "drift" / drift_check.REPORT_JSON).read_text())
    assert (report["batch_rows"], report["reference_rows"]) == (961, 961)
    assert report["verdict"] == "no_drift"

    test_lines = split["test"].read_bytes().splitlines(keepends=True)
    spread(tmp_path / "test", test_lines)
    labels, features = evaluate.read_test(tmp_path / "test")
    whole = np.loadtxt(split["test"], delimiter=",")
    assert (labels == whole[:, 0]).all() and (features == whole[:, 1:].astype(np.float32)).all()


@pytest.mark.parametrize("content, message", [
    (b"", "empty; it holds no data rows"),
    (b"\r\n  \r\n", "empty; it holds no data rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary, not UTF-8 comma-separated text"),
    (b"\xff\xfe5\x00,\x006\x00", "binary, not UTF-8 comma-separated text"),
    (b"5,67,3,5,3,1\n4,43,1,1,3,0,9\n", "rows differ in their number of fields"),
    (b"5.5,67,3,5,3,1\n", "line 1, column BI-RADS: '5.5' is not an integer"),
    (b"5,67,3,5,3,1\n\n\n4,43,1,1,x,0\n", "line 4, column Density: 'x' is not an integer"),
])
def test_both_readers_refuse_the_same_files_naming_them(tmp_path, content, message):
    path = tmp_path / "bad.data"
    path.write_bytes(content)
    for read in (lambda p: preprocess.read_raw_file(p, require_label=True), prepare_batch.read_batch_file):
        with pytest.raises(ValueError, match=message) as error:
            read(path)
        assert str(path) in str(error.value)


def test_both_readers_accept_the_same_quirks(tmp_path):
    path = tmp_path / "ok.data"
    path.write_bytes(b" 55 , 46,4,3,3,1\r\n\r\n0,20,1,1,?,0\r\n6,?,1,1,3,1\r\n")
    trained = preprocess.read_raw_file(path, require_label=True)
    batch = prepare_batch.read_batch_file(path)
    assert trained[list(contract.FEATURES)].equals(batch)
    assert trained["BI-RADS"].tolist() == [5, 0, 6]  # the typo read as 5; 0 and 6 kept
    assert preprocess.read_raw_file(path, require_label=True, fix_typos=False)["BI-RADS"].tolist() == [55, 0, 6]
