"""Which models a local command runs: ``--model NAME`` or every model of the project's Pulumi.yaml."""
from __future__ import annotations

from pathlib import Path

from ml import model_checks
from ml.models import ModelConfigError, ModelSpec, load_project_models


def select(name: str | None, *, data: Path | None = None, single: bool = False,
           root: Path | None = None) -> tuple[ModelSpec, ...]:
    """The named model, or every model (``single``: the only one, else an error saying to pick).

    Raises ValueError (ModelConfigError included) with the fix: an unknown name lists the models;
    ``data`` (a replacement data file) needs one model.
    """
    specs = load_project_models(root) if root is not None else load_project_models()
    names = [spec.name for spec in specs]
    if name is not None:
        if name not in names:
            near = model_checks.closest(name, names)
            raise ModelConfigError([f"--model {name}: no such model in Pulumi.yaml (mlops-platform:models: "
                                    f"{', '.join(names)})" + (f"; did you mean {near}?" if near else "")])
        return tuple(spec for spec in specs if spec.name == name)
    if (single or data is not None) and len(specs) > 1:
        what = "--data replaces one model's data file" if data is not None else "this command checks one model"
        raise ValueError(f"{what}: pass --model NAME (one of {', '.join(names)})")
    return specs
