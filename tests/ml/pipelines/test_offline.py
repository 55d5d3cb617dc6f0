"""Building a definition makes no AWS call and yields the same bytes for the same inputs."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import botocore.client
import botocore.endpoint
import pytest

from ml.pipelines import build_inference_pipeline, build_live_drift_pipeline, build_training_pipeline
from ml.pipelines.offline_sdk import canonical_json
from tests.ml.pipelines.sample import LIVE, sample_settings

SCRIPT = Path(__file__).with_name("offline_build.py")


@pytest.fixture
def no_network(monkeypatch):
    """Every socket and botocore request path records the attempt and raises."""
    attempts: list[str] = []

    def blocker(what):
        def blocked(*args, **kwargs):
            attempts.append(what)
            raise OSError(f"blocked: {what}")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", blocker("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", blocker("socket.connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", blocker("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", blocker("create_connection"))
    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", blocker("Endpoint.make_request"))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", blocker("_make_api_call"))
    yield attempts


def test_the_blocker_really_blocks(no_network):
    import boto3

    client = boto3.client("sts", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with pytest.raises(OSError):
        client.get_caller_identity()
    with pytest.raises(OSError):
        socket.create_connection(("example.com", 443))
    assert no_network == ["_make_api_call", "create_connection"]


def test_building_and_compiling_every_pipeline_makes_no_network_or_aws_call(no_network, monkeypatch, built):
    monkeypatch.delenv("SAGEMAKER_VALIDATE_ROLE", raising=False)
    environment = dict(os.environ)
    threads_before = set(threading.enumerate())
    settings = sample_settings(**LIVE)
    training, inference = build_training_pipeline(settings), build_inference_pipeline(settings)
    live = build_live_drift_pipeline(settings)
    # Compiling happens in definition(), outside the build call: it must stay offline too.
    training_json, inference_json, live_json = training.definition(), inference.definition(), live.definition()
    # A background sender (the SDK's telemetry uses a thread) would record its attempt too.
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(timeout=5)
    assert no_network == []
    # Same settings, same bytes (the session fixture built these earlier in this process).
    assert canonical_json(training_json) == built("isolated")["training"]
    assert canonical_json(inference_json) == built("isolated")["inference"]
    assert canonical_json(live_json) == built("isolated")["live-drift"]
    # The build's temporary environment (region, role validation, IMDS) is gone afterwards.
    assert dict(os.environ) == environment


def test_different_settings_different_bytes(built):
    assert built("vpc")["training"] != built("isolated")["training"]
    assert built("open")["inference"] != built("isolated")["inference"]
    assert built("vpc")["live-drift"] != built("isolated")["live-drift"]


def test_same_bytes_in_a_fresh_process_offline_from_another_directory(built, tmp_path):
    # Another process, hash seed and working directory, no AWS or SageMaker variables, and
    # the network blocked before the SDK is even imported: the bytes must not change.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env["PYTHONHASHSEED"] = "12345"
    out = tmp_path / "definitions.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(out)], cwd=tmp_path, env=env,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result = json.loads(out.read_text())
    assert result["blocked"] == []
    assert result["training"] == built("isolated")["training"]
    assert result["inference"] == built("isolated")["inference"]
    assert result["live-drift"] == built("isolated")["live-drift"]
