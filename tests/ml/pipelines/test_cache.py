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
