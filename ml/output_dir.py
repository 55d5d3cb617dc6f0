"""An output directory a command owns without ever deleting what it did not write.

``python -m ml local`` builds a run in a staging directory beside ``--out`` and only at the end
moves its files into place. A marker file in ``--out`` lists every file a run put there, so the
next run replaces exactly those files and nothing else:

- a directory holding anything without the marker (a user's ``datasets/customers.csv`` beside a
  ``summary.json``) is refused before any work, and left as it was;
- a file of the new run at a path no earlier run wrote (the user put something there) is
  refused before anything in ``--out`` changes;
- a run that fails half-way leaves ``--out`` as it was and removes its staging directory;
  only a killed process leaves a hidden ``.<name>.ml-local-*`` directory beside ``--out``,
  which blocks nothing and may be deleted.

The marker is rewritten to cover old and new files before the first file moves, so even a
process killed while moving leaves a directory the next run recognises as its own.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MARKER = ".ml-local.json"
WRITTEN_BY = "python -m ml local"


class OutputDirError(Exception):
    """``--out`` cannot be used as it is; the message names the path and the fix."""


@dataclass(frozen=True)
class OwnedOutput:
    """``--out``, checked: absent, empty, or written by an earlier run (``previous`` files)."""

    path: Path
    previous: frozenset[str]


def claim(out: Path) -> OwnedOutput:
    """Check ``out`` before any work; raise OutputDirError naming the path and the fix."""
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise OutputDirError(f"{out} exists and is not a directory; pass --out with a directory "
                             "path (new, empty, or an earlier run's)")
    if not out.is_dir():
        return OwnedOutput(out, frozenset())
    try:  # a read-only directory fails here, before the run rather than after it
        with tempfile.NamedTemporaryFile(dir=out, prefix=".ml-local-probe-"):
            pass
    except OSError as error:
        raise _unwritable(out, error) from None
    if not any(out.iterdir()):
        return OwnedOutput(out, frozenset())
    marker = out / MARKER
    if not marker.is_file():
        raise OutputDirError(
            f"{out} is not empty and holds no {MARKER} of an earlier `{WRITTEN_BY}` run, so "
            "nothing in it is replaced; pass --out with a new or empty directory (an output of "
            "a version without the marker: delete it yourself)")
    return OwnedOutput(out, frozenset(_read_marker(marker)))


def _read_marker(marker: Path) -> list[str]:
    try:
        content = json.loads(marker.read_text(encoding="utf-8"))
        files = content["files"] if content.get("written_by") == WRITTEN_BY else None
    except (OSError, ValueError, AttributeError, KeyError):
        files = None
    # Only plain relative paths below --out: a marker must never lead a deletion outside it.
    if not isinstance(files, list) or not all(
            isinstance(f, str) and f and not PurePosixPath(f).is_absolute()
            and ".." not in PurePosixPath(f).parts for f in files):
        raise OutputDirError(f"{marker} is not a marker this tool wrote; remove it, or pass "
                             "--out with a new or empty directory")
    return files


@contextlib.contextmanager
def staging(owned: OwnedOutput) -> Iterator[Path]:
    """A fresh directory beside ``--out`` (same file system, so files move, not copy); removed
    on exit whether the run succeeded or not."""
    try:
        owned.path.parent.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f".{owned.path.name}.ml-local-", dir=owned.path.parent))
    except OSError as error:
        raise _unwritable(owned.path, error) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish(owned: OwnedOutput, staged: Path, scope: tuple[str, ...] | None = None) -> None:
    """Move every staged file into ``--out``, replacing an earlier run's files and only those.

    ``scope``: the top-level folders this run owns (``python -m ml local --model wdbc`` owns
    ``wdbc/``); an earlier run's files outside them are kept and stay listed in the marker, so
    running one model does not remove another's output. None: the whole directory.
    """
    written = {p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()}
    out = owned.path
    kept = frozenset() if scope is None else frozenset(
        name for name in owned.previous if PurePosixPath(name).parts[0] not in scope) - written
    new = sorted(written | kept)
    blocked = [name for name in new if name not in kept and _blocked(out, name, owned.previous)]
    if blocked:
        more = f" and {len(blocked) - 1} more" if len(blocked) > 1 else ""
        raise OutputDirError(
            f"{out / blocked[0]}{more} exists but no earlier run wrote it, so it is not replaced; "
            "move it away or pass --out with a new or empty directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_marker(out, sorted(owned.previous | set(new)))
        for name in sorted(owned.previous - set(new), reverse=True):
            _remove_file(out, name)
        for name in new:
            if name in kept:
                continue
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged / name, out / name)
        _write_marker(out, new)
    except OSError as error:
        raise _unwritable(out, error) from None


def _blocked(out: Path, name: str, previous: frozenset[str]) -> bool:
    """Would writing ``name`` replace or write through something an earlier run did not write?"""
    target = out / name
    if name not in previous and (target.exists() or target.is_symlink()):
        return True
    for parent in PurePosixPath(name).parents:
        here = out / parent
        if str(parent) != "." and (here.is_symlink() or (here.exists() and not here.is_dir())):
            return str(parent) not in previous or here.is_symlink()
    return False


def _remove_file(out: Path, name: str) -> None:
    """Remove one file an earlier run wrote, then the folders it leaves empty (up to ``out``)."""
    target = out / name
    if target.is_file() or target.is_symlink():
        target.unlink()
    for parent in PurePosixPath(name).parents:
        folder = out / parent
        if str(parent) == "." or not folder.is_dir() or any(folder.iterdir()):
            break
        folder.rmdir()


def _write_marker(out: Path, files: list[str]) -> None:
    text = json.dumps({"written_by": WRITTEN_BY, "files": files}, indent=1, sort_keys=True) + "\n"
    temporary = out / f"{MARKER}.tmp"
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, out / MARKER)


def _unwritable(out: Path, error: OSError) -> OutputDirError:
    return OutputDirError(f"cannot write to {out} ({error.strerror or error}); pass --out with a "
                          "directory you can write to")
