"""ARNs with the partition taken from the region, so GovCloud and China stacks are right too.

`arn:<partition>:<service>:<region>:<account>:<resource>`. IAM and STS are global: their ARNs
have an empty region field. S3 bucket and object ARNs have empty region and account fields
(`arn:aws:s3:::bucket/key`): pass `account=""` for them.
"""
from __future__ import annotations

from mlops_facts.regions import partition

# Services whose ARNs carry no region (the region still decides the partition).
GLOBAL_SERVICES = frozenset({"iam", "sts", "s3", "cloudfront", "route53", "organizations"})


def arn(service: str, region: str, account: str, resource: str) -> str:
    """The ARN of `resource` in `service`; `region` decides the partition (and the region field)."""
    if service == "s3" and account:
        raise ValueError(f"S3 bucket and object ARNs have no account field; got account {account!r} "
                         f"for {resource!r}: pass account=\"\"")
    if service != "s3" and not account:
        raise ValueError(f"{service} ARNs name an account; got none for {resource!r}")
    region_field = "" if service in GLOBAL_SERVICES else region
    return f"arn:{partition(region)}:{service}:{region_field}:{account}:{resource}"
