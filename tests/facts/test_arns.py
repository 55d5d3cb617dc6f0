"""ARNs take their partition from the region; global services leave the region field empty."""
from __future__ import annotations

import pytest

from mlops_facts import arn

ACCOUNT = "111111111111"


@pytest.mark.parametrize("service, region, account, resource, expected", [
    ("kms", "eu-west-1", ACCOUNT, "key/k", "arn:aws:kms:eu-west-1:111111111111:key/k"),
    ("kms", "us-gov-west-1", ACCOUNT, "key/k", "arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/k"),
    ("sagemaker", "cn-north-1", ACCOUNT, "pipeline/p", "arn:aws-cn:sagemaker:cn-north-1:111111111111:pipeline/p"),
    ("iam", "us-gov-east-1", ACCOUNT, "role/r", "arn:aws-us-gov:iam::111111111111:role/r"),
    ("iam", "eu-west-1", ACCOUNT, "role/r", "arn:aws:iam::111111111111:role/r"),
    ("s3", "cn-northwest-1", "", "bucket/*", "arn:aws-cn:s3:::bucket/*"),
    ("s3", "eu-west-1", "", "bucket", "arn:aws:s3:::bucket"),
    ("lambda", "eu-west-1", ACCOUNT, "function:f", "arn:aws:lambda:eu-west-1:111111111111:function:f"),
])
def test_arn(service, region, account, resource, expected):
    assert arn(service, region, account, resource) == expected


def test_s3_arns_refuse_an_account_and_others_require_one():
    with pytest.raises(ValueError, match="no account field"):
        arn("s3", "eu-west-1", ACCOUNT, "bucket")
    with pytest.raises(ValueError, match="name an account"):
        arn("kms", "eu-west-1", "", "key/k")
    with pytest.raises(ValueError, match="not an AWS region name"):
        arn("kms", "eu-west", ACCOUNT, "key/k")
