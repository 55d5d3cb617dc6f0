"""What the step tests lay out beside the data: a model's schema document (the mammography model's,
written from ml/models.py and checked against Pulumi.yaml by test_schema_fixtures.py, or a synthetic
third model's) and, for a script run alone as SageMaker stages it, the steps' shared library.

Standard library, numpy and the steps only: the image stages (tests/ml/steps/images) run it
without PyYAML, hence the mammography document as a checked-in fixture.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ml import contract
from ml.steps import preprocess

tabular = preprocess.tabular  # the steps' library, as the scripts import it (one module object)
FIXTURES = Path(__file__).parent / "fixtures"
MAMMOGRAPHY_SCHEMA = FIXTURES / "mammography.schema.json"


def mammography_document() -> dict:
    """The mammography model's schema document, as the pipelines ship it."""
    return json.loads(MAMMOGRAPHY_SCHEMA.read_text())


def mammography_schema():
    return tabular.schema_from_document(mammography_document(), str(MAMMOGRAPHY_SCHEMA))


def with_schema(base: Path, document: dict | None = None) -> Path:
    """Put a schema document (default: mammography's) where the steps read it under ``base``."""
    path = base / contract.SCHEMA_INPUT_DIR / contract.SCHEMA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document or mammography_document(), indent=1, sort_keys=True) + "\n")
    return base


def with_library(base: Path) -> Path:
    """Ship the shared modules as the job's lib input, for a script copied away from ml/steps."""
    lib = base / contract.STEP_LIBRARY_INPUT_DIR
    lib.mkdir(parents=True, exist_ok=True)
    for name in contract.STEP_LIBRARY_MODULES:
        shutil.copy(contract.STEPS_DIR / name, lib / name)
    return base


# --- A third model nobody wrote code for --------------------------------------------------
# Text-valued nominal and ordinal features (one with an alias), a fractional and a whole-number
# numeric feature, a numeric-valued ordinal one, a text label in the middle of the row with its
# positive class, a header row, 'NA' for missing and ';' between fields.
LOANS = {
    "format": 1, "model": "loans", "header": True, "missing": ["NA"], "delimiter": ";",
    "columns": ["region", "income", "outcome", "grade", "dependents", "band"],
    "label": {"name": "outcome", "domain": ["repaid", "default"], "positive": "default"},
    "features": [
        {"name": "region", "kind": "nominal", "domain": ["north", "south", "east", "west"],
         "integer": False, "aliases": {"N": "north"}},
        {"name": "income", "kind": "numeric", "domain": [0, 500000], "integer": False, "aliases": {}},
        {"name": "grade", "kind": "ordinal", "domain": ["low", "mid", "high"], "integer": False, "aliases": {}},
        {"name": "dependents", "kind": "numeric", "domain": [0, 12], "integer": True, "aliases": {}},
        {"name": "band", "kind": "ordinal", "domain": [1, 2, 3, 4, 5], "integer": False, "aliases": {}},
    ],
}
REGIONS, GRADES = LOANS["features"][0]["domain"], LOANS["features"][2]["domain"]


def loans_rows(rows: int, seed: int, *, labelled: bool = True, east_share: float = 0.25,
               income_shift: float = 0.0) -> list[list[str]]:
    """Seeded loan applications as text cells (file order; no label column if not ``labelled``).

    Defaults are likelier with a low income, a low grade and in the east: a model can learn them.
    """
    rng = np.random.default_rng(seed)
    others = (1 - east_share) / 3
    region = rng.choice(4, rows, p=[others, others, east_share, others])
    grade = rng.choice(3, rows, p=[0.3, 0.4, 0.3])
    income = np.round(rng.lognormal(10.8, 0.4, rows) + income_shift, 2)
    dependents = rng.integers(0, 5, rows)
    band = rng.integers(1, 6, rows)
    risk = -1.5 + 1.2 * (region == 2) - 0.9 * grade - (income - 50000) / 40000
    default = rng.random(rows) < 1 / (1 + np.exp(-risk))
    table = []
    for i in range(rows):
        cells = {"region": "N" if region[i] == 0 and i % 7 == 0 else REGIONS[region[i]],
                 "income": f"{income[i]:.2f}", "outcome": "default" if default[i] else "repaid",
                 "grade": GRADES[grade[i]], "dependents": str(dependents[i]), "band": str(band[i])}
        if i % 11 == 3:
            cells["grade"] = "NA"
        if i % 13 == 5:
            cells["income"] = "NA"
        table.append([cells[c] for c in LOANS["columns"] if labelled or c != "outcome"])
    return table


def loans_file(path: Path, table: list[list[str]], *, labelled: bool = True) -> Path:
    """The rows as the loans schema's raw layout: a header row, ';' between fields, CRLF."""
    header = [c for c in LOANS["columns"] if labelled or c != "outcome"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(";".join(row) + "\r\n" for row in [header, *table]))
    return path
