"""Count the AWS API calls the SageMakerPipeline provider makes per Pulumi operation.

Starts its own moto server on a free loopback port, puts a recording proxy in front of it
(the provider builds its own boto3 clients inside each call, so counting happens on the
wire: every HTTP request, retries included) and prints one row per operation. The aim is a
no-op `pulumi up` (check + diff) with zero calls and a refresh with reads only. The proxy also
keeps executions running until stopped (moto's finish at once), so the delete rows show what
a destroy during the first training run costs, against one with nothing running.

    python bench/provider_calls.py
"""
from __future__ import annotations

import collections
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.sagemaker_pipeline import SageMakerPipelineProvider  # noqa: E402
from tests.ml.support_aws_proxy import AwsProxy  # noqa: E402
from tests.ml.support_pipeline_inputs import OTHER_ACCOUNT, definition, inputs  # noqa: E402
from tests.ml.support_running_executions import RunningExecutions  # noqa: E402
from tests.support.moto_server import aws_env, moto_server  # noqa: E402

READ_PREFIXES = ("Describe", "List", "Get")
AUTH = {"AssumeRole", "GetCallerIdentity"}


def kind(operation: str) -> str:
    if operation in AUTH:
        return "auth"
    return "read" if operation.startswith(READ_PREFIXES) else "write"


def scenario(provider: SageMakerPipelineProvider, **extra) -> list[tuple[str, Callable[[], None]]]:
    """(operation label, callable) in the order a stack's life runs them."""
    state: dict = {}
    news = provider.check({}, inputs(start_on_create=True, **extra)).inputs
    changed = provider.check({}, inputs(definition=definition(steps=2), **extra)).inputs

    def create():
        result = provider.create(news)
        state.update(id=result.id, outs=result.outs)

    def noop_up():
        checked = provider.check(news, inputs(start_on_create=True, **extra)).inputs
        assert provider.diff(state["id"], state["outs"], checked).changes is False

    def refresh():
        assert provider.read(state["id"], state["outs"]).outs == state["outs"]

    def update():
        assert provider.diff(state["id"], state["outs"], changed).changes is True
        state["outs"] = provider.update(state["id"], state["outs"], changed).outs

    def delete():
        provider.delete(state["id"], state["outs"])

    def create_idle():
        idle = provider.check({}, inputs(name="mlops-dev-idle", **extra)).inputs
        result = provider.create(idle)
        state.update(idle_id=result.id, idle_outs=result.outs)

    def delete_idle():
        provider.delete(state["idle_id"], state["idle_outs"])

    return [("create (+ first run)", create), ("no-op up: check+diff", noop_up),
            ("refresh: read", refresh), ("update definition", update),
            ("delete, first run running", delete), ("create (no run)", create_idle),
            ("delete, nothing running", delete_idle)]


def client_build_ms() -> tuple[float, float]:
    """Median ms to build a SageMaker client: fresh boto3 session vs the provider's sessions
    (which share one API-model loader)."""
    import boto3

    from ml.sagemaker_pipeline.aws import aws_session

    def median_ms(build) -> float:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            build().client("sagemaker")
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    return (median_ms(lambda: boto3.session.Session(region_name="eu-west-1")),
            median_ms(lambda: aws_session({"region": "eu-west-1"})[0]))


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    provider = SageMakerPipelineProvider()
    variants = [("same account", {}),
                ("assumed role", {"role_arn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/sm-exec",
                                  "assume_role_arn": f"arn:aws:iam::{OTHER_ACCOUNT}:role/deploy"})]
    print(f"{'credentials':<14} {'operation':<26} {'calls':>5} {'reads':>5} {'writes':>6} "
          f"{'auth':>4} {'ms':>6}  operations")
    runs = RunningExecutions(stop_seconds=0.3)
    with moto_server() as endpoint, aws_env(endpoint), AwsProxy(endpoint, runs).running() as proxy:
        os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint
        for label, extra in variants:
            for op_label, run in scenario(provider, **extra):
                before = len(proxy.calls)
                start = time.perf_counter()
                run()
                elapsed = (time.perf_counter() - start) * 1000
                calls = proxy.calls[before:]
                kinds = collections.Counter(kind(c) for c in calls)
                names = ", ".join(f"{k}x{v}" if v > 1 else k
                                  for k, v in collections.Counter(calls).items()) or "-"
                print(f"{label:<14} {op_label:<26} {len(calls):>5} {kinds['read']:>5} "
                      f"{kinds['write']:>6} {kinds['auth']:>4} {elapsed:>6.0f}  {names}")
        fresh, shared = client_build_ms()
        print(f"\nbuild a sagemaker client: fresh session {fresh:.0f} ms, "
              f"provider session (shared model loader) {shared:.0f} ms")


if __name__ == "__main__":
    main()
