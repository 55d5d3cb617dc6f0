"""ml.datasets: reading the raw UCI file and the seeded derived sets."""
from __future__ import annotations

import hashlib
from collections import Counter

import pandas as pd
import pytest

from ml import contract, datasets
from ml.steps import preprocess

ORIGINAL_SHA256 = "072051c896fb14f8f25c64eed30ba1333290af41e6c9ffad4e1ca573daa865a8"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return datasets.read_raw()


@pytest.fixture(scope="module")
def sets(raw) -> dict[str, pd.DataFrame]:
    return datasets.derive_datasets(raw)


def _rows(frame: pd.DataFrame) -> Counter:
    return Counter(tuple(None if pd.isna(v) else int(v) for v in row)
                   for row in frame.itertuples(index=False))


def test_read_raw_sees_the_documented_counts(raw):
    assert raw.shape == (961, 6)
    assert list(raw.columns) == list(contract.RAW_COLUMNS)
    assert raw.isna().sum().to_dict() == {
        "BI-RADS": 2, "Age": 5, "Shape": 31, "Margin": 48, "Density": 76, "Severity": 0}
    assert raw["Severity"].value_counts().to_dict() == {0: 516, 1: 445}
    assert raw.duplicated().sum() == 272


def test_write_raw_reproduces_the_shipped_file_byte_for_byte(raw, tmp_path):
    written = datasets.write_raw(raw, tmp_path / "copy.data")
    assert hashlib.sha256(written.read_bytes()).hexdigest() == ORIGINAL_SHA256


def test_read_raw_names_the_bad_line_and_column(tmp_path):
    bad = tmp_path / "bad.data"
    bad.write_bytes(b"5,67,3,5,3,1\r\n4,abc,1,1,3,0\r\n")
    with pytest.raises(ValueError, match=r"line 2, column Age: 'abc'"):
        datasets.read_raw(bad)
    wide = tmp_path / "wide.data"
    wide.write_text("5,67,3,5,3,1,9\n")
    with pytest.raises(ValueError, match="7 columns"):
        datasets.read_raw(wide)
    with pytest.raises(FileNotFoundError, match="no such data file"):
        datasets.read_raw(tmp_path / "absent.data")


def test_sets_partition_the_file_keeping_duplicates(raw, sets):
    labelled = pd.concat([sets["initial_train"], sets["retrain_increment"]])
    features = pd.concat([labelled[list(contract.FEATURES)], sets["batch_clean"]])
    assert len(features) == 961
    assert _rows(features) == _rows(raw[list(contract.FEATURES)])
    assert not _rows(labelled) - _rows(raw)  # labels travel with their own rows
    assert [len(sets[n]) for n in ("initial_train", "retrain_increment", "batch_clean")] == [
        672, 144, 145]


def test_labelled_sets_are_stratified_and_batches_have_no_label(sets):
    overall = 445 / 961
    for name in datasets.LABELLED_SETS:
        assert list(sets[name].columns) == list(contract.RAW_COLUMNS)
        assert abs(sets[name]["Severity"].mean() - overall) < 0.01
    for name in datasets.BATCHES:
        assert list(sets[name].columns) == list(contract.FEATURES)


def test_age_drift_makes_every_case_older_within_the_observed_range(sets):
    clean, older = sets["batch_clean"]["Age"], sets["batch_drift_age"]["Age"]
    expected = (clean + datasets.AGE_SHIFT_YEARS).clip(upper=datasets.MAX_AGE)
    assert older.equals(expected)
    assert older.mean() - clean.mean() > 10
    others = [c for c in contract.FEATURES if c != "Age"]
    assert sets["batch_drift_age"][others].equals(sets["batch_clean"][others])


def test_shape_margin_drift_changes_the_category_mix(sets):
    clean, mixed = sets["batch_clean"], sets["batch_drift_shape_margin"]
    assert len(mixed) == len(clean)
    assert (mixed["Shape"] == 4).mean() > (clean["Shape"] == 4).mean() + 0.2
    assert mixed["Margin"].isin([4, 5]).mean() > clean["Margin"].isin([4, 5]).mean() + 0.2
    # Resampled cases, not invented ones: every row exists in the clean pool.
    assert set(_rows(mixed)) <= set(_rows(clean))


def test_missing_drift_blanks_about_a_third_of_four_columns(sets):
    clean, blanked = sets["batch_clean"], sets["batch_drift_missing"]
    for column in datasets.MISSING_COLUMNS:
        assert blanked[column].isna().mean() > 0.25
        kept = blanked[column].notna()
        assert blanked.loc[kept, column].equals(clean.loc[kept, column])
    assert blanked["BI-RADS"].equals(clean["BI-RADS"])


def test_write_datasets_is_deterministic_and_in_the_raw_layout(tmp_path):
    first = datasets.write_datasets(tmp_path / "a")
    second = datasets.write_datasets(tmp_path / "b")
    other_seed = datasets.write_datasets(tmp_path / "c", seed=1)
    assert set(first) == set(datasets.DATASET_FILES)
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes()
    assert first["initial_train"].read_bytes() != other_seed["initial_train"].read_bytes()
    text = first["batch_drift_missing"].read_bytes()
    assert b"?" in text and text.endswith(b"\r\n") and b"\n" not in text.replace(b"\r\n", b"")
    assert text.split(b"\r\n")[0].count(b",") == 4
    assert datasets.read_raw(first["initial_train"]).shape == (672, 6)


def test_derive_rejects_unlabelled_or_renamed_input(raw):
    with pytest.raises(ValueError, match="labelled raw layout"):
        datasets.derive_datasets(raw[list(contract.FEATURES)])
    unlabelled = raw.copy()
    unlabelled.loc[0, "Severity"] = pd.NA
    with pytest.raises(ValueError, match="needs a Severity label"):
        datasets.derive_datasets(unlabelled)


@pytest.mark.parametrize("content, message", [
    (b"5.5,67,3,5,3,1\r\n", "line 1, column BI-RADS: '5.5' is not an integer or '?'"),
    (b"5,67,3,5,3,1\r\n4,43,9,1,3,0\r\n", "line 2, column Shape: 9 is outside the allowed values 1..4"),
    (b"", "empty; it holds no data rows"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "binary, not UTF-8 comma-separated text"),
])
def test_read_raw_refuses_what_the_pipeline_refuses_naming_the_file(tmp_path, content, message):
    path = tmp_path / "masses.data"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        datasets.read_raw(path)
    assert str(path) in str(error.value)
    (tmp_path / "input" / "data").mkdir(parents=True)
    (tmp_path / "input" / "data" / path.name).write_bytes(content)
    with pytest.raises(ValueError, match=message):  # the training pipeline's step: same verdict
        preprocess.read_input_dir(tmp_path / "input" / "data")


def test_read_raw_keeps_the_birads_typo_as_written(raw):
    assert (raw["BI-RADS"] == 55).sum() == 1  # derived sets keep the file's quirk; preprocess maps it


def test_derived_sets_need_a_label_on_every_row_naming_the_line(tmp_path):
    path = tmp_path / "unlabelled.data"
    path.write_bytes(b"5,67,3,5,3,1\r\n4,43,1,1,3,?\r\n")
    with pytest.raises(ValueError, match=f"{path}: line 2: Severity is missing"):
        datasets.write_datasets(tmp_path / "out", source=path)
    assert not (tmp_path / "out").exists()
