"""Build both sample definitions in a fresh process with all network access blocked.

Usage: python offline_build.py OUT.json. Writes {"training", "inference", "live-drift", "blocked"}; any
attempt to resolve a name, open a connection or send an AWS request is recorded in
"blocked" (and fails). Run by test_offline.py in separate processes (other hash seeds,
another working directory, no AWS variables) to prove determinism and zero AWS calls,
SDK import included.
"""
from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

BLOCKED: list[str] = []


def _blocker(what: str):
    def blocked(*args, **kwargs):
        BLOCKED.append(f"{what} {args[1:3]!r}"[:300])
        raise OSError(f"network access blocked during an offline build: {what}")
    return blocked


def block_network() -> None:
    """Make every way out of the process fail loudly and leave a trace."""
    socket.socket.connect = _blocker("socket.connect")
    socket.socket.connect_ex = _blocker("socket.connect_ex")
    socket.getaddrinfo = _blocker("getaddrinfo")
    socket.create_connection = _blocker("create_connection")
    import botocore.client
    import botocore.endpoint

    botocore.endpoint.Endpoint.make_request = _blocker("botocore Endpoint.make_request")
    botocore.client.BaseClient._make_api_call = _blocker("botocore _make_api_call")


def main(out: str) -> None:
    block_network()
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root
    from ml.pipelines import inference_definition, live_drift_definition, training_definition
    from tests.ml.pipelines.sample import LIVE, sample_settings

    settings = sample_settings(**LIVE)
    result = {"training": training_definition(settings), "inference": inference_definition(settings),
              "live-drift": live_drift_definition(settings)}
    result["blocked"] = list(BLOCKED)
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
