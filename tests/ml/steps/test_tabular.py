"""The steps' shared reader (ml/steps/tabular.py): the schema document, vectorised reading, and
errors that still name the file, line and column of the first bad value."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import contract
from tests.ml.steps.step_inputs import (
    LOANS,
    MAMMOGRAPHY_SCHEMA,
    loans_file,
    loans_rows,
    mammography_document,
    mammography_schema,
    tabular,
)

SCHEMA = mammography_schema()
LOANS_SCHEMA = tabular.schema_from_document(LOANS)


def big_loans_file(path: Path, rows: int, bad: tuple[int, str, str] | None = None,
                   blank_every: int = 997) -> tuple[Path, int | None]:
    """``rows`` applications with a header, a blank line after every ``blank_every`` rows, and
    optionally row ``bad[0]``'s ``bad[1]`` cell replaced by ``bad[2]``; returns the file and the
    line number of the bad value, counted independently of the reader."""
    table = loans_rows(rows, seed=3)
    lines, bad_line = [";".join(LOANS["columns"])], None
    for i, row in enumerate(table):
        if bad and i == bad[0]:
            row = [bad[2] if c == bad[1] else v for c, v in zip(LOANS["columns"], row, strict=True)]
            bad_line = len(lines) + 1
        lines.append(";".join(row))
        if i % blank_every == blank_every - 1:
            lines.append("  " if i % 2 else "")
    path.write_text("\r\n".join(lines) + "\r\n")
    return path, bad_line


@pytest.mark.parametrize("column, value, message", [
    ("region", "moon", "'moon' is not one of the allowed values north, south, east, west; fix or drop that row"),
    ("income", "lots", "'lots' is not a number; use digits, or 'NA' for a missing value"),
    ("income", "-5", "-5 is outside the allowed range 0..500000; fix or drop that row"),
    ("dependents", "2.5", "'2.5' is not a whole number (dependents holds whole numbers 0..12)"),
    ("band", "9", "'9' is not one of the allowed values 1, 2, 3, 4, 5; fix or drop that row"),
    ("outcome", "NA", "missing; a training row needs its outcome (repaid, default)"),
    ("outcome", "maybe", "'maybe' is not one of the allowed values repaid, default; fix or drop that row"),
    ("grade", "", "empty; write a value, or 'NA' for a missing value"),
])
def test_a_bad_value_deep_in_a_large_file_is_named_by_file_line_and_column(tmp_path, column, value, message):
    path, line = big_loans_file(tmp_path / "loans.csv", 100_000, bad=(87_654, column, value))
    assert line > 87_654 + 80  # the header and the blank lines before it count
    with pytest.raises(tabular.InputError) as error:
        tabular.read_file(path, LOANS_SCHEMA, require_label=True)
    assert str(error.value) == f"{path}: line {line}, column {column}: {message}"


def test_a_ragged_row_deep_in_a_large_file_is_named_by_its_line(tmp_path):
    path, line = big_loans_file(tmp_path / "loans.csv", 50_000, bad=(43_210, "band", "3;4"))
    with pytest.raises(tabular.InputError, match=re.escape(
            f"{path}: line {line}: 7 columns where the file has 6 (region, income, outcome, grade, "
            "dependents, band); every row needs the same columns")):
        tabular.read_file(path, LOANS_SCHEMA)


def test_the_first_bad_value_is_the_earliest_line_then_the_leftmost_column(tmp_path):
    path = tmp_path / "masses.data"
    path.write_bytes(b"5,67,3,5,3,1\r\n4,50,1,9,x,0\r\n4,-1,1,1,3,0\r\n")
    with pytest.raises(tabular.InputError, match="line 2, column Margin: '9' is not one of"):
        tabular.read_file(path, SCHEMA, require_label=True)


def all_paths(monkeypatch, path: Path, schema, way: str) -> pd.DataFrame:
    """Read the fast way with every cell as text, or the careful way (line by line as the scan
    found the lines, through pandas or, failing that, Python)."""
    real = tabular._pandas
    if way == "text":  # as if every column held text
        monkeypatch.setattr(tabular, "_pandas", lambda raw, columns, schema, dtypes:
                            real(raw, columns, schema, dict.fromkeys(dtypes, str)))
    elif way == "careful":  # as if the fast way had found a problem
        monkeypatch.setattr(tabular, "_fast_values", lambda *args: None)
    elif way == "lines":  # ... and pandas had seen other rows than the scan
        monkeypatch.setattr(tabular, "_fast_values", lambda *args: None)
        monkeypatch.setattr(tabular, "_pandas", lambda *args: None)
    return tabular.read_file(path, schema)


@pytest.mark.parametrize("way", ["text", "careful", "lines"])
def test_every_way_of_reading_gives_the_same_values(tmp_path, monkeypatch, way):
    mammography = tabular.read_file(contract.DATA_FILE, SCHEMA)
    loans, _ = big_loans_file(tmp_path / "loans.csv", 3_000)
    fast = tabular.read_file(loans, LOANS_SCHEMA)
    assert all_paths(monkeypatch, contract.DATA_FILE, SCHEMA, way).equals(mammography)
    assert all_paths(monkeypatch, loans, LOANS_SCHEMA, way).equals(fast)


def test_rows_pandas_would_read_otherwise_are_read_as_the_lines_say(tmp_path):
    path = tmp_path / "odd.data"
    path.write_bytes(b"5,67,3,5,3\n4,43,1,1,?\r5,67,3,5,3\n")  # a lone CR is no line end here
    with pytest.raises(tabular.InputError, match="line 2: 9 columns where the file has 5"):
        tabular.read_file(path, SCHEMA)
    path.write_bytes(b"5,67,3,5,3\n4,43,1\n4,43,1,1,?\n")  # a short row pandas would fill up
    with pytest.raises(tabular.InputError, match="line 2: 3 columns where the file has 5"):
        tabular.read_file(path, SCHEMA)
    tabs = {**mammography_document(), "delimiter": "\t", "missing": ["?", ""]}
    path.write_bytes(b"5\t67\t3\t5\t3\n\t\t\t\t\n4\t43\t1\t1\t\n")  # tabs only: a blank line
    assert len(tabular.read_file(path, tabular.schema_from_document(tabs))) == 2


def test_spaces_around_values_and_tokens_are_ignored(tmp_path):
    spaced = tmp_path / "spaced.data"
    spaced.write_bytes(b" 5 , 67 ,3,5 , ? \r\n\t\r\n4 ,?,1 ,1,3\r\n")
    plain = tmp_path / "plain.data"
    plain.write_bytes(b"5,67,3,5,?\n4,?,1,1,3\n")
    assert tabular.read_file(spaced, SCHEMA).equals(tabular.read_file(plain, SCHEMA))


def test_text_values_are_positions_and_the_label_is_one_for_the_positive_class(tmp_path):
    path = loans_file(tmp_path / "loans.csv", [["N", "1000.25", "default", "high", "2", "5"],
                                               ["west", "NA", "repaid", "NA", "0", "1"]])
    frame = tabular.read_file(path, LOANS_SCHEMA, require_label=True)
    assert list(frame.columns) == LOANS["columns"]  # file order, the label among the features
    assert frame.iloc[0].tolist() == [0, 1000.25, 1, 2, 2, 5]  # N is an alias of north (position 0)
    assert frame.iloc[1].isna().tolist() == [False, True, False, True, False, False]
    assert frame["outcome"].tolist() == [1, 0]


def test_raw_files_written_from_encoded_values_read_back_to_them(tmp_path):
    source = loans_file(tmp_path / "loans.csv", loans_rows(500, seed=8))
    frame = tabular.read_file(source, LOANS_SCHEMA)
    written = tabular.write_raw(frame, LOANS_SCHEMA, tmp_path / "copy.csv")
    assert written.read_bytes().startswith(b"region;income;outcome;grade;dependents;band\r\n")
    assert tabular.read_file(written, LOANS_SCHEMA).equals(frame)
    features = tabular.write_raw(frame.drop(columns="outcome"), LOANS_SCHEMA, tmp_path / "features.csv")
    assert tabular.read_file(features, LOANS_SCHEMA).equals(frame.drop(columns="outcome"))


@pytest.mark.parametrize("content, message", [
    (b"region;income;grade;dependents;band\r\n", "no data rows after the header"),
    (b"\r\nregion;income;grade\r\nwest;1;low\r\n",
     "line 2: header region, income, grade; expected region, income, outcome, grade, dependents, band or "
     "region, income, grade, dependents, band"),
    (b"region;income;outcome;grade;dependents;band\r\n" + b"west;1;repaid;low;0;1\r\n" * 3, None),
])
def test_the_header_must_name_the_schema_columns(tmp_path, content, message):
    path = tmp_path / "loans.csv"
    path.write_bytes(content)
    if message is None:
        assert len(tabular.read_file(path, LOANS_SCHEMA)) == 3
        return
    with pytest.raises(tabular.InputError, match=re.escape(f"{path}: {message}")):
        tabular.read_file(path, LOANS_SCHEMA)


def test_training_files_need_the_label_column(tmp_path):
    path = tmp_path / "batch.data"
    path.write_bytes(b"5,67,3,5,3\n")
    assert len(tabular.read_file(path, SCHEMA)) == 1
    with pytest.raises(tabular.InputError, match=r"line 1: 5 columns, expected 6 \(BI-RADS, Age, Shape, "
                                                 r"Margin, Density, Severity\); no header"):
        tabular.read_file(path, SCHEMA, require_label=True)


def test_a_listed_empty_token_makes_empty_cells_missing(tmp_path):
    document = {**mammography_document(), "missing": ["?", ""]}
    path = tmp_path / "batch.data"
    path.write_bytes(b"5,,3,5,?\n")
    values = tabular.read_file(path, tabular.schema_from_document(document)).iloc[0]
    assert values.isna().tolist() == [False, True, False, False, True]


def test_a_schema_document_with_problems_lists_every_one_with_its_key():
    document = mammography_document()
    document["features"][0]["kind"] = "ordered"
    document["features"][1]["domain"] = [120, 1]
    document["features"][2]["domain"] = []
    document["features"][3]["integer"] = True
    document["label"]["positive"] = 2
    document["delimiter"] = "a"
    with pytest.raises(tabular.SchemaError) as error:
        tabular.schema_from_document(document, "schema.json")
    text = str(error.value)
    for expected in ("features[0].kind: 'ordered' must be one of numeric, ordinal, nominal",
                     "features[1].domain: [120, 1] must be [low, high] numbers with low <= high",
                     "features[2].domain: [] must list distinct allowed values",
                     "features[3].integer: True must be true or false, and true only for a numeric feature",
                     "label.positive: 2 must be one of the label's values [0, 1]",
                     "delimiter: 'a' must be one character"):
        assert expected in text, expected


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format=2), "format 2, but this step reads schema format 1"),
    (lambda d: d.pop("format"), "format None, but this step reads schema format 1"),
    (lambda d: d["columns"].append("Age"), "must name every feature and the label once"),
    (lambda d: d["label"].update(name="Age"), "must name every feature and the label once"),
    (lambda d: d["features"][0].update(aliases={"55": "five"}), "needs numbers as alias values"),
])
def test_a_wrong_or_foreign_schema_document_is_refused_clearly(change, message):
    document = mammography_document()
    change(document)
    with pytest.raises(tabular.SchemaError, match=re.escape(message)):
        tabular.schema_from_document(document)


def test_the_schema_is_read_from_the_job_input(tmp_path):
    path = tabular.schema_path(tmp_path)
    assert path == tmp_path / "input" / "schema" / "schema.json"
    with pytest.raises(tabular.SchemaError, match="no schema document"):
        tabular.load_schema(path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(tabular.SchemaError, match="not a JSON document"):
        tabular.load_schema(path)
    path.write_bytes(MAMMOGRAPHY_SCHEMA.read_bytes())
    loaded = tabular.load_schema(path)
    assert loaded == SCHEMA and loaded.feature_names == ("BI-RADS", "Age", "Shape", "Margin", "Density")
    assert np.array_equal(loaded.column("Shape").allowed, [1, 2, 3, 4])


def test_model_csvs_are_the_bytes_pandas_writes_with_ten_significant_digits(tmp_path):
    rng = np.random.default_rng(5)
    edge = [0.0, -0.0, 1e10, -1e10, 9_999_999_999.0, 12_345_678_901.0, 0.1, 1 / 3, np.nan, np.inf, -np.inf,
            2.5, -2.5, 1e-7, 123_456_789.5, 57.5]
    values = np.concatenate([rng.integers(-10**6, 10**6, 5000).astype(float), rng.normal(0, 1e6, 5000),
                             rng.normal(0, 1, 5000), edge])
    rng.shuffle(values)
    frame = pd.DataFrame({"label": rng.integers(0, 2, len(values)), "mixed": values,
                          "whole": np.round(np.nan_to_num(values, posinf=0, neginf=0)),
                          "small": np.nan_to_num(values, posinf=0, neginf=0) % 7})
    frame.to_csv(tmp_path / "pandas.csv", header=False, index=False, float_format="%.10g", lineterminator="\n")
    tabular.write_model_csv(frame, tmp_path / "ours.csv")
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


@pytest.mark.parametrize("domain, missing, message", [
    (["a", "b;c"], ["NA"], "the value 'b;c' holds the delimiter, a quote or a newline"),
    (["a", " b"], ["NA"], "the value ' b' has leading or trailing spaces"),
    (["a", "NA"], ["NA"], "the value 'NA' is also a missing-value token"),
    ([1, 2, 0], ["0"], "the value '0' is also a missing-value token"),
])
def test_allowed_values_a_file_could_not_hold_are_refused(domain, missing, message):
    document = {**LOANS, "missing": missing,
                "features": [{**LOANS["features"][0], "domain": domain, "aliases": {}}, *LOANS["features"][1:]]}
    with pytest.raises(tabular.SchemaError, match=re.escape(f"region: {message}")):
        tabular.schema_from_document(document)


def test_a_one_column_batch_finds_its_blank_lines_and_bad_values_too(tmp_path):
    """Without the label a one-feature model's batch has no delimiter at all: every line is checked."""
    document = {**mammography_document(), "columns": ["Age", "Severity"],
                "features": [f for f in mammography_document()["features"] if f["name"] == "Age"]}
    schema = tabular.schema_from_document(document)
    path = tmp_path / "ages.data"
    path.write_bytes(b"67\r\n\r\n \t\r\n?\r\n43\r\n" * 3 + b"old\r\n")
    with pytest.raises(tabular.InputError, match=re.escape(f"{path}: line 16, column Age: 'old' is not a number")):
        tabular.read_file(path, schema)
    path.write_bytes(b"67\r\n\r\n \t\r\n?\r\n43\r\n" * 3)
    assert tabular.read_file(path, schema)["Age"].tolist() == pytest.approx([67, np.nan, 43] * 3, nan_ok=True)
