"""How a config value reads, for the program's settings and the policy pack alike."""
from __future__ import annotations

import pytest

from mlops_facts import stack_config as sc


@pytest.mark.parametrize("value", ['{"a": 1}', {"a": 1}])
def test_a_map_reads_from_the_engines_json_or_structured(value):
    assert sc.decode(value, dict) == {"a": 1}


@pytest.mark.parametrize("value, message", [
    ("{a: 1", "must be a map, got text that is not JSON"),
    ("[1]", "must be a map, got list [1]"),
    (["x"], "must be a map, got list"),
])
def test_a_map_of_the_wrong_shape_says_what_was_expected(value, message):
    with pytest.raises(sc.ConfigValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sc.decode(value, dict)


@pytest.mark.parametrize("value, expected", [(True, True), ("true", True), ("True", True), (False, False),
                                             ("false", False), ("False", False)])
def test_booleans_read_as_pulumi_reads_them(value, expected):
    assert sc.boolean(value) is expected


@pytest.mark.parametrize("value, meant", [("yes", "true"), ("on", "true"), ("Y", "true"), ("no", "false"),
                                          ("OFF", "false")])
def test_yaml_1_1_spellings_are_refused_with_the_word_that_means_them(value, meant):
    with pytest.raises(sc.ConfigValueError, match=f"is text, not the boolean {meant}.*write {meant}"):
        sc.boolean(value)


def test_data_is_kept_by_default_where_models_live():
    assert [r for r in sc.ROLES if sc.retain_data_default(r)] == ["registry", "prod"]
    assert sc.retain_data_default(None) is False
