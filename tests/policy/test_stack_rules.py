"""Stack-level rules on small hand-built stacks: companions, retention, cross-account wiring."""
from __future__ import annotations

import dataclasses

from mlops_policies import stack, storage
from mlops_policies.model import Resource
from tests.policy.fixtures import ACCOUNTS, CMK, allow, ctx, doc, res, tls_only

KEY = res(storage.KMS_KEY, name="data-key", urn="urn:key", enableKeyRotation=True, deletionWindowInDays=30)


def bucket_stack(*, drop: str | None = None, by_dependency: bool = True) -> list[Resource]:
    """A bucket with its four companions; they name the bucket by dependency (new bucket,
    id unknown) or by its name (existing bucket)."""
    bucket = res(storage.BUCKET, name="data", urn="urn:bucket", bucket="mlops-dev-data", forceDestroy=False)
    ref = {"bucket": "unknown"} if by_dependency else {"bucket": "mlops-dev-data"}
    deps = {"bucket": frozenset({"urn:bucket"})} if by_dependency else {}
    companions = {
        storage.SSE[0]: dict(rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                            "kmsMasterKeyId": CMK}}]),
        storage.PUBLIC_ACCESS_BLOCK[0]: {},
        storage.VERSIONING[0]: dict(versioningConfiguration={"status": "Enabled"}),
        storage.BUCKET_POLICY[0]: dict(policy=doc(tls_only())),
    }
    out = [bucket, KEY]
    for type_, props in companions.items():
        if type_ != drop:
            r = res(type_, name="data", **ref, **props)
            extra = {"rules": frozenset({KEY.urn})} if type_ == storage.SSE[0] else {}
            out.append(dataclasses.replace(r, dependencies={**deps, **extra}))
    return out


def test_a_bucket_with_all_companions_passes_by_dependency_or_by_name():
    assert stack.check_bucket_companions(bucket_stack(), ctx()) == []
    assert stack.check_bucket_companions(bucket_stack(by_dependency=False), ctx()) == []


def test_a_bucket_missing_any_companion_is_a_violation():
    for type_ in (storage.SSE[0], storage.PUBLIC_ACCESS_BLOCK[0], storage.VERSIONING[0], storage.BUCKET_POLICY[0]):
        [(message, urn)] = stack.check_bucket_companions(bucket_stack(drop=type_), ctx())
        assert urn == "urn:bucket" and type_.rsplit(":", 1)[-1] in message


def test_a_companion_of_another_bucket_does_not_count():
    other = [dataclasses.replace(r, dependencies={"bucket": frozenset({"urn:other"})}, props={**r.props, "bucket": "x"})
             if r.type in storage.PUBLIC_ACCESS_BLOCK else r for r in bucket_stack()]
    assert len(stack.check_bucket_companions(other, ctx())) == 1


def test_retaining_stacks_keep_buckets_and_their_keys():
    assert stack.check_retention(bucket_stack(), ctx("prod")) == []
    assert stack.data_keys(bucket_stack()) == [KEY]


def test_retention_violations_name_bucket_and_key():
    resources = [dataclasses.replace(r, props={**r.props, "forceDestroy": True}) if r.type == storage.BUCKET else
                 dataclasses.replace(r, props={**r.props, "deletionWindowInDays": 7}) if r.type == storage.KMS_KEY else r
                 for r in bucket_stack()]
    messages = [m for m, _ in stack.check_retention(resources, ctx("prod"))]
    assert len(messages) == 2 and "force_destroy=True" in messages[0] and "deletion_window_in_days=7" in messages[1]
    # dev opts out of retention: the same resources are fine there.
    assert stack.check_retention(resources, ctx("dev")) == []


def test_retain_on_delete_is_checked_where_it_is_visible():
    resources = [dataclasses.replace(r, retain_on_delete=False) if r.type == storage.BUCKET else r
                 for r in bucket_stack()]
    [(message, _)] = stack.check_retention(resources, ctx("prod"))
    assert "retain_on_delete=False" in message


GROUP_ARN = f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS['registry']}:model-package-group/models"
OTHER_GROUP_ARN = GROUP_ARN.replace("/models", "/other-models")
# What the program writes: every model's group of the registry account by one pattern.
EVERY_GROUP = GROUP_ARN.replace("/models", "/*")
REGISTRY_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNTS['registry']}:key/abc"


def workload(group=EVERY_GROUP, key=REGISTRY_KEY, ref="org/mlops-platform/registry", outputs=None):
    policy = doc(allow(["sagemaker:CreateModelPackage"], [group]), allow(["kms:Decrypt"], [key]))
    reference = Resource(stack.STACK_REFERENCE, ref, {"name": ref, "outputs": outputs or {}}, urn="urn:ref")
    return [reference, res(stack.ROLE_POLICY, name="sagemaker-policy", policy=policy)]


def test_workload_wired_to_the_registry_groups_and_key_passes():
    assert stack.check_cross_account(workload(), ctx("dev")) == []
    outputs = {"modelPackageGroupArn": GROUP_ARN, "artifactsKeyArn": REGISTRY_KEY,
               "modelPackageGroups": {"a": {"arn": GROUP_ARN}, "b": {"arn": OTHER_GROUP_ARN}}}
    assert stack.check_cross_account(workload(outputs=outputs), ctx("dev")) == []


def test_workload_wired_elsewhere_is_a_violation():
    [(message, _)] = stack.check_cross_account(workload(group=GROUP_ARN), ctx("dev"))
    assert "central group" in message and OTHER_GROUP_ARN in message  # every model's group, not the first only
    other_group = GROUP_ARN.replace("models", "other")
    assert "central group" in stack.check_cross_account(workload(group=other_group), ctx("dev"))[0][0]
    own_key = REGISTRY_KEY.replace(ACCOUNTS["registry"], ACCOUNTS["dev"])
    assert "artifacts key" in stack.check_cross_account(workload(key=own_key), ctx("dev"))[0][0]
    stale = {"artifactsKeyArn": REGISTRY_KEY.replace("abc", "new")}
    assert "artifacts key" in stack.check_cross_account(workload(outputs=stale), ctx("dev"))[0][0]
    assert "StackReference" in stack.check_cross_account(workload(ref="org/x/registry"), ctx("dev"))[0][0]


def registry_stack(principals, groups=("models", "other-models")):
    key = dataclasses.replace(KEY, props={**KEY.props, "policy": doc(allow(["kms:Decrypt"], "*",
                                                                          Principal={"AWS": principals}))})
    policies = [res("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", name=f"{g}-policy",
                    modelPackageGroupName=g) for g in groups]
    return [key, *policies] + [r for r in bucket_stack() if r.type != storage.KMS_KEY]


def test_registry_shares_its_artifacts_key_with_dev_and_prod():
    both = [f"arn:aws:iam::{ACCOUNTS[r]}:root" for r in ("registry", "dev", "prod")]
    assert stack.check_cross_account(registry_stack(both), ctx("registry")) == []
    [(missing, _)] = stack.check_cross_account(registry_stack(both, groups=("models",)), ctx("registry"))
    assert "No model package group policy for other-models" in missing
    [(message, urn)] = stack.check_cross_account(registry_stack(both[:2]), ctx("registry"))
    assert "['prod']" in message and urn == KEY.urn
