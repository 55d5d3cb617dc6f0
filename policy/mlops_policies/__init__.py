"""Policy rules of the mlops-platform pack, as pure functions over resource inputs.

Importable without pulumi-policy: `catalog` lists the rules, `pack` (which needs
pulumi-policy) wraps them for the policy engine.

The shared facts (regions, ARN formats, names, actions without resource-level permissions)
come from `mlops_facts` in the repository's `platform/` directory, standard library only. The
pack's own virtualenv does not install the project, so that directory is put on the path here,
found relative to this file: it works wherever the engine starts the pack (`pulumi preview
--policy-pack policy`, the tests' cached venv) as long as the pack sits in the repository.
"""
import sys
from pathlib import Path

_FACTS_HOME = str(Path(__file__).resolve().parents[2] / "platform")
if _FACTS_HOME not in sys.path:
    # Appended, not prepended: an installed mlops_facts (the project's venv) wins, and it is
    # the same directory there anyway (an editable install).
    sys.path.append(_FACTS_HOME)
