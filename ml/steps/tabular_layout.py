"""Where a raw file's rows are (part of the steps' shared library, used by ``tabular``).

A file is read the fast way first (pandas alone) and only looked at line by line when something
is wrong, so that the error can name the line: this module finds the file's columns from its
first non-blank line, and, on the careful path, every line, blank line and field count in one
vectorised pass of numpy over the bytes. Lines end with LF or CRLF; a line holding no byte
above the space (empty, spaces, tabs, a lone CR) is blank and skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import tabular_cells as cells
from tabular_schema import Schema

_SPACES = bytes(range(ord(" ") + 1))


class InputError(ValueError):
    """A data file that does not fit the schema; the message names the file (line, column) and the fix."""


@dataclass(frozen=True)
class Layout:
    """Where a file's data rows are: its columns (file order) and each row's line and bytes."""

    columns: tuple[str, ...]
    lines: np.ndarray  # 1-based line number of each data row
    starts: np.ndarray  # byte offset of each data row's line ...
    ends: np.ndarray  # ... and of its end (the newline, or the end of the file)


def load_bytes(path: Path, schema: Schema) -> bytes:
    """The file's bytes, refused when missing, unreadable or not UTF-8 text."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; pass an existing raw data file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from None
    binary = InputError(f"{path}: binary, not UTF-8 text; pass a raw data file ({schema.describe()})")
    if not raw.isascii():  # (checking ASCII allocates nothing; decoding a large file would)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise binary from None
    if b"\x00" in raw:
        raise binary
    return raw


def _next_line(raw: bytes, start: int, number: int) -> tuple[int, int, int]:
    """(line number, start, end) of the first non-blank line from byte ``start`` (line ``number``);
    start == -1 when there is none."""
    while start < len(raw):
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end
        if raw[start:end].translate(None, _SPACES):
            return number, start, end
        start, number = end + 1, number + 1
    return number, -1, -1


def line_text(raw: bytes, start: int, end: int) -> str:
    return raw[start:end].decode("utf-8").rstrip("\r")


def file_columns(raw: bytes, path: Path, schema: Schema, require_label: bool) -> tuple[str, ...]:
    """The file's columns, from its header or its first row's width: all, or all but the label."""
    number, start, end = _next_line(raw, 0, 1)
    if start < 0:
        raise InputError(f"{path}: empty; it holds no data rows")
    expected = [schema.columns] if require_label else [schema.columns, schema.without_label]
    text = line_text(raw, start, end)
    if schema.header:
        found = tuple(c.strip() for c in text.split(schema.delimiter))
        if found not in expected:
            raise InputError(f"{path}: line {number}: header {', '.join(found)}; expected "
                             + " or ".join(", ".join(e) for e in expected))
        if _next_line(raw, end + 1, number + 1)[1] < 0:
            raise InputError(f"{path}: no data rows after the header")
        return found
    width = text.count(schema.delimiter) + 1
    columns = next((e for e in expected if len(e) == width), ())
    if not columns:
        raise InputError(f"{path}: line {number}: {width} columns, expected "
                         + " or ".join(f"{len(e)} ({', '.join(e)})" for e in expected) + f"; {schema.describe()}")
    return columns


def _per_line(mask: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """How many bytes of each line ``mask`` marks; a line runs from its start to the next one's."""
    if not len(starts):
        return np.zeros(0, np.int64)
    return np.add.reduceat(mask.view(np.uint8), starts, dtype=np.int64)


def _blank_lines(raw: bytes, data: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 delimiters: np.ndarray, delimiter: str) -> np.ndarray:
    """Which lines are blank. Only a line without a (printable) delimiter can be: those few are
    looked at one by one; when most lines have none (a one-column file) or the delimiter is a
    tab, every byte is looked at instead."""
    candidates = np.flatnonzero(delimiters == 0)
    if len(candidates) > len(starts) // 8 or ord(delimiter) <= ord(" "):
        return _per_line(data > ord(" "), starts) == 0
    blank = np.zeros(len(starts), dtype=bool)
    blank[candidates] = [not raw[s:e].translate(None, _SPACES)
                         for s, e in zip(starts[candidates], ends[candidates], strict=True)]
    return blank


def scan(raw: bytes, path: Path, schema: Schema, columns: tuple[str, ...]) -> Layout:
    """Every data row's line and bytes; a row with another number of fields is an error naming its line."""
    data = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    if data.size and data[-1] != ord("\n"):
        ends = np.append(ends, data.size)
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    delimiters = _per_line(data == ord(schema.delimiter), starts)
    rows = np.flatnonzero(~_blank_lines(raw, data, starts, ends, delimiters, schema.delimiter))[1 if schema.header else 0:]
    ragged = np.flatnonzero(delimiters[rows] != len(columns) - 1)
    if ragged.size:
        row = rows[ragged[0]]
        raise InputError(f"{path}: line {row + 1}: {delimiters[row] + 1} columns where the file has "
                         f"{len(columns)} ({', '.join(columns)}); every row needs the same columns")
    return Layout(columns, rows + 1, starts[rows], ends[rows])


def python_cells(raw: bytes, layout: Layout, schema: Schema) -> pd.DataFrame:
    """The rows as text, split line by line exactly as the scan saw them (the slowest, surest way)."""
    rows = [line_text(raw, s, e).split(schema.delimiter) for s, e in zip(layout.starts, layout.ends, strict=True)]
    return pd.DataFrame(rows, columns=list(layout.columns), dtype=object)


def raise_first_problem(path: Path, raw: bytes, layout: Layout, schema: Schema, problems: dict[str, np.ndarray]) -> None:
    """InputError for the earliest bad cell (by line, then column), if any."""
    first: tuple[int, int] | None = None
    for position, name in enumerate(layout.columns):
        bad = np.flatnonzero(problems[name])
        if bad.size and (first is None or bad[0] < first[0]):
            first = (int(bad[0]), position)
    if first is None:
        return
    row, position = first
    name = layout.columns[position]
    cell = line_text(raw, layout.starts[row], layout.ends[row]).split(schema.delimiter)[position].strip()
    text = cells.message(int(problems[name][row]), cell, schema.column(name), schema.missing)
    raise InputError(f"{path}: line {layout.lines[row]}, column {name}: {text}")
