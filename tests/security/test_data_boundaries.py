"""Paths 4, 6, 7 and 8: who reads which models, the guardrails on jobs, what jobs trust in the
data bucket, and grants nobody used."""
from __future__ import annotations

import pytest

from tests.security.names import (
    ACCOUNTS,
    ARTIFACTS,
    ARTIFACTS_KEY,
    GROUP,
    NEW_VERSION,
    REGION,
    ask,
    boundary,
    data_bucket,
    data_key,
    pipeline,
    role,
)
from tests.security.verdicts import assert_allowed, assert_closed, assert_refused
from tests.security.world import ALLOW_EVERYTHING, World

VIA_S3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
DEV_MODEL = f"{ARTIFACTS}/models/dev/mlops-dev-training/exec-1/TrainXGBoost/model/job/output/model.tar.gz"
PROD_SPLIT = f"{ARTIFACTS}/models/prod/mlops-prod-training/exec-9/Preprocess/train/train.csv"


def everything(world: World, arn: str) -> World:
    """The role as a compromised account's administrator would leave it."""
    return world.with_role(arn, policies=[ALLOW_EVERYTHING], boundary=None)


# ------------------------------------------------------------------ path 4: dev reads prod

@pytest.mark.parametrize("purpose", ["sagemaker-execution", "model-lookup-lambda"])
def test_dev_reads_no_model_artifact_of_prod(world, before, purpose):
    arn = role("dev", purpose)
    assert_closed(everything(world, arn), everything(before, arn), ask(arn, "s3:GetObject", PROD_SPLIT))
    assert_closed(everything(world, arn), everything(before, arn),
                  ask(arn, "s3:ListBucket", ARTIFACTS, {"s3:prefix": "models/prod/"}))
    if purpose == "sagemaker-execution":  # as deployed, too
        assert_closed(world, before, ask(arn, "s3:GetObject", PROD_SPLIT))


def test_prod_still_reads_what_dev_trained_and_each_stack_its_own(world):
    prod_lookup = role("prod", "model-lookup-lambda")
    assert_allowed(world, ask(prod_lookup, "s3:GetObject", DEV_MODEL))
    assert_allowed(world, ask(prod_lookup, "s3:ListBucket", ARTIFACTS, {"s3:prefix": "models/dev/training/x/"}))
    assert_allowed(world, ask(prod_lookup, "kms:Decrypt", ARTIFACTS_KEY, VIA_S3))
    assert_allowed(world, ask(role("dev", "model-lookup-lambda"), "s3:GetObject", DEV_MODEL))
    for stack in ("dev", "prod"):
        trainer, own = role(stack, "sagemaker-execution"), f"{ARTIFACTS}/models/{stack}/run/model.tar.gz"
        for action in ("s3:GetObject", "s3:PutObject"):
            assert_allowed(world, ask(trainer, action, own))
        assert_allowed(world, ask(trainer, "kms:GenerateDataKey", ARTIFACTS_KEY, VIA_S3))
        assert_allowed(world, ask(trainer, "s3:ListBucket", ARTIFACTS, {"s3:prefix": f"models/{stack}/run/"}))


def test_a_workload_writes_only_its_own_prefix(world):
    for arn in (role("dev", "sagemaker-execution"), role("dev", "model-lookup-lambda")):
        assert_refused(everything(world, arn), ask(arn, "s3:PutObject", PROD_SPLIT))


# ------------------------------------------------------------------ path 6: guardrails CI cannot remove

def rewritten_execution_role(world: World, boundary_arn: str) -> World:
    """The deploy role rewrote the execution role's inline policy to allow everything."""
    return world.with_role(role("prod", "sagemaker-execution"), policies=[ALLOW_EVERYTHING], boundary=boundary_arn) \
        .with_role(role("dev", "sagemaker-execution"), policies=[ALLOW_EVERYTHING],
                   boundary=boundary_arn.replace("prod", "dev").replace(ACCOUNTS["prod"], ACCOUNTS["dev"]))


JOB = f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['prod']}:training-job/pipelines-abc"
SAFE = {"sagemaker:VolumeKmsKey": data_key("prod"), "sagemaker:VpcSubnets": ["subnet-0a1b2c3d4e5f60718"],
        "sagemaker:NetworkIsolation": "true"}


@pytest.mark.parametrize("missing", ["sagemaker:VolumeKmsKey", "sagemaker:VpcSubnets", "sagemaker:NetworkIsolation"])
def test_prod_job_guardrails_hold_even_when_ci_rewrites_the_role_policy(world, before, missing):
    context = {k: v for k, v in SAFE.items() if k != missing}
    if missing == "sagemaker:NetworkIsolation":
        context[missing] = "false"
    request = ask(role("prod", "sagemaker-execution"), "sagemaker:CreateTrainingJob", JOB, context)
    assert_closed(rewritten_execution_role(world, boundary("prod", "workload-boundary")),
                  rewritten_execution_role(before, boundary("prod")), request)
    assert_allowed(world, ask(role("prod", "sagemaker-execution"), "sagemaker:CreateTrainingJob", JOB, SAFE))


def test_dev_jobs_need_a_volume_key_too(world, before):
    job = JOB.replace(ACCOUNTS["prod"], ACCOUNTS["dev"]).replace("training-job", "processing-job")
    request = ask(role("dev", "sagemaker-execution"), "sagemaker:CreateProcessingJob", job)
    assert_closed(rewritten_execution_role(world, boundary("prod", "workload-boundary")),
                  rewritten_execution_role(before, boundary("prod")), request)
    assert_allowed(world, ask(role("dev", "sagemaker-execution"), "sagemaker:CreateProcessingJob", job,
                              {"sagemaker:VolumeKmsKey": data_key("dev")}))


# ------------------------------------------------------------------ path 7: what jobs trust

DATA_WRITER = f"arn:aws:iam::{ACCOUNTS['prod']}:role/landing-zone-writer"
CODE = f"{data_bucket('prod')}/code/steps/0123abcd/preprocess.py"
VERIFIED = f"{data_bucket('prod')}/verified-models/{'ab' * 32}/model.tar.gz"


def with_data_writer(world: World) -> World:
    """Someone the account lets write the data bucket (to land data)."""
    grant = {"Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                            "Resource": f"{data_bucket('prod')}/*"}]}
    return world.with_role(DATA_WRITER, policies=[grant], boundary=None)


@pytest.mark.parametrize("target", [CODE, VERIFIED])
def test_a_data_writer_cannot_replace_code_or_a_verified_model(world, before, target):
    assert_closed(with_data_writer(world), with_data_writer(before), ask(DATA_WRITER, "s3:PutObject", target))


def test_a_data_writer_still_lands_data(world):
    landed = f"{data_bucket('prod')}/datasets/training/increment-2025-06.data"
    assert_allowed(with_data_writer(world), ask(DATA_WRITER, "s3:PutObject", landed))


def test_jobs_read_code_but_write_only_their_outputs(world, before):
    trainer = role("prod", "sagemaker-execution")
    assert_allowed(world, ask(trainer, "s3:GetObject", CODE))
    assert_allowed(world, ask(trainer, "s3:PutObject", f"{data_bucket('prod')}/pipelines/mlops-prod-inference/x/y"))
    assert_closed(world, before, ask(trainer, "s3:PutObject", CODE))
    assert_refused(everything(world, trainer), ask(trainer, "s3:PutObject", VERIFIED))


def test_only_the_lookup_writes_verified_copies_and_the_deploy_role_code(world):
    assert_allowed(world, ask(role("prod", "model-lookup-lambda"), "s3:PutObject", VERIFIED))
    assert_allowed(world, ask(role("prod", "model-lookup-lambda"), "kms:GenerateDataKey", data_key("prod"), VIA_S3))
    assert_allowed(world, ask(role("prod", "github-deploy"), "s3:PutObject", CODE))


# ------------------------------------------------------------------ path 8: over-broad grants

@pytest.mark.parametrize("action, resource, context", [
    ("s3:PutObject", DEV_MODEL, {}),
    ("sagemaker:CreateModelPackage", GROUP, {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}),
    ("kms:GenerateDataKey", ARTIFACTS_KEY, VIA_S3),
    ("kms:Encrypt", ARTIFACTS_KEY, VIA_S3),
    ("kms:CreateGrant", ARTIFACTS_KEY, {**VIA_S3, "kms:GrantIsForAWSResource": "true"}),
])
def test_the_model_lookups_only_read(world, before, action, resource, context):
    lookup = role("dev", "model-lookup-lambda")
    assert_closed(everything(world, lookup), everything(before, lookup), ask(lookup, action, resource, context))


def test_listing_the_registry_bucket_needs_a_prefix_of_ones_own(world, before):
    trainer = role("dev", "sagemaker-execution")
    assert_closed(everything(world, trainer), everything(before, trainer), ask(trainer, "s3:ListBucket", ARTIFACTS))


def test_eventbridge_starts_inference_only(world, before):
    events = role("dev", "events-invoke")
    assert_closed(world, before, ask(events, "sagemaker:StartPipelineExecution", pipeline("dev", "training")))
    assert_allowed(world, ask(events, "sagemaker:StartPipelineExecution", pipeline("dev", "inference")))


def test_the_cross_account_writer_must_use_the_registry_key(world, before):
    trainer = role("dev", "sagemaker-execution")
    own_key = {"s3:x-amz-server-side-encryption": "aws:kms",
               "s3:x-amz-server-side-encryption-aws-kms-key-id": data_key("dev")}
    own_models = f"{ARTIFACTS}/models/dev/run/model.tar.gz"
    assert_closed(world, before, ask(trainer, "s3:PutObject", own_models, own_key))
    sse_s3 = {"s3:x-amz-server-side-encryption": "AES256"}
    assert_closed(world, before, ask(trainer, "s3:PutObject", own_models, sse_s3))
    registry_key = {**own_key, "s3:x-amz-server-side-encryption-aws-kms-key-id": ARTIFACTS_KEY}
    assert_allowed(world, ask(trainer, "s3:PutObject", own_models, registry_key))
    assert_allowed(world, ask(trainer, "s3:PutObject", own_models))  # the bucket's default: the same key


def test_lineage_associations_name_the_arns_add_association_accepts(world, before):
    trainer = role("dev", "sagemaker-execution")
    for kind in ("artifact", "action", "context"):
        lineage = f"arn:aws:sagemaker:{REGION}:{ACCOUNTS['dev']}:{kind}/x"
        assert_refused(before, ask(trainer, "sagemaker:AddAssociation", lineage))
        assert_allowed(world, ask(trainer, "sagemaker:AddAssociation", lineage))


def test_lookups_still_find_versions(world):
    for stack in ("dev", "prod"):
        lookup = role(stack, "model-lookup-lambda")
        assert_allowed(world, ask(lookup, "sagemaker:DescribeModelPackage", NEW_VERSION))
        assert_allowed(world, ask(lookup, "sagemaker:ListModelPackages", "*"))
