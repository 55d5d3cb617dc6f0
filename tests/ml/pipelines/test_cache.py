"""The definition cache returns the very bytes a build gives, and never a stale entry."""
from __future__ import annotations

import dataclasses

import pytest

from ml.pipelines import cache
from ml.pipelines.training import training_definition
from tests.ml.pipelines.sample import sample_settings


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_SWITCH, str(tmp_path / "defs"))
    return tmp_path / "defs"


def _counting(build):
    calls = []

    def wrapped(settings):
        calls.append(settings)
        return build(settings)
    return wrapped, calls


def test_a_hit_returns_the_same_bytes_without_building(cache_root):
    build, calls = _counting(training_definition)
    first = cache.cached("training", build, sample_settings())
    second = cache.cached("training", build, sample_settings())
    assert first == second == training_definition(sample_settings())
    assert len(calls) == 1
    assert len(list(cache_root.glob("training-*.json"))) == 1


def test_any_settings_change_is_a_new_key(cache_root):
    base = sample_settings()
    assert cache.cache_key("training", base) == cache.cache_key("training", sample_settings())
    for change in (dict(auc_threshold=0.81), dict(tags={"stack": "prod"}), dict(network_isolation=False)):
        assert cache.cache_key("training", dataclasses.replace(base, **change)) != cache.cache_key("training", base)
    assert cache.cache_key("inference", base) != cache.cache_key("training", base)


def test_a_change_to_our_source_is_a_new_key(cache_root, monkeypatch):
    before = cache.cache_key("training", sample_settings())
    monkeypatch.setattr(cache, "_source_digest", lambda: "another-source")
    assert cache.cache_key("training", sample_settings()) != before


def test_an_unreadable_entry_is_rebuilt(cache_root):
    build, calls = _counting(lambda s: '{"built": true}')
    key = cache.cache_key("training", sample_settings())
    cache_root.mkdir(parents=True)
    (cache_root / f"training-{key}.json").write_bytes(b"\xff\xfe not utf-8")
    assert cache.cached("training", build, sample_settings()) == '{"built": true}'
    assert len(calls) == 1


def test_off_always_builds(monkeypatch):
    monkeypatch.setenv(cache.ENV_SWITCH, "off")
    build, calls = _counting(lambda s: "{}")
    cache.cached("training", build, sample_settings())
    cache.cached("training", build, sample_settings())
    assert len(calls) == 2


def test_each_model_has_its_own_entries(cache_root):
    """Two models of one stack differ in their settings (names, hyperparameters, schema, prefixes),
    so each gets its own entry, and a hit returns that model's bytes."""
    first = sample_settings()
    second = sample_settings(training_pipeline_name="mlops-dev-m01-training",
                             inference_pipeline_name="mlops-dev-m01-inference",
                             hyperparameters={"num_round": "80", "max_depth": "3"},
                             training_data_key="datasets/m01/training/")
    for field_change in (dict(hyperparameters={"num_round": "51"}), dict(training_data_key="datasets/x/training/"),
                         dict(schema_uri=first.schema_uri.replace("00112233445566ff", "0011223344556600"))):
        assert cache.cache_key("training", dataclasses.replace(first, **field_change)) != \
            cache.cache_key("training", first)
    build, calls = _counting(training_definition)
    built = {s.training_pipeline_name: cache.cached("training", build, s) for s in (first, second, first, second)}
    assert len(calls) == 2
    assert len(list(cache_root.glob("training-*.json"))) == 2
    assert built["mlops-dev-training"] == training_definition(first)
    assert built["mlops-dev-m01-training"] == training_definition(second)
    assert '"num_round":"80"' in built["mlops-dev-m01-training"]


def test_derived_files_are_cached_by_their_inputs(cache_root):
    """Seed data (components/ml_code.py): a repeated preview of many models imports no pandas."""
    calls = []

    def build(text: str):
        def derive():
            calls.append(text)
            return {"initial_train": text.encode(), "batch_clean": b"\x00\xff binary"}
        return derive

    first = cache.cached_files("seed", {"model": "a", "data_sha256": "1"}, build("a"), distributions=("numpy",))
    again = cache.cached_files("seed", {"model": "a", "data_sha256": "1"}, build("a"), distributions=("numpy",))
    other = cache.cached_files("seed", {"model": "a", "data_sha256": "2"}, build("b"), distributions=("numpy",))
    assert first == again == {"initial_train": b"a", "batch_clean": b"\x00\xff binary"}
    assert other["initial_train"] == b"b"
    assert calls == ["a", "b"]
    for entry in cache_root.glob("seed-*.json"):
        entry.write_text("not json")  # a damaged entry is rebuilt, never returned
    assert cache.cached_files("seed", {"model": "a", "data_sha256": "1"}, build("a"), distributions=("numpy",)) == first
    assert calls == ["a", "b", "a"]
