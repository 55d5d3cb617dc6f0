"""A copy of the project's configuration, data and workflow scripts in a temporary folder: the
working directory the promotion steps run in (the runner's checkout), with stack files a test
can give serving modes and pins without touching the real ones."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from tests.github.workflow_files import ROOT

SCRIPTS = Path(".github") / "scripts"
REGISTRY_ACCOUNT = "111111111111"
# Where the models' versions live: the groups the real Pulumi.yaml names.
GROUPS = {"mammography": "mammo-severity-model-package", "wdbc": "wdbc-diagnosis-model-package"}


def version_arn(model: str, version: int, account: str = REGISTRY_ACCOUNT) -> str:
    return f"arn:aws:sagemaker:eu-west-1:{account}:model-package/{GROUPS[model]}/{version}"


def served_output(stack: str, versions: dict[str, int], **extra: dict[str, str]) -> str:
    """A stack's `servedVersions` output as pulumi/actions hands it on (a map, as JSON)."""
    return json.dumps({model: {"version": n, "modelPackageArn": version_arn(model, n),
                               "endpointName": f"mlops-{stack}-{model}", **extra.get(model, {})}
                       for model, n in versions.items()})


def make_project(root: Path) -> Path:
    """Copy what the promotion steps read into `root`; returns it."""
    for name in ("Pulumi.yaml", "Pulumi.registry.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / SCRIPTS, root / SCRIPTS, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def add_to_stack_file(root: Path, stack: str, *, endpoints: tuple[str, ...] = (), batch: tuple[str, ...] = (),
                      pins: dict[str, str] | None = None) -> None:
    """Serve `endpoints` from an endpoint and `batch` in batch mode only in `stack` (modelOverrides),
    and pin `pins` (servedVersions), as a person would write them at the end of the stack file."""
    lines = []
    if endpoints or batch:
        lines.append("  mlops-platform:modelOverrides:")
        for model in endpoints:
            lines += [f"    {model}:", "      serving:", "        mode: both"]
        for model in batch:
            lines += [f"    {model}:", "      serving:", "        mode: batch"]
    if pins:
        lines.append("  mlops-platform:servedVersions:")
        lines += [f'    {model}: "{version}"' for model, version in sorted(pins.items())]
    path = root / f"Pulumi.{stack}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(lines) + "\n", encoding="utf-8")


def venv_path() -> dict[str, str]:
    """PATH with this interpreter's folder first: `python` in a step is the project's (setup-python's
    on the runner); `aws` and `jq` come from the machine, as on the runner."""
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
