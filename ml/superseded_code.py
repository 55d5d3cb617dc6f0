"""Superseded step scripts: kept readable for the executions that still need them, then
expired by the data bucket's lifecycle, never before.

Step scripts live under content-addressed keys (ml/packaging.py), and a pipeline execution
reads each step's script when that step starts, from the URI in the definition the execution
started with. A deploy that changes a script must therefore leave the old key in place, or
an execution in flight finds no code for its later steps: the program keeps the old object
(`retain_on_delete` on the upload) and `SupersededCode` tags it `contract.SUPERSEDED_TAG`.
The bucket expires tagged objects under the scripts' prefix only (`lifecycle_rule`).

Why a tag, and why a copy: S3 lifecycle rules select by prefix, tag and size and count the
days from when the object version was written. An age rule on `code/` alone would delete the
current scripts of a stack that has not been deployed for that long; the only difference
between current and superseded code that S3 can see is one we write. Tagging alone would not
restart the clock, so a script current for a year would expire the day after it was
superseded, under a running execution; marking therefore copies the object onto itself with
the tag, and the grace period counts from the marking. The copy leaves the previous version
noncurrent, which the bucket's noncurrent-version rule removes. A script that becomes current
again is uploaded afresh (a new, untagged version) and is not expired.

The provider process imports this module, so it stays light: boto3 only inside calls.
"""
from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from ml import contract

# Longer than any execution can wait between its start and its last step (each job is
# bounded to a day at most by PipelineSettings, and steps retry for minutes, not days).
GRACE_DAYS = 30
SUPERSEDED = "true"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d$")


def lifecycle_rule(prefix: str = contract.STEP_SCRIPTS_PREFIX, days: int = GRACE_DAYS) -> dict[str, Any]:
    """The bucket lifecycle rule that expires marked scripts `days` after marking.

    Only objects under `prefix` that carry the tag match: current scripts never do.
    """
    return {
        "id": "expire-superseded-step-scripts",
        "status": "Enabled",
        "filter": {"and": {"prefix": f"{prefix.rstrip('/')}/", "tags": {contract.SUPERSEDED_TAG: SUPERSEDED}}},
        "expiration": {"days": days},
    }


def _s3(region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session(region_name=region).client(
        "s3", config=Config(retries={"mode": "standard", "total_max_attempts": 6}))


def mark_superseded(s3: Any, bucket: str, key: str) -> bool:
    """Re-write `key` in place with the superseded tag; False when the object is gone.

    HeadObject (content type, metadata), GetObjectTagging (tags kept), then CopyObject onto
    itself (metadata replaced by the same values, which S3 requires of a copy onto itself).
    """
    from botocore.exceptions import ClientError

    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    tags[contract.SUPERSEDED_TAG] = SUPERSEDED
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                   MetadataDirective="REPLACE", ContentType=head.get("ContentType", "binary/octet-stream"),
                   Metadata=head.get("Metadata", {}),
                   TaggingDirective="REPLACE", Tagging=urllib.parse.urlencode(sorted(tags.items())))
    return True


def check_inputs(props: Mapping[str, Any]) -> list[str]:
    """Every problem with the inputs, each naming the field and the expected shape."""
    problems = []
    if not isinstance(props.get("bucket"), str) or not _BUCKET.match(props["bucket"]):
        problems.append(f"bucket must be a bucket name such as 'mlops-dev-data', got {props.get('bucket')!r}")
    if not isinstance(props.get("region"), str) or not _REGION.match(props["region"]):
        problems.append(f"region must be an AWS region such as 'eu-west-1', got {props.get('region')!r}")
    keys = props.get("keys")
    prefix = f"{contract.STEP_SCRIPTS_PREFIX}/"
    if not isinstance(keys, list) or not all(isinstance(k, str) and k.startswith(prefix) for k in keys):
        problems.append(f"keys must be a list of object keys under {prefix}, got {keys!r}")
    return problems


class SupersededCodeProvider(pulumi.dynamic.ResourceProvider):
    """Marks the keys that left `keys` since the last deploy; never deletes anything.

    create and read call nothing (a first deploy has no predecessors); update marks each key
    in the old input but not in the new one; delete calls nothing (a destroyed dev bucket goes
    with its objects, a kept prod bucket keeps its last scripts current).
    """

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        failures = [pulumi.dynamic.CheckFailure(p.split(" ", 1)[0], p) for p in check_inputs(news)]
        return pulumi.dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(f"{props['bucket']}/{contract.STEP_SCRIPTS_PREFIX}",
                                           {**props, "superseded": []})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        changed = [k for k in ("bucket", "region", "keys") if _plain(olds.get(k)) != _plain(news.get(k))]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[k for k in changed if k != "keys"],
                                         delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        left = sorted(set(olds.get("keys", [])) - set(news["keys"]))
        s3 = _s3(news["region"]) if left else None
        marked = [key for key in left if mark_superseded(s3, news["bucket"], key)]
        return pulumi.dynamic.UpdateResult({**news, "superseded": marked})

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        return pulumi.dynamic.ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


def _plain(value: Any) -> Any:
    """Keys compare as a set: their order never makes a diff."""
    return sorted(value) if isinstance(value, list) else value


@dataclass(frozen=True)
class SupersededCodeArgs:
    bucket: str
    region: str
    keys: Sequence[str]
    """The step scripts' current keys: those the definitions being deployed refer to."""


class SupersededCode(pulumi.dynamic.Resource, module="mlops", name="SupersededCode"):
    """Marks step scripts a deploy no longer refers to, so the bucket expires them later."""

    superseded: pulumi.Output[list[str]]

    def __init__(self, name: str, args: SupersededCodeArgs, opts: pulumi.ResourceOptions | None = None):
        props = {"bucket": args.bucket, "region": args.region, "keys": sorted(args.keys)}
        problems = check_inputs(props)
        if problems:
            raise ValueError(f"SupersededCode {name}: " + "; ".join(problems))
        super().__init__(SupersededCodeProvider(), name, {**props, "superseded": None}, opts)
