"""ml.datasets: reading a model's data file with the steps' reader, and the seeded derived sets, for
every model of Pulumi.yaml; the mammography sets the platform seeds at first deploy stay as they were."""
from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from ml import datasets, step_library
from ml.models import NOMINAL, NUMERIC, load_project_models

MAMMOGRAPHY_SHA256 = "072051c896fb14f8f25c64eed30ba1333290af41e6c9ffad4e1ca573daa865a8"
# The sets as the platform derived them before models were configurable (the first deploy uploads
# initial_train and batch_clean): the generic derivation must give the very same bytes.
BEFORE_MODELS = {
    "initial_train": "bc03274d728623915a33ccd73d2b55266497f43f9ba45cfe70e71d38d616b06b",
    "retrain_increment": "2be9197f43c81a01887d4ab03787fce4830a747220202f3bca64f1f64eabe7ac",
    "batch_clean": "60c37e9b6607d4d4a9b1aa9c82f76de05528bdf51dd7223b55bd4d5fd5851cf9",
    "batch_drift_age": "7b390964565d73bf438378a3b4f4138ceed46696c858f550febff85a149ed0f0",
}
SPECS = {spec.name: spec for spec in load_project_models()}
MAMMOGRAPHY = SPECS["mammography"]


@pytest.fixture(scope="module", params=sorted(SPECS))
def model(request):
    spec = SPECS[request.param]
    raw = datasets.read_data(spec, labelled=True)
    return spec, raw, datasets.derive_datasets(spec, raw)


def _rows(frame: pd.DataFrame) -> Counter:
    return Counter(tuple(None if pd.isna(v) else float(v) for v in row) for row in frame.itertuples(index=False))


def test_read_data_sees_the_documented_mammography_counts():
    raw = datasets.read_data(MAMMOGRAPHY, labelled=True)
    assert raw.shape == (961, 6) and list(raw.columns) == list(MAMMOGRAPHY.schema.columns)
    assert raw.isna().sum().to_dict() == {"BI-RADS": 2, "Age": 5, "Shape": 31, "Margin": 48, "Density": 76,
                                          "Severity": 0}
    assert raw["Severity"].value_counts().to_dict() == {0: 516, 1: 445}
    assert raw.duplicated().sum() == 272
    assert (raw["BI-RADS"] == 55).sum() == 1  # the typo stays as written; preprocess maps it


def test_read_data_sees_the_documented_wdbc_counts():
    raw = datasets.read_data(SPECS["wdbc"], labelled=True)
    assert raw.shape == (569, 31) and not raw.isna().any().any()
    assert raw["diagnosis"].value_counts().to_dict() == {0: 357, 1: 212}  # 1 = malignant, the positive class


def test_writing_the_mammography_file_back_gives_its_bytes(tmp_path):
    written = datasets.write_data(MAMMOGRAPHY, datasets.read_data(MAMMOGRAPHY, labelled=True), tmp_path / "copy.data")
    assert hashlib.sha256(written.read_bytes()).hexdigest() == MAMMOGRAPHY_SHA256


def test_the_mammography_sets_are_the_ones_derived_before_models_were_configurable(tmp_path):
    files = datasets.write_datasets(MAMMOGRAPHY, tmp_path)
    assert {name: hashlib.sha256(files[name].read_bytes()).hexdigest() for name in BEFORE_MODELS} == BEFORE_MODELS
    seeded = datasets.seed_objects(MAMMOGRAPHY)
    assert {name: hashlib.sha256(data).hexdigest() for name, data in seeded.items()} == {
        name: BEFORE_MODELS[name] for name in ("initial_train", "batch_clean")}


def test_set_names_follow_the_schema():
    assert list(datasets.dataset_names(MAMMOGRAPHY)) == [
        "initial_train", "retrain_increment", "batch_clean", "batch_drift_age", "batch_drift_shape_margin",
        "batch_drift_missing"]
    assert datasets.dataset_names(MAMMOGRAPHY)["initial_train"] == "initial_train.data"
    assert list(datasets.dataset_names(SPECS["wdbc"])) == [
        "initial_train", "retrain_increment", "batch_clean", "batch_drift_radius_mean", "batch_drift_missing"]
    assert datasets.dataset_names(SPECS["wdbc"])["batch_clean"] == "batch_clean.csv"


def test_sets_partition_the_file_keeping_duplicates(model):
    spec, raw, sets = model
    features = [c for c in spec.schema.columns if c != spec.schema.label.name]
    labelled = pd.concat([sets["initial_train"], sets["retrain_increment"]])
    assert _rows(pd.concat([labelled[features], sets["batch_clean"]])) == _rows(raw[features])
    assert not _rows(labelled) - _rows(raw)  # labels travel with their own rows
    sizes = [len(sets[n]) for n in ("initial_train", "retrain_increment", "batch_clean")]
    assert sum(sizes) == len(raw) and abs(sizes[0] / len(raw) - 0.70) < 0.01


def test_labelled_sets_are_stratified_and_batches_have_no_label(model):
    spec, raw, sets = model
    label = spec.schema.label.name
    for name in datasets.LABELLED_SETS:
        assert list(sets[name].columns) == list(spec.schema.columns)
        assert abs(sets[name][label].mean() - raw[label].mean()) < 0.01
    for name in datasets.batch_names(spec):
        assert list(sets[name].columns) == [c for c in spec.schema.columns if c != label]


def test_the_shift_moves_the_first_numeric_feature_by_most_of_a_standard_deviation(model):
    spec, raw, sets = model
    name = datasets.shifted_feature(spec)
    clean, shifted = sets["batch_clean"], sets[f"batch_drift_{datasets.slug(name)}"]
    assert name == next(f.name for f in spec.schema.features if f.kind == NUMERIC)
    moved = (shifted[name] - clean[name]).dropna()
    at_cap = shifted[name].dropna() == raw[name].max()
    assert (moved[~at_cap.to_numpy()] > 0.7 * raw[name].std()).all()  # every value moved, unless capped
    assert shifted[name].max() <= raw[name].max()
    others = [c for c in clean.columns if c != name]
    assert shifted[others].equals(clean[others])


def test_the_mammography_shift_is_twelve_years_capped_at_96():
    sets = datasets.derive_datasets(MAMMOGRAPHY, datasets.read_data(MAMMOGRAPHY, labelled=True))
    assert sets["batch_drift_age"]["Age"].equals((sets["batch_clean"]["Age"] + 12).clip(upper=96))


def test_the_mix_makes_the_last_value_of_each_nominal_domain_more_common():
    sets = datasets.derive_datasets(MAMMOGRAPHY, datasets.read_data(MAMMOGRAPHY, labelled=True))
    clean, mixed = sets["batch_clean"], sets["batch_drift_shape_margin"]
    assert datasets.mixed_features(MAMMOGRAPHY) == tuple(
        f.name for f in MAMMOGRAPHY.schema.features if f.kind == NOMINAL) == ("Shape", "Margin")
    assert len(mixed) == len(clean)
    assert (mixed["Shape"] == 4).mean() > (clean["Shape"] == 4).mean() + 0.15
    assert (mixed["Margin"] == 5).mean() > (clean["Margin"] == 5).mean() + 0.15
    assert set(_rows(mixed)) <= set(_rows(clean))  # resampled cases, not invented ones


def test_a_model_without_nominal_features_gets_no_mix_batch():
    assert datasets.mixed_features(SPECS["wdbc"]) == ()
    assert not any("drift" in n and n not in ("batch_drift_radius_mean", "batch_drift_missing")
                   for n in datasets.dataset_names(SPECS["wdbc"]))


def test_the_missing_batch_blanks_about_a_third_of_every_feature(model):
    spec, _, sets = model
    clean, blanked = sets["batch_clean"], sets["batch_drift_missing"]
    for name in spec.schema.feature_names:
        added = blanked[name].isna().mean() - clean[name].isna().mean()
        assert 0.2 < added < 0.5, name
        kept = blanked[name].notna()
        assert blanked.loc[kept, name].equals(clean.loc[kept, name])


def test_written_sets_are_deterministic_and_read_back_by_the_steps(model, tmp_path):
    spec = model[0]
    first = datasets.write_datasets(spec, tmp_path / "a")
    second = datasets.write_datasets(spec, tmp_path / "b")
    other_seed = datasets.write_datasets(spec, tmp_path / "c", seed=1)
    assert all(first[n].read_bytes() == second[n].read_bytes() for n in first)
    assert first["initial_train"].read_bytes() != other_seed["initial_train"].read_bytes()
    tabular, schema = step_library.tabular(), step_library.schema(spec)
    for name, path in first.items():
        frame = tabular.read_file(path, schema, require_label=name in datasets.LABELLED_SETS)
        assert len(frame) == len(model[2][name])
    header = first["batch_clean"].read_text().splitlines()[0]
    assert (header.split(",") == [c for c in spec.schema.columns if c != spec.schema.label.name]) \
        is spec.schema.header


def test_derive_rejects_unlabelled_or_renamed_input():
    raw = datasets.read_data(MAMMOGRAPHY, labelled=True)
    with pytest.raises(ValueError, match="needs every column"):
        datasets.derive_datasets(MAMMOGRAPHY, raw.drop(columns=["Severity"]))
    unlabelled = raw.copy()
    unlabelled.loc[0, "Severity"] = np.nan
    with pytest.raises(ValueError, match="needs a Severity label"):
        datasets.derive_datasets(MAMMOGRAPHY, unlabelled)


@pytest.mark.parametrize("content, message", [
    (b"5,67,3,5,3,1\r\n4,abc,1,1,3,0\r\n", "line 2, column Age: 'abc'"),
    (b"5,67,3,5,3,1\r\n4,43,9,1,3,0\r\n", "line 2, column Shape"),
    (b"5,67,3,5,3,1,9\r\n", "7 columns"),
    (b"", "empty; it holds no data rows"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "binary"),
])
def test_read_data_refuses_what_the_pipeline_refuses_naming_the_file(tmp_path, content, message):
    path = tmp_path / "masses.data"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        datasets.read_data(MAMMOGRAPHY, path)
    assert str(path) in str(error.value)


def test_a_missing_file_and_a_missing_label_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such data file"):
        datasets.read_data(MAMMOGRAPHY, tmp_path / "absent.data")
    path = tmp_path / "unlabelled.data"
    path.write_bytes(b"5,67,3,5,3,1\r\n4,43,1,1,3,?\r\n")
    with pytest.raises(ValueError, match=f"{path}: line 2, column Severity"):
        datasets.write_datasets(MAMMOGRAPHY, tmp_path / "out", source=path)
    assert not (tmp_path / "out").exists()
