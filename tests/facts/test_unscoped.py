"""The actions AWS authorises only on "*", checked against the Service Authorization Reference
as parliament ships it (the program's, the pack's and the tests' former three lists are one)."""
from __future__ import annotations

import json
from pathlib import Path

import parliament

from mlops_facts.unscoped import UNSCOPED_ACTIONS, is_unscoped, scoped

# Documented in unscoped.py: the reference lists an optional resource type for it.
OPTIONAL_RESOURCE_TYPE = {"sagemaker:ListModelPackages": "model-package"}


def _reference() -> dict[str, list[str]]:
    data = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    return {f"{s['prefix']}:{p['privilege']}": [r["resource_type"] for r in p["resource_types"]]
            for s in data for p in s["privileges"]}


def test_every_listed_action_exists_and_has_no_resource_type():
    reference = _reference()
    for action in UNSCOPED_ACTIONS:
        assert action in reference, f"{action} is not an IAM action (spelling?)"
        types = [t for t in reference[action] if t]
        assert types == ([OPTIONAL_RESOURCE_TYPE[action]] if action in OPTIONAL_RESOURCE_TYPE else []), action


def test_every_entry_gives_its_reason():
    assert all(len(reason) > 20 for reason in UNSCOPED_ACTIONS.values())


def test_matching_is_case_insensitive_like_iam():
    assert is_unscoped("EC2:describesubnets")
    assert scoped(["s3:GetObject", "ec2:DescribeVpcs", "kms:Decrypt"]) == ["kms:Decrypt", "s3:GetObject"]
