"""Run the step scripts' own tests in venvs pinned like the SageMaker images that run the scripts.

``make test`` calls this after the main suite (standard library only, so any Python runs it):

    python tests/ml/steps/images/run.py [--only sklearn-1.4-2|xgboost-3.0-5]

For each image it creates ``.venv-images/<image>-py<version>-<hash>`` from the image's pin file
(every package pinned, installed with ``--no-deps``, then ``pip check``) unless a venv with that
key exists, then runs the listed test files there with pytest (``--noconftest``: the suite's
conftest needs moto, which no image has). The key hashes the pins and the interpreter, so a
changed pin builds a new venv and CI can cache the directory by the pin files.

The images run Python 3.10. The first working 3.10 found is used ($IMAGE_PYTHON, python3.10 on
PATH, pyenv's or GitHub's tool cache); without one, 3.11 runs the same pins and the output says so.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
STEP_TESTS = HERE.parent
CACHE = ROOT / ".venv-images"
IMAGE_PYTHON = (3, 10)
FALLBACK_PYTHON = (3, 11)


@dataclass(frozen=True)
class ImageStage:
    """One image: its pin file and the step tests that run in it."""

    name: str
    pins: Path
    tests: tuple[str, ...]


# Which image runs which script is the pipelines' choice (ml/pipelines): preprocess, prepare_batch,
# the drift check and the capture step in the scikit-learn image, training and evaluate in the
# XGBoost image.
# tests/ml/steps/test_image_stages.py checks this table against the built definitions.
# The steps' shared library (ml/steps/tabular.py and the modules beside it) runs in both images: its
# own tests in the scikit-learn one, the four steps on a third model's schema in the XGBoost one.
STAGES = (
    ImageStage("sklearn-1.4-2", HERE / "sklearn-1.4-2.txt",
               ("test_preprocess.py", "test_prepare_batch.py", "test_drift_check.py", "test_tabular.py",
                "test_capture_batch.py")),
    ImageStage("xgboost-3.0-5", HERE / "xgboost-3.0-5.txt",
               ("test_evaluate.py", "test_shared_rules.py", "test_generic_schema.py")),
)
# Step tests that need what no image has (Evidently, PyYAML for Pulumi.yaml) or check this table:
# the main suite only.
MAIN_SUITE_ONLY = ("test_drift_check_evidently.py", "test_image_stages.py", "test_schema_fixtures.py")


def python_version(executable: str) -> tuple[int, ...] | None:
    """(major, minor, micro) of a working interpreter, or None (pyenv shims fail when unset)."""
    try:
        done = subprocess.run([executable, "-c", "import sys; print(*sys.version_info[:3])"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode:
        return None
    return tuple(int(part) for part in done.stdout.split())


def candidates() -> list[str]:
    """Interpreters to try, the images' 3.10 first."""
    found = [os.environ.get("IMAGE_PYTHON", ""), "python3.10"]
    found += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python3.10")))
    found += sorted(glob.glob("/opt/hostedtoolcache/Python/3.10*/x64/bin/python3.10"))
    return [c for c in found if c] + ["python3.11", sys.executable]


def choose_python(options: list[str]) -> tuple[str, tuple[int, ...], str]:
    """(interpreter, version, what to print): the images' 3.10 if any, else 3.11."""
    versions = {option: python_version(option) for option in dict.fromkeys(options)}
    for wanted, note in ((IMAGE_PYTHON, "the images' Python"),
                         (FALLBACK_PYTHON, "INSTEAD OF the images' 3.10, which this machine lacks")):
        for option, version in versions.items():
            if version and version[:2] == wanted:
                return option, version, note
    raise SystemExit("image tests: error: neither Python 3.10 nor 3.11 found; install one, or set "
                     "IMAGE_PYTHON to its path")


def venv_for(stage: ImageStage, python: str, version: tuple[int, ...]) -> Path:
    """The stage's venv for these pins and this interpreter, built once and reused."""
    key = hashlib.sha256(stage.pins.read_bytes() + repr(version).encode()).hexdigest()[:12]
    venv = CACHE / f"{stage.name}-py{'.'.join(map(str, version[:2]))}-{key}"
    if (venv / "pins.txt").is_file():
        return venv
    for stale in CACHE.glob(f"{stage.name}-*"):  # other pins, other interpreter, or half-built
        shutil.rmtree(stale)
    print(f"image tests: building {venv.relative_to(ROOT)} from {stage.pins.relative_to(ROOT)}",
          flush=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "--only-binary=:all:",
                    "-r", str(stage.pins)], check=True)
    subprocess.run([*pip, "check"], check=True)
    shutil.copy(stage.pins, venv / "pins.txt")  # written last: only a complete venv is reused
    return venv


def run_stage(stage: ImageStage, python: str, version: tuple[int, ...], note: str) -> int:
    """Build or reuse the stage's venv, run its tests there; pytest's exit code."""
    venv = venv_for(stage, python, version)
    own = stage.pins.read_text().split("\n# What those depend on")[0].splitlines()
    pins = [line for line in own if line and not line.startswith("#")]
    print(f"\nimage tests: {stage.name}: Python {'.'.join(map(str, version))} ({note}); "
          f"{', '.join(pins)}", flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "--noconftest", *(str(STEP_TESTS / test) for test in stage.tests)]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    """Every stage (or ``--only`` one); exit 1 when any test failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=[s.name for s in STAGES], help="one image's stage")
    args = parser.parse_args(argv)
    python, version, note = choose_python(candidates())
    failed = [s.name for s in STAGES if args.only in (None, s.name)
              and run_stage(s, python, version, note)]
    if failed:
        print(f"image tests: FAILED in {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
