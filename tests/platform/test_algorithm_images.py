"""Where AWS publishes the pipelines' images, read without importing the SageMaker SDK, agrees
with the SDK's own `image_uris.retrieve`."""
from __future__ import annotations

import pytest

from ml import contract
from mlops_facts.regions import KNOWN_REGIONS, WITHOUT_PIPELINE_IMAGES
from mlops_platform import algorithm_images as images


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-2"])
def test_the_repositories_are_those_the_sdk_retrieves(region):
    from sagemaker.core import image_uris

    xgboost = image_uris.retrieve("xgboost", region, version=contract.XGBOOST_FRAMEWORK_VERSION)
    sklearn = image_uris.retrieve("sklearn", region, version=contract.SKLEARN_FRAMEWORK_VERSION)
    assert xgboost.startswith(f"{images.repository(region)}:")
    assert sklearn.startswith(f"{images.repository(region, images.SKLEARN)}:")


def test_both_images_come_from_one_account_in_every_region_the_platform_accepts():
    # The workload boundary names one ECR account per region for both repositories.
    regions = [r for rs in KNOWN_REGIONS.values() for r in rs if r not in WITHOUT_PIPELINE_IMAGES]
    for region in regions:
        assert images.algorithm_account(region) == images.algorithm_account(region, images.SKLEARN), region


def test_a_region_without_the_images_is_named():
    with pytest.raises(ValueError, match="no xgboost .* in mx-central-1"):
        images.algorithm_account("mx-central-1")
