"""Where AWS publishes the built-in images the pipelines run, per region.

Read from the SageMaker SDK's own image configuration (`sagemaker/core/image_uri_config/*.json`)
without importing the SDK (importing `sagemaker.core.image_uris` costs seconds, and an IAM
document must not wait for it). The execution role pulls images only from this account, and
the latest-approved-model Lambda accepts only model images from it; a test compares the
result with `image_uris.retrieve`.
"""
from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

from ml import contract
from mlops_facts import partition

# (framework config file, scope, version): the images the pipelines and registered models use.
XGBOOST = ("xgboost", "training", contract.XGBOOST_FRAMEWORK_VERSION)
SKLEARN = ("sklearn", "training", contract.SKLEARN_FRAMEWORK_VERSION)
_DOMAIN = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn"}


@functools.cache
def _config(framework: str) -> dict:
    spec = importlib.util.find_spec("sagemaker")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the SageMaker SDK is not installed: pip install -c constraints.txt -e .")
    root = Path(next(iter(spec.submodule_search_locations)))
    return json.loads((root / "core" / "image_uri_config" / f"{framework}.json").read_text())


def _entry(image: tuple[str, str, str]) -> dict:
    framework, scope, version = image
    return _config(framework)[scope]["versions"][version]


def algorithm_account(region: str, image: tuple[str, str, str] = XGBOOST) -> str:
    """The AWS account that publishes `image` in `region` (the same for both images so far)."""
    registries = _entry(image)["registries"]
    if region not in registries:
        raise ValueError(f"no {image[0]} {image[2]} image in {region}: choose a region where SageMaker publishes it")
    return str(registries[region])


def repository(region: str, image: tuple[str, str, str] = XGBOOST) -> str:
    """`<account>.dkr.ecr.<region>.<domain>/<repository>`: an image URI up to its tag."""
    return (f"{algorithm_account(region, image)}.dkr.ecr.{region}.{_DOMAIN[partition(region)]}/"
            f"{_entry(image)['repository']}")


def repository_names() -> list[str]:
    """The ECR repository names of the pipelines' images."""
    return sorted({_entry(image)["repository"] for image in (XGBOOST, SKLEARN)})
