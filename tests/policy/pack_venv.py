"""The policy pack's own virtualenv, built once from policy/requirements.txt and cached.

pulumi-policy pins protobuf 5.x and the project needs 6.x, so the pack never shares the
project's .venv. The cache key is the requirements file and the Python version; set
MLOPS_POLICY_VENV to use an existing one (e.g. the `.venv-policy` the Makefile builds).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The pack's directory (policy/ at the root: the pack, not a package of the project).
POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
REQUIREMENTS = POLICY_DIR / "requirements.txt"


def pack_python() -> Path:
    """Path of the pack venv's python, creating the venv on first use (~15 s here)."""
    override = os.environ.get("MLOPS_POLICY_VENV")
    if override:
        return Path(override) / "bin" / "python"
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlops-platform"
    venv = cache / f"policy-venv-{key}"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="policy-venv-", dir=cache))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True)
        subprocess.run([str(staging / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
                       check=True, timeout=300)
        subprocess.run([str(staging / "bin" / "python"), "-m", "pip", "check"], check=True)
        # The venv's scripts carry its path: build in place under a temporary name, then move
        # only if nobody finished first (a rename keeps half-built venvs out of the cache).
        with contextlib.suppress(OSError):
            staging.rename(venv)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return python
