"""Project files with one mistake in each of three files, for the plan's error reporting."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_platform.offline.stack_files import ROOT


@pytest.fixture
def broken_project(tmp_path: Path) -> Path:
    """A copy of the project's config with `owner: ""` in Pulumi.yaml's tags, `aucThreshold: "2"`
    in Pulumi.dev.yaml and a tab in Pulumi.prod.yaml."""
    for f in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    dev = tmp_path / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace('aucThreshold: "0.85"', 'aucThreshold: "2"'))
    prod = tmp_path / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("  mlops-platform:firstTrainingRun", "\tmlops-platform:firstTrainingRun"))
    project = tmp_path / "Pulumi.yaml"
    project.write_text(project.read_text().replace("owner: ml-platform-team", 'owner: ""'))
    return tmp_path
