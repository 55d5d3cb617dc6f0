"""One library for every step (ml/steps/tabular.py and its modules): one input-listing rule, one
reader, one set of data rules. Proven by source (every script finds the library the same way and
restates none of it) and by behaviour: data under a sub-prefix is read by preprocess,
prepare_batch and the drift check alike, and a bad file is refused by each with the same message."""
from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ml import contract
from ml.steps import capture_batch, drift_check, evaluate, prepare_batch, preprocess
from tests.ml.steps.step_inputs import mammography_schema, tabular, with_schema

SCRIPTS = {name: contract.STEPS_DIR / name for name in (
    contract.PREPROCESS_SCRIPT, contract.PREPARE_BATCH_SCRIPT, contract.EVALUATE_SCRIPT,
    contract.DRIFT_CHECK_SCRIPT, contract.CAPTURE_BATCH_SCRIPT)}
MODULES = {"preprocess.py": preprocess, "prepare_batch.py": prepare_batch, "evaluate.py": evaluate,
           "drift_check.py": drift_check, "capture_batch.py": capture_batch}


def functions(script: Path) -> dict[str, str]:
    source = script.read_text()
    return {n.name: ast.get_source_segment(source, n) or "" for n in ast.parse(source).body
            if isinstance(n, ast.FunctionDef)}


def test_every_step_script_finds_the_library_the_same_way_and_restates_none_of_it():
    bootstraps = {functions(path)["_library_path"] for path in SCRIPTS.values()}
    assert len(bootstraps) == 1
    library = {name for module in contract.STEP_LIBRARY_MODULES
               for name in functions(contract.STEPS_DIR / module)}
    for script, path in SCRIPTS.items():
        assert not (set(functions(path)) & library), script  # nothing defined twice
        assert MODULES[script].tabular is tabular, script  # one module object, wherever imported from
        assert MODULES[script].INPUT_DIRS["schema"] == contract.SCHEMA_INPUT_DIR
        assert MODULES[script].INPUT_DIRS["lib"] == contract.STEP_LIBRARY_INPUT_DIR
    assert (tabular.SCHEMA_FILE, tabular.SCHEMA_FORMAT) == (contract.SCHEMA_FILE, 1)


def test_the_library_is_what_the_contract_ships():
    assert contract.STEP_LIBRARY in contract.STEP_LIBRARY_MODULES
    assert sorted(contract.STEP_LIBRARY_MODULES) == sorted(
        p.name for p in contract.STEPS_DIR.glob("*.py")
        if p.name not in ("__init__.py", *SCRIPTS))


def touch(root: Path, name: str, content: bytes = b"x") -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(content)


def test_listing_is_recursive_in_s3_key_order_and_skips_hidden_files(tmp_path):
    for name in ("b.data", "a/z.data", "a.data", "sub/deeper/c.data", ".hidden", "sub/.DS_Store",
                 ".cache/x.data", "sub/.tmp/y.data"):
        touch(tmp_path, name)
    listed = [p.relative_to(tmp_path).as_posix() for p in tabular.list_input_files(tmp_path)]
    # S3 lists keys in UTF-8 byte order: "a.data" before "a/z.data" ('.' < '/').
    assert listed == ["a.data", "a/z.data", "b.data", "sub/deeper/c.data"]
    assert tabular.list_input_files(tmp_path / "absent") == []


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
    spread(with_schema(tmp_path / "pre") / "input" / "data", lines)
    assert preprocess.main(["--base-dir", str(tmp_path / "pre")]) == 0
    split = {n: tmp_path / "pre" / preprocess.OUTPUT_DIRS[n] / preprocess.OUTPUT_FILES[n]
             for n in preprocess.OUTPUT_DIRS}
    trained_on = json.loads(split["imputation"].read_text())["fitted_on_rows"]
    assert trained_on == 672  # 70% of all 961 rows: every sub-prefix file was read

    prep = with_schema(tmp_path / "prep")
    spread(prep / "input" / "batch", lines)
    (prep / "input" / "imputation").mkdir(parents=True)
    shutil.copy(split["imputation"], prep / "input" / "imputation")
    assert prepare_batch.main(["--base-dir", str(prep)]) == 0
    assert len((prep / "output" / "batch" / "batch.csv").read_text().splitlines()) == 961

    drift = with_schema(tmp_path / "drift")
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


def steps_refuse(tmp_path: Path, content: bytes) -> dict[str, str]:
    """Each data-reading step run on ``content`` as its data: its error output."""
    errors = {}
    for name, step, channel in (("preprocess", preprocess, "data"), ("prepare_batch", prepare_batch, "batch"),
                                ("drift_check", drift_check, "batch")):
        base = with_schema(tmp_path / name)
        touch(base / "input" / channel, "bad.data", content)
        touch(base / "input" / "reference", "reference.data", contract.DATA_FILE.read_bytes())
        touch(base / "input" / "imputation", "imputation.json", json.dumps(
            {"features": ["Age"], "values": {"Age": 50}}).encode())
        assert step.main(["--base-dir", str(base)]) == 2, name
        errors[name] = str(base / "input" / channel / "bad.data")
    return errors


@pytest.mark.parametrize("content, message", [
    (b"", "empty; it holds no data rows"),
    (b"\r\n  \r\n", "empty; it holds no data rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary, not UTF-8 text"),
    (b"\xff\xfe5\x00,\x006\x00", "binary, not UTF-8 text"),
    (b"5,67,3,5,3,1\n4,43,1,1,3,0,9\n", "line 2: 7 columns where the file has 6"),
    (b"5,67,3,5,3,1\n\n\n4,43,1,1,x,0\n", "line 4, column Density: 'x' is not one of the allowed values"),
    (b"5,67,3,5,3,1\n4,nan,1,1,3,0\n", "line 2, column Age: 'nan' is not a number"),
    (b"5,67,3,5,3,1\n4,inf,1,1,3,0\n", "line 2, column Age: 'inf' is not a finite number"),
])
def test_every_step_refuses_a_bad_file_naming_it_and_the_place(tmp_path, capsys, content, message):
    files = steps_refuse(tmp_path, content)
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3
    for (step, path), error in zip(files.items(), errors, strict=True):
        assert error.startswith(f"{step}: error: {path}: ") and message in error, error


def test_every_step_reads_the_same_quirks_alike(tmp_path):
    path = tmp_path / "ok.data"
    path.write_bytes(b" 55 , 46,4,3,3,1\r\n\r\n0,20,1,1,?,0\r\n6,?,1,1,3,1\r\n")
    schema = mammography_schema()
    trained = preprocess.read_input_dir(path, schema)
    batch = prepare_batch.read_batch_file(path, schema)
    drifted = drift_check.load_input(path, schema)
    assert trained.equals(batch) and trained.equals(drifted)
    assert trained["BI-RADS"].tolist() == [5, 0, 6]  # the typo read as 5; 0 and 6 kept
    assert tabular.read_file(path, schema, keep_alias_values=True)["BI-RADS"].tolist() == [55, 0, 6]
