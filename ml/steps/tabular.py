"""The step scripts' shared library: the schema, the input-listing rule, and reading raw data files.

Every step script imports this module instead of restating columns and rules (each did before
models were configurable). It is shipped to every processing job as its own input,
``{base}/input/lib`` (``contract.STEP_LIBRARY_INPUT_DIR``, all of ``contract.STEP_LIBRARY_MODULES``),
and sits beside the scripts in ``ml/steps`` when they run locally; each script puts both
directories first on ``sys.path``. numpy and pandas only, Python 3.10: it runs in the
scikit-learn and the XGBoost images alike.

Reading a raw file is vectorised and still names the file, line and column of the first bad
value. pandas' C parser reads the values and vectorised checks find every bad cell at once; a
clean file is done then. Otherwise (or when pandas refuses a cell) the file is read the careful
way: one pass of numpy over the bytes finds every line, blank line and field count
(``tabular_layout``), every cell is read as text, the same checks run, and only the first bad
cell's text is looked at, for the message. Both ways give the same values.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import tabular_cells as cells
import tabular_layout as layout
from tabular_schema import (  # noqa: F401  (re-exported: the steps import only this module)
    LABEL_KIND,
    NOMINAL,
    NUMERIC,
    ORDINAL,
    SCHEMA_FILE,
    SCHEMA_FORMAT,
    SCHEMA_INPUT_DIR,
    Column,
    Schema,
    SchemaError,
    is_number,
    load_schema,
    plain,
    schema_from_document,
    schema_path,
)
from tabular_write import write_model_csv, write_raw  # noqa: F401  (re-exported likewise)

LIBRARY_INPUT_DIR = "input/lib"  # contract.STEP_LIBRARY_INPUT_DIR
InputError = layout.InputError


def list_input_files(directory: str | Path) -> list[Path]:
    """Every file under ``directory``, sub-folders included, in the order S3 lists their keys.

    Hidden files and folders (a name starting with ``.``) are skipped. The one listing rule of
    every step, so data landed under a sub-prefix is read by training, batch preparation and the
    drift check alike.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
    return [found[key] for key in sorted(found, key=lambda k: k.encode())
            if not any(part.startswith(".") for part in key.split("/"))]


def read_file(path: str | Path, schema: Schema, *, require_label: bool = False, strict: bool = True,
              keep_alias_values: bool = False) -> pd.DataFrame:
    """One raw data file as encoded float columns (NaN = missing), named and ordered as in the file.

    A file holds all of ``schema.columns`` or, unless ``require_label``, all but the label.
    Features are encoded (``tabular_schema``), the label is 1 for the positive class, 0 for the
    other. ``strict``: a value outside its domain is an error; otherwise it is kept (numbers as
    they are, text as -1) for the drift check to count. ``keep_alias_values`` keeps numeric
    aliased values as written (e.g. BI-RADS 55, checked as 5). Raises InputError naming the
    file, and the line and column of the first bad value.
    """
    path = Path(path)
    raw = layout.load_bytes(path, schema)
    columns = layout.file_columns(raw, path, schema, require_label)
    options = (schema, require_label, strict, keep_alias_values)
    parsed = _fast_values(raw, columns, schema)
    if parsed is not None:
        values, problems = _encode(parsed, columns, *options)
        if not any(found.any() for found in problems.values()):
            return pd.DataFrame(values, columns=list(columns))
    # Something is wrong (or unusual): look at every line, so the first problem is named by its line.
    rows = layout.scan(raw, path, schema, columns)
    values, problems = _encode(_careful_values(raw, rows, schema), columns, *options)
    layout.raise_first_problem(path, raw, rows, schema, problems)
    return pd.DataFrame(values, columns=list(columns))


def _encode(parsed: dict[str, tuple[np.ndarray, np.ndarray]], columns: tuple[str, ...], schema: Schema,
            require_label: bool, strict: bool, keep_alias_values: bool) -> tuple[dict, dict]:
    """Aliases, domain checks and the label's 1/0: (values, problem codes) by column."""
    values, problems = {}, {}
    for name in columns:
        column = schema.column(name)
        parsed_values, found = parsed[name]
        checked = cells.apply_numeric_aliases(parsed_values, column)
        if strict or (column.kind == LABEL_KIND and require_label):
            found = np.where(found == cells.OK, cells.domain_problems(checked, column), found)
        if column.kind == LABEL_KIND:
            if require_label:
                found[np.isnan(checked) & (found == cells.OK)] = cells.NO_LABEL
            checked = np.where(np.isnan(checked), np.nan, (checked == _positive(schema)).astype(float))
        values[name] = parsed_values if keep_alias_values and column.kind != LABEL_KIND else checked
        problems[name] = found
    return values, problems


def read_inputs(path: str | Path, schema: Schema, **options: bool) -> pd.DataFrame:
    """A file, or every file under a directory (``list_input_files``) concatenated; see read_file.

    The files of one input share one layout (all with the label, or all without).
    """
    path = Path(path)
    if not path.is_dir():
        return read_file(path, schema, **options)
    files = list_input_files(path)
    if not files:
        raise InputError(f"{path}: no data files; put the model's raw data files there "
                         f"({', '.join(schema.columns)}; {schema.describe()})")
    frames = [read_file(p, schema, **options) for p in files]
    layouts = {tuple(f.columns): p for f, p in zip(frames, files, strict=True)}
    if len(layouts) > 1:
        shown = "; ".join(f"{p.name}: {', '.join(c)}" for c, p in layouts.items())
        raise InputError(f"{path}: files differ in their columns ({shown}); give every file of one "
                         "input the same layout, all with the label or all without")
    return pd.concat(frames, ignore_index=True)


def _positive(schema: Schema) -> float:
    label = schema.label
    if label.text_valued:
        return float(label.domain_text.index(str(schema.positive)))
    return float(schema.positive)  # type: ignore[arg-type]


def _fast_values(raw: bytes, columns: tuple[str, ...], schema: Schema) -> dict | None:
    """Column -> (values before numeric aliases, parse problem codes), read by pandas alone; None
    when pandas refuses a cell or the file is not plain (a lone CR, a tab delimiter, a short row)."""
    delimiter = schema.delimiter.encode()
    if ord(delimiter) <= ord(" ") or raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # blank lines or line ends pandas could see otherwise than the scan
    specs = [schema.column(name) for name in columns]
    floats = {c.name for c in specs if cells.parses_as_number(c)}
    frame = _pandas(raw, columns, schema, {c.name: float if c.name in floats else str for c in specs})
    # pandas refuses a long row but fills a short one: the delimiters must add up to full rows.
    if frame is None or raw.count(delimiter) != (len(frame) + schema.header) * (len(columns) - 1):
        return None
    return _values_of(frame, specs, floats, schema)


def _careful_values(raw: bytes, rows: layout.Layout, schema: Schema) -> dict:
    """As _fast_values, every cell read as text, in the rows the scan found."""
    frame = _pandas(raw, rows.columns, schema, dict.fromkeys(rows.columns, str))
    if frame is None or len(frame) != len(rows.lines):  # pandas saw other rows than the scan
        frame = layout.python_cells(raw, rows, schema)
    return _values_of(frame, [schema.column(name) for name in rows.columns], set(), schema)


def _values_of(frame: pd.DataFrame, specs: list[Column], floats: set[str], schema: Schema) -> dict:
    out = {}
    for column in specs:
        if column.name in floats:
            values = frame[column.name].to_numpy(dtype=float)
            out[column.name] = (values, np.where(np.isinf(values), cells.NOT_FINITE, cells.OK).astype(np.int8))
        else:
            out[column.name] = cells.text_values(frame[column.name], column, schema.missing)
    return out


def _pandas(raw: bytes, columns: tuple[str, ...], schema: Schema, dtypes: dict) -> pd.DataFrame | None:
    try:
        return pd.read_csv(io.BytesIO(raw), sep=schema.delimiter, header=0 if schema.header else None,
                           names=list(columns), dtype=dtypes, na_values=list(schema.missing),
                           keep_default_na=False, na_filter=bool(schema.missing), skipinitialspace=True,
                           skip_blank_lines=True, quoting=csv.QUOTE_NONE, index_col=False, engine="c")
    except ValueError:  # pandas' ParserError and EmptyDataError are ValueErrors too
        return None
