"""YAML read as the Pulumi CLI reads it (YAML 1.2, go-yaml v3), not as PyYAML's YAML 1.1."""
from __future__ import annotations

import pytest

from mlops_platform.offline.yaml12 import DuplicateKey, read_yaml


def test_yaml_1_1_spellings_stay_text_as_the_cli_reads_them():
    data = read_yaml("a: yes\nb: on\nc: off\nd: 2024-01-01\ne: 1:20\nf: true\ng: False\n")
    assert data == {"a": "yes", "b": "on", "c": "off", "d": "2024-01-01", "e": "1:20", "f": True, "g": False}


def test_yaml_1_2_numbers():
    assert read_yaml("a: 017\nb: 0o17\nc: 0x1f\nd: 0.85\ne: 1e3\nf: -4\n") == {
        "a": 17, "b": 15, "c": 31, "d": 0.85, "e": 1000.0, "f": -4}


def test_a_key_written_twice_is_an_error_with_both_lines():
    with pytest.raises(DuplicateKey) as caught:
        read_yaml("config:\n  a: 1\n  b: 2\n  a: 3\n")
    assert (caught.value.key, caught.value.first, caught.value.again) == ("a", 2, 4)
