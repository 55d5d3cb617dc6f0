"""An approved model archive swapped after approval is never served (issue 14), decided by the
offline evaluator on the real documents of stacks that serve every model in dev and prod.

The workload that trained a version can always rewrite its own `models/<stack>/` prefix. The
approve-model workflow checks the archive's sha256 against the version's `model_data_sha256` and
tags exactly the object version it read `mlops-verified=<sha256>` before it approves
(tests/github/test_approval_verification.py). The registry bucket lets endpoints read an archive
only while its current version carries that tag, and lets nobody but the registry's model approver
role set, change or remove it, write an object carrying it, or copy an object (and its tags) into
`models/`. An overwrite makes a new, untagged current version: the swap fails closed.
"""
from __future__ import annotations

import pytest

from ml.contract import VERIFIED_TAG
from tests.security.names import ACCOUNTS, ARTIFACTS, ARTIFACTS_KEY, REGION, ask, role
from tests.security.verdicts import assert_allowed, assert_refused
from tests.security.world import ALLOW_EVERYTHING

APPROVER = role("registry", "github-model-approver")
VIA_S3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
DIGEST = "ab" * 32
VERIFIED = {f"s3:ExistingObjectTag/{VERIFIED_TAG}": DIGEST}
SETS_THE_TAG = {"s3:RequestObjectTagKeys": [VERIFIED_TAG]}
TAGGING = ["s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging",
           "s3:DeleteObjectVersionTagging"]
MODELS = ["mammography", "wdbc"]


def archive(source: str = "dev", model: str = "wdbc") -> str:
    """A version's ModelDataUrl (the first model keeps the prefix it had: no model folder)."""
    prefix = f"models/{source}/mlops-{source}-training" if model == "mammography" else \
        f"models/{source}/{model}/mlops-{source}-{model}-training"
    return f"{ARTIFACTS}/{prefix}/exec-1/TrainXGBoost/model/job/output/model.tar.gz"


def rewritten(world, arn: str):
    """The role as a compromised account's administrator would leave it: everything, no boundary."""
    return world.with_role(arn, policies=[ALLOW_EVERYTHING], boundary=None)


# Every workload role, and the registry's other roles: none may mark an archive verified.
OTHERS = [role(stack, purpose) for stack in ("dev", "prod")
          for purpose in ("sagemaker-execution", "model-lookup-lambda", "github-deploy",
                          *(f"serving-{m}" for m in MODELS))] \
    + [role("registry", p) for p in ("github-deploy", "github-preview", "github-model-reviewer")]


# ------------------------------------------------------------------ what still works

@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("model", MODELS)
def test_an_endpoint_reads_a_verified_archive(served_world, stack, model):
    assert_allowed(served_world, ask(role(stack, f"serving-{model}"), "s3:GetObject", archive("dev", model), VERIFIED))


def test_the_approver_reads_decrypts_and_tags_exactly_the_version_it_checked(served_world):
    assert_allowed(served_world, ask(APPROVER, "s3:GetObject", archive()))
    assert_allowed(served_world, ask(APPROVER, "kms:Decrypt", ARTIFACTS_KEY, VIA_S3))
    assert_allowed(served_world, ask(APPROVER, "s3:PutObjectVersionTagging", archive("prod", "mammography"),
                                     SETS_THE_TAG))


def test_the_approver_gains_nothing_else(served_world):
    assert_refused(served_world, ask(APPROVER, "kms:Decrypt", ARTIFACTS_KEY))  # not outside S3
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectVersionTagging"):
        assert_refused(served_world, ask(APPROVER, action, archive()))
    assert_refused(served_world, ask(APPROVER, "s3:GetObject", f"{ARTIFACTS}/other/file"))
    assert_refused(served_world, ask(APPROVER, "s3:PutObjectVersionTagging", f"{ARTIFACTS}/other/file"))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_training_evaluate_and_the_lookups_are_unaffected(served_world, stack):
    trainer, lookup = role(stack, "sagemaker-execution"), role(stack, "model-lookup-lambda")
    own = archive(stack)
    assert_allowed(served_world, ask(trainer, "s3:PutObject", own))  # a training output, untagged
    assert_allowed(served_world, ask(trainer, "s3:GetObject", own))  # evaluate reads it, untagged
    assert_allowed(served_world, ask(lookup, "s3:GetObject", archive("dev")))  # the batch path checks digests
    assert_allowed(served_world, ask(lookup, "s3:GetObject", own))


# ------------------------------------------------------------------ what a swap cannot do

@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("model", MODELS)
def test_an_endpoint_never_reads_an_unverified_archive(served_world, stack, model):
    """An archive overwritten after approval is a new version without the tag."""
    serving = role(stack, f"serving-{model}")
    assert_refused(served_world, ask(serving, "s3:GetObject", archive("dev", model)))
    assert_refused(rewritten(served_world, serving), ask(serving, "s3:GetObject", archive("dev", model)))
    other_tag = {"s3:ExistingObjectTag/other": DIGEST}
    assert_refused(served_world, ask(serving, "s3:GetObject", archive("dev", model), other_tag))


@pytest.mark.parametrize("arn", OTHERS, ids=lambda a: a.rsplit("/", 1)[-1])
def test_nobody_but_the_approver_sets_or_removes_the_tag(served_world, arn):
    """Even a role its account's administrator rewrote to allow everything (the registry's own
    roles included: the deny names every principal but the approver)."""
    world = rewritten(served_world, arn)
    for source in ("dev", "prod"):
        target = archive(source)
        for action in TAGGING:
            assert_refused(world, ask(arn, action, target, SETS_THE_TAG))
        assert_refused(world, ask(arn, "s3:PutObject", target, SETS_THE_TAG))
        assert_refused(world, ask(arn, "s3:PutObject", target, {"s3:RequestObjectTagKeys": ["team", VERIFIED_TAG]}))
        # A copy keeps its source's tags: a verified archive copied over another version's key.
        assert_refused(world, ask(arn, "s3:PutObject", target, {"s3:x-amz-copy-source": f"{archive('dev', 'x')}"}))


def test_the_dev_training_role_as_deployed_cannot_tag_its_own_archive(served_world):
    trainer = role("dev", "sagemaker-execution")
    assert_allowed(served_world, ask(trainer, "s3:PutObject", archive()))
    for action in TAGGING:
        assert_refused(served_world, ask(trainer, action, archive(), SETS_THE_TAG))
    assert_refused(served_world, ask(trainer, "s3:PutObject", archive(), SETS_THE_TAG))


def test_the_one_exception_is_the_registrys_approver_role(served_world):
    """Named by ARN in the registry account (a trust anchor only an administrator's run changes)."""
    _, policy = served_world.resource_policies[ARTIFACTS]
    guards = [st for st in policy["Statement"] if st.get("Sid") in
              ("OnlyTheApproverTagsModels", "OnlyTheApproverWritesTheVerifiedTag", "NoCopiesIntoModels")]
    assert len(guards) == 3
    expected = f"arn:aws:iam::{ACCOUNTS['registry']}:role/mlops-registry-github-model-approver"
    assert all(st["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": expected} for st in guards)
