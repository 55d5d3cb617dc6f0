"""AWS regions and partitions: the one region pattern and the regions that exist.

The lists are botocore's `endpoints.json` partitions aws, aws-us-gov and aws-cn (botocore
1.44); a test compares them with the installed botocore, so an upgrade that adds a region
fails loudly instead of silently rejecting it.
"""
from __future__ import annotations

import re
from typing import Literal

Partition = Literal["aws", "aws-us-gov", "aws-cn"]

# The shape of a region name in the three partitions the platform supports: `eu-west-1`,
# `us-gov-west-1`, `cn-northwest-1`. A shape is not an existence proof: see KNOWN_REGIONS.
REGION = re.compile(r"(?:[a-z]{2}|us-gov)-[a-z]+-\d{1,2}")

KNOWN_REGIONS: dict[Partition, tuple[str, ...]] = {
    "aws": (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
        "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
        "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
        "us-west-1", "us-west-2",
    ),
    "aws-us-gov": ("us-gov-east-1", "us-gov-west-1"),
    "aws-cn": ("cn-north-1", "cn-northwest-1"),
}

# Regions where the SageMaker built-in images the pipelines use (scikit-learn 1.4-2 and
# XGBoost 3.0-5, ml/contract.py) are published, per the SageMaker SDK's image config (3.27):
# every known region but these. A test derives the same set from the SDK.
WITHOUT_PIPELINE_IMAGES: frozenset[str] = frozenset(
    {"ap-east-2", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "mx-central-1"})


def partition(region: str) -> Partition:
    """The partition a region belongs to (`arn:<partition>:...`); ValueError for a non-region."""
    if not REGION.fullmatch(region):
        raise ValueError(f"{region!r} is not an AWS region name such as eu-west-1")
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def is_known(region: str) -> bool:
    return any(region in regions for regions in KNOWN_REGIONS.values())


def all_known() -> tuple[str, ...]:
    return tuple(sorted(r for regions in KNOWN_REGIONS.values() for r in regions))


def region_problem(region: str) -> str | None:
    """Why `region` cannot host this platform, or None. Names the closest real regions."""
    import difflib

    if not REGION.fullmatch(region):
        return f"{region!r} is not an AWS region name such as eu-west-1."
    if not is_known(region):
        near = difflib.get_close_matches(region, all_known(), n=3)
        hint = f" Did you mean {' or '.join(near)}?" if near else ""
        return f"{region!r} is not an AWS region.{hint}"
    if region in WITHOUT_PIPELINE_IMAGES:
        return (f"{region!r} has no SageMaker scikit-learn 1.4-2 / XGBoost 3.0-5 images, which the "
                "pipelines run on: choose another region.")
    return None
