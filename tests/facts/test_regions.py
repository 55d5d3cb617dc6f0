"""The one region list and pattern, checked against botocore and the SageMaker SDK."""
from __future__ import annotations

import botocore.session
import pytest

from mlops_facts import regions
from mlops_facts.regions import KNOWN_REGIONS, REGION, partition, region_problem


def _botocore_regions() -> dict[str, set[str]]:
    endpoints = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    return {p["partition"]: set(p["regions"]) for p in endpoints["partitions"]}


def test_known_regions_are_botocores_regions_of_the_three_partitions():
    botocore_regions = _botocore_regions()
    assert {p: set(r) for p, r in KNOWN_REGIONS.items()} == {p: botocore_regions[p] for p in KNOWN_REGIONS}


def test_every_known_region_has_the_shape_and_partition_the_pattern_says():
    for name, members in KNOWN_REGIONS.items():
        for region in members:
            assert REGION.fullmatch(region)
            assert partition(region) == name


def test_regions_without_the_pipeline_images_are_exactly_those_the_sdk_cannot_resolve():
    from sagemaker.core import image_uris

    from ml import contract

    missing = set()
    for region in regions.all_known():
        try:
            image_uris.retrieve("sklearn", region, version=contract.SKLEARN_FRAMEWORK_VERSION)
            image_uris.retrieve("xgboost", region, version=contract.XGBOOST_FRAMEWORK_VERSION)
        except ValueError:
            missing.add(region)
    assert missing == set(regions.WITHOUT_PIPELINE_IMAGES)


@pytest.mark.parametrize("region, expected", [
    ("eu-west-1", None),
    ("us-gov-west-1", None),
    ("cn-northwest-1", None),
    ("eu-west-9", "'eu-west-9' is not an AWS region. Did you mean"),
    ("EU-west-1", "is not an AWS region name"),
    ("eu-west", "is not an AWS region name"),
    ("mx-central-1", "has no SageMaker scikit-learn 1.4-2 / XGBoost 3.0-5 images"),
])
def test_region_problem_names_the_fix(region, expected):
    problem = region_problem(region)
    assert problem is None if expected is None else expected in problem


def test_partition_refuses_a_non_region():
    with pytest.raises(ValueError, match="not an AWS region name"):
        partition("arn:aws:iam")
