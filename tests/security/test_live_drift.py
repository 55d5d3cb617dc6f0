"""Live traffic in the drift loop changes no one's reach beyond it: EventBridge may start every
model's live-drift check (one pattern, `mlops-<stack>-*live-drift`) and still no training; the jobs
read the endpoints' captured requests of their own stack and cannot forge them; the retrain gates
start training only. Decided on the real documents of the shipped stacks (world.py)."""
from __future__ import annotations

import pytest

from tests.security.names import ACCOUNTS, REGION, ask, data_bucket, data_key, role
from tests.security.verdicts import assert_allowed, assert_refused

MODEL = "wdbc"
VIA_S3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
STACKS = ["dev", "prod"]


def pipeline(stack: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNTS[stack]}:pipeline/{name}"


def captured(stack: str, model: str = MODEL) -> str:
    return f"{data_bucket(stack)}/capture/{model}/mlops-{stack}-{model}/AllTraffic/2026/12/01/06/capture.jsonl"


@pytest.mark.parametrize("stack", STACKS)
def test_eventbridge_starts_every_models_live_drift_check(world, stack):
    events = role(stack, "events-invoke")
    for name in (f"mlops-{stack}-live-drift", f"mlops-{stack}-{MODEL}-live-drift"):
        assert_allowed(world, ask(events, "sagemaker:StartPipelineExecution", pipeline(stack, name)))


@pytest.mark.parametrize("stack", STACKS)
def test_eventbridge_still_starts_no_training_and_nothing_that_merely_resembles_a_live_check(world, stack):
    events = role(stack, "events-invoke")
    for name in (f"mlops-{stack}-training", f"mlops-{stack}-{MODEL}-training", f"mlops-{stack}-{MODEL}-live-drift-x",
                 f"mlops-{stack}-live-drift-training", f"someone-{stack}-live-drift"):
        assert_refused(world, ask(events, "sagemaker:StartPipelineExecution", pipeline(stack, name)))
    other = "prod" if stack == "dev" else "dev"
    assert_refused(world, ask(events, "sagemaker:StartPipelineExecution",
                              pipeline(other, f"mlops-{other}-{MODEL}-live-drift")))


@pytest.mark.parametrize("stack", STACKS)
def test_the_gates_do_not_start_live_checks(world, stack):
    gate = role(stack, "retrain-gate-lambda")
    assert_refused(world, ask(gate, "sagemaker:StartPipelineExecution", pipeline(stack, f"mlops-{stack}-{MODEL}-live-drift")))


@pytest.mark.parametrize("stack", STACKS)
def test_jobs_read_their_stacks_captured_requests_and_cannot_forge_them(world, stack):
    jobs = role(stack, "sagemaker-execution")
    assert_allowed(world, ask(jobs, "s3:GetObject", captured(stack)))
    assert_allowed(world, ask(jobs, "s3:ListBucket", data_bucket(stack), {"s3:prefix": f"capture/{MODEL}/"}))
    assert_allowed(world, ask(jobs, "kms:Decrypt", data_key(stack), VIA_S3))  # capture is encrypted with it
    assert_refused(world, ask(jobs, "s3:PutObject", captured(stack)))
    other = "prod" if stack == "dev" else "dev"
    assert_refused(world, ask(jobs, "s3:GetObject", captured(other)))
