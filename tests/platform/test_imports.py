"""Building an IAM document, or any part of the program, loads no ML library.

The registry stack, the policy documents and the offline plan need names and ARNs only;
pandas, scikit-learn and xgboost cost seconds to import and belong to the step scripts and
local runs. Checked in a fresh interpreter, since this test process has imported them all.
"""
from __future__ import annotations

import json
import subprocess
import sys

ML_LIBRARIES = ("pandas", "sklearn", "xgboost", "scipy", "matplotlib")
# The ml modules the program's IAM documents and rules are built from, then every module of
# the program (found by walking it, so a module moved or added is checked too).
SCRIPT = """
import importlib, json, pkgutil, sys
import mlops_platform
names = ["ml.contract", "ml.packaging", "ml.retraining_rules"]
names += [m.name for m in pkgutil.walk_packages(mlops_platform.__path__, "mlops_platform.")
          if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _fresh_import() -> dict:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_iam_documents_and_the_program_import_no_ml_library():
    result = _fresh_import()
    assert {"mlops_platform.iam", "mlops_platform.program"} <= set(result["imported"])
    assert any("github" in name for name in result["imported"]), "the GitHub IAM documents are checked"
    assert not set(ML_LIBRARIES) & set(result["loaded"]), sorted(set(ML_LIBRARIES) & set(result["loaded"]))
