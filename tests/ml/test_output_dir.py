"""ml.output_dir: a command's output directory that never loses a file the command did not write."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ml import output_dir
from ml.output_dir import MARKER, OutputDirError

UNWRITABLE = Path("/sys/ml-output-dir-test")  # sysfs refuses new entries, even to root


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run(out: Path, files: dict[str, str], scope: tuple[str, ...] | None = None) -> None:
    """One run of a command writing ``files`` (relative path -> text) through output_dir."""
    owned = output_dir.claim(out)
    with output_dir.staging(owned) as staged:
        for name, text in files.items():
            (staged / name).parent.mkdir(parents=True, exist_ok=True)
            (staged / name).write_text(text)
        output_dir.publish(owned, staged, scope=scope)


def marker_files(out: Path) -> list[str]:
    return json.loads((out / MARKER).read_text())["files"]


def test_a_new_directory_gets_the_files_and_a_marker_listing_them(tmp_path):
    run(tmp_path / "out", {"summary.json": "{}", "datasets/a.data": "1"})
    assert sorted(snapshot(tmp_path / "out")) == [MARKER, "datasets/a.data", "summary.json"]
    assert marker_files(tmp_path / "out") == ["datasets/a.data", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging directory left


def test_a_rerun_replaces_its_own_files_and_keeps_the_users(tmp_path):
    out = tmp_path / "out"
    run(out, {"summary.json": "old", "datasets/a.data": "1", "old/only.data": "x"})
    (out / "notes.txt").write_text("mine")
    (out / "datasets" / "customers.csv").write_text("mine too")
    run(out, {"summary.json": "new", "datasets/a.data": "2"})
    assert (out / "summary.json").read_text() == "new"
    assert (out / "datasets" / "a.data").read_text() == "2"
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "datasets" / "customers.csv").read_text() == "mine too"
    assert not (out / "old").exists()  # an earlier run's file, and the folder it left empty
    assert marker_files(out) == ["datasets/a.data", "summary.json"]


def test_a_scoped_run_replaces_its_folders_only_and_keeps_the_other_runs_files(tmp_path):
    out = tmp_path / "out"
    run(out, {"a/summary.json": "a1", "a/old.data": "x", "b/summary.json": "b1"})
    run(out, {"a/summary.json": "a2"}, scope=("a",))  # e.g. python -m ml local --model a
    assert snapshot(out).keys() == {MARKER, "a/summary.json", "b/summary.json"}
    assert (out / "a" / "summary.json").read_text() == "a2" and (out / "b" / "summary.json").read_text() == "b1"
    assert marker_files(out) == ["a/summary.json", "b/summary.json"]  # b's stays owned: a later run replaces it
    run(out, {"a/summary.json": "a3", "b/summary.json": "b3"})
    assert (out / "b" / "summary.json").read_text() == "b3"


def test_the_reported_case_a_users_directory_with_a_summary_is_refused_untouched(tmp_path):
    out = tmp_path / "project"
    (out / "datasets").mkdir(parents=True)
    (out / "datasets" / "customers.csv").write_text("id,name\n1,Ada\n")
    (out / "summary.json").write_text('{"quarter": 3}')
    before = snapshot(out)
    with pytest.raises(OutputDirError, match=f"{out} is not empty and holds no {MARKER}"):
        output_dir.claim(out)
    assert snapshot(out) == before


def test_a_new_file_where_the_user_put_one_is_refused_before_anything_changes(tmp_path):
    out = tmp_path / "out"
    run(out, {"summary.json": "old"})
    (out / "datasets").mkdir()
    (out / "datasets" / "a.data").write_text("the user's")
    before = snapshot(out)
    with pytest.raises(OutputDirError, match="datasets/a.data exists but no earlier run wrote it"):
        run(out, {"summary.json": "new", "datasets/a.data": "ours"})
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_run_that_fails_half_way_changes_nothing_and_blocks_nothing(tmp_path):
    out = tmp_path / "out"
    run(out, {"summary.json": "first"})
    before = snapshot(out)
    owned = output_dir.claim(out)
    with pytest.raises(KeyboardInterrupt), output_dir.staging(owned) as staged:
        (staged / "summary.json").write_text("half")
        raise KeyboardInterrupt  # Ctrl-C in the middle of the work
    assert snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    run(out, {"summary.json": "second"})
    assert (out / "summary.json").read_text() == "second"


def test_a_killed_publish_leaves_a_marker_covering_every_file(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run(out, {"a.data": "1"})
    moved, real_replace = [], output_dir.os.replace

    def killed_after_one(source, target):
        if len(moved) == 2:  # the marker, then one file of the new run
            raise KeyboardInterrupt  # the process dies between two moves
        moved.append(target)
        real_replace(source, target)
    monkeypatch.setattr(output_dir.os, "replace", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        run(out, {"a.data": "2", "b.data": "2"})
    monkeypatch.undo()
    assert (out / "a.data").read_text() == "2" and not (out / "b.data").exists()
    assert set(marker_files(out)) == {"a.data", "b.data"}
    run(out, {"c.data": "3"})  # the next run recognises every file as its own
    assert sorted(snapshot(out)) == [MARKER, "c.data"]


@pytest.mark.parametrize("files", [["../outside.txt"], ["/etc/passwd"], "summary.json", [3]])
def test_a_marker_this_tool_did_not_write_is_refused(tmp_path, files):
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / MARKER).write_text(json.dumps({"written_by": output_dir.WRITTEN_BY, "files": files}))
    with pytest.raises(OutputDirError, match="is not a marker this tool wrote"):
        output_dir.claim(tmp_path)


def test_symlinked_folders_are_never_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    run(out, {"summary.json": "{}"})
    (out / "datasets").symlink_to(elsewhere)
    with pytest.raises(OutputDirError, match="datasets/a.data exists but no earlier run wrote it"):
        run(out, {"summary.json": "{}", "datasets/a.data": "1"})
    assert list(elsewhere.iterdir()) == []


def test_a_file_or_an_unwritable_place_is_refused_before_any_work(tmp_path):
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(OutputDirError, match="taken exists and is not a directory"):
        output_dir.claim(tmp_path / "taken")
    unwritable = output_dir.claim(UNWRITABLE)
    with pytest.raises(OutputDirError, match=f"cannot write to {UNWRITABLE} .*; pass --out with a "
                                             "directory you can write to"), output_dir.staging(unwritable):
        pass
