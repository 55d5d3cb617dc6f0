"""mlops_facts is imported by the policy pack's own virtualenv, where only the standard
library (and pulumi-policy) exists: it must import nothing else."""
from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import mlops_facts

FACTS_DIR = Path(mlops_facts.__file__).parent

_PROBE = """
import importlib, json, pkgutil, sys
before = set(sys.modules)
import mlops_facts
for m in pkgutil.iter_modules(mlops_facts.__path__):
    importlib.import_module(f"mlops_facts.{m.name}")
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_every_module_of_the_package_imports_only_the_standard_library():
    # A fresh interpreter with only platform/ on the path: nothing the project installs can help.
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(FACTS_DIR.parent)!r})\n"
                          + _PROBE], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    foreign = [m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "mlops_facts"]
    assert foreign == []
    modules = {m.name for m in pkgutil.iter_modules(mlops_facts.__path__)}
    assert {"regions", "arns", "unscoped", "names", "policy_inputs", "schedules"} <= modules
    assert {f"mlops_facts.{m}" for m in modules} <= set(loaded)
