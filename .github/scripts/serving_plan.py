"""What serves where, for the promotion workflows: read from the stack files and a stack's output.

Usage (from the project root, with the project installed: it reads the config as the program does):
  serving_plan.py mode --stack dev --model NAME --output FILE [--version N]
      appends `mode=<batch|endpoint|both>` and `endpoint=<true|false>` to FILE (GITHUB_OUTPUT):
      whether the model is served by an endpoint in that stack (`serving.mode` in Pulumi.yaml,
      overridden per stack in `modelOverrides`), so whether an approved version needs a pin there;
      prints a sentence saying so for the job summary.
  SERVED='<servedVersions output>' serving_plan.py candidates --from-stack dev --stack prod \
      --output FILE --summary FILE
      what dev serves (pinned in Pulumi.dev.yaml and exported as served, so deployed and smoke-
      tested) that prod does not pin yet, and that prod serves by endpoint: appends
      `any=<true|false>` and `versions=<JSON list of {model, version, arn}>` to the output and a
      Markdown section (with every model left out and why) to the summary.

The stack's `servedVersions` output (the deploy job's step output) is
`{model: {version, modelPackageArn, endpointName[, endpointConfigName]}}`; `parse_served` checks
it, since it crosses from one job to another.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import promote_version  # noqa: E402  (beside this file: the stack files' pins)

ARN = re.compile(r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[A-Za-z0-9-]+/(?P<version>[1-9][0-9]*)")
ENDPOINT = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


class PlanError(Exception):
    """The config, the stack files or a stack output cannot be read as expected; the message says why."""


@dataclass(frozen=True)
class Served:
    """One model's endpoint in a stack, as the stack exports it."""

    model: str
    version: int
    arn: str
    endpoint: str
    endpoint_config: str | None = None  # the configuration the deploy left it on, when exported

    def serves(self, pin: str) -> bool:
        """Whether this is the version a stack file pins (a version number or a version ARN)."""
        return pin == self.arn if pin.startswith("arn:") else pin.isdigit() and int(pin) == self.version


def parse_served(text: str, stack: str) -> dict[str, Served] | None:
    """The `servedVersions` output of `stack`; None when the stack exported none (empty text)."""
    if not text.strip():
        return None
    try:
        raw = json.loads(text)
    except ValueError as err:
        raise PlanError(f"the {stack} stack's servedVersions output is not JSON ({err})") from None
    if not isinstance(raw, dict):
        raise PlanError(f"the {stack} stack's servedVersions output must be a map of model to endpoint")
    served, problems = {}, []
    for model, entry in sorted(raw.items()):
        try:
            served[model] = _served(model, entry, stack)
        except (PlanError, TypeError, ValueError, KeyError) as err:
            problems.append(f"{model!r:.40}: {err}")
    if problems:
        raise PlanError(f"the {stack} stack's servedVersions output is malformed: " + "; ".join(problems))
    return served


def _served(model: str, entry: Any, stack: str) -> Served:
    if not promote_version.MODEL.fullmatch(model) or not isinstance(entry, dict):
        raise PlanError("needs a model name and a map {version, modelPackageArn, endpointName}")
    version, arn, endpoint = entry["version"], str(entry["modelPackageArn"]), str(entry["endpointName"])
    config = entry.get("endpointConfigName")
    if isinstance(version, bool) or int(version) != version or version < 1:
        raise PlanError(f"version {version!r:.40} is not a version number")
    if not (m := ARN.fullmatch(arn)) or int(m["version"]) != version:
        raise PlanError(f"modelPackageArn {arn!r:.200} is not the ARN of version {version}")
    # The deploy role may invoke only `mlops-<stack>-*` endpoints (its IAM policy).
    if not ENDPOINT.fullmatch(endpoint) or not endpoint.startswith(f"mlops-{stack}-"):
        raise PlanError(f"endpointName {endpoint!r:.80} is not an endpoint of the {stack} stack (mlops-{stack}-...)")
    if config is not None and not ENDPOINT.fullmatch(str(config)):
        raise PlanError(f"endpointConfigName {config!r:.80} is not an endpoint configuration name")
    return Served(model, int(version), arn, endpoint, None if config is None else str(config))


def pins(stack: str, root: Path | None = None) -> dict[str, str]:
    """The `servedVersions` pins of `Pulumi.<stack>.yaml` (in `root`, default: here), as written."""
    return promote_version.served_versions(((root or Path.cwd()) / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))


def mismatches(pinned: dict[str, str], served: dict[str, Served] | None, stack: str) -> list[str]:
    """Every difference between what a stack file pins and what the stack says it serves."""
    have = served or {}
    if served is None and pinned:
        return [f"Pulumi.{stack}.yaml pins {', '.join(sorted(pinned))} but the {stack} stack exports no servedVersions"]
    problems = [f"{model}: Pulumi.{stack}.yaml pins version {pin}, the stack serves "
                + (f"version {have[model].version}" if model in have else "nothing")
                for model, pin in sorted(pinned.items()) if model not in have or not have[model].serves(pin)]
    problems += [f"{model}: the stack serves version {s.version}, which Pulumi.{stack}.yaml does not pin"
                 for model, s in sorted(have.items()) if model not in pinned]
    return problems


def stack_models(stack: str, root: Path | None = None) -> dict[str, Any]:
    """The models of one stack, with that stack's `modelOverrides` applied (so its serving modes)."""
    from ml.models import ModelDefaults, parse_models
    from mlops_platform.offline.stack_files import stack_config

    root = root or Path.cwd()
    values, _ = stack_config(stack, root)
    problems: list[str] = []
    first = values.get("mlops-platform:firstModel")
    # Role "local": serving and names are all that is read here; the workload-only values
    # (thresholds, schedules) are the program's to check, in the stack's preview.
    models = parse_models(values.get("mlops-platform:models"), overrides=values.get("mlops-platform:modelOverrides"),
                          defaults=ModelDefaults(), first_model=first if isinstance(first, str) else None,
                          stack_role="local", fail=lambda key, message: problems.append(f"{key}: {message}"), root=root)
    if models is None:
        raise PlanError("the models config has problems (the stack's preview lists them): " + "; ".join(problems))
    return {m.name: m for m in models}


def candidates(source: str, target: str, served: dict[str, Served] | None,
               root: Path | None = None) -> tuple[list[dict[str, str]], list[str]]:
    """What `source` serves and `target` does not pin yet (with the ARN `source` serves), and why
    every other difference between the two stack files' pins is left out."""
    root = root or Path.cwd()
    target_models = stack_models(target, root)
    chosen, left_out = [], []
    source_text, target_text = ((root / f"Pulumi.{s}.yaml").read_text(encoding="utf-8") for s in (source, target))
    target_pins = promote_version.served_versions(target_text)
    for model, pin in promote_version.pending(source_text, target_text):
        entry = (served or {}).get(model)
        if entry is not None and model in target_pins and entry.serves(target_pins[model]):
            continue  # the same version, written the other way (a number in one file, the ARN in the other)
        if entry is None or not entry.serves(pin):
            left_out.append(f"`{model}` version `{pin}`: pinned in {source} but not what {source} serves (deploy it first)")
        elif model not in target_models:
            left_out.append(f"`{model}`: not a model of the {target} stack")
        elif not target_models[model].serving.endpoint:
            left_out.append(f"`{model}`: served in batch mode only in {target}; set its serving.mode there "
                            "(modelOverrides) to promote it to an endpoint")
        else:
            chosen.append({"model": model, "version": str(entry.version), "arn": entry.arn})
    return chosen, left_out


def _mode_sentence(model: str, version: str, stack: str, mode: str, endpoint: bool) -> str:
    which = f"version {version}" if version.isdigit() else "the version"
    if endpoint:
        return (f"`{model}` is served from an endpoint in {stack} (serving.mode `{mode}`): once approved, a pull "
                f"request pins {which} for {stack}; merging it rolls the endpoint out.")
    return (f"`{model}` is served in batch mode only in {stack}: no endpoint, so no pull request. The next "
            "scheduled batch inference uses the latest approved version.")


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("mode")
    m.add_argument("--stack", required=True)
    m.add_argument("--model", required=True)
    m.add_argument("--output", required=True, type=Path)
    m.add_argument("--version", default="")
    c = sub.add_parser("candidates")
    c.add_argument("--from-stack", required=True)
    c.add_argument("--stack", required=True)
    c.add_argument("--output", required=True, type=Path)
    c.add_argument("--summary", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "mode":
            models = stack_models(args.stack)
            if args.model not in models:
                raise PlanError(f"{args.model!r} is not a model of the {args.stack} stack ({', '.join(sorted(models))})")
            serving = models[args.model].serving
            _append(args.output, f"mode={serving.mode}\nendpoint={str(serving.endpoint).lower()}\n")
            print(_mode_sentence(args.model, args.version, args.stack, serving.mode, serving.endpoint))
            return 0
        served = parse_served(os.environ.get("SERVED", ""), args.from_stack)
        chosen, left_out = candidates(args.from_stack, args.stack, served)
    except (OSError, ValueError, PlanError) as err:
        print(f"::error title=Serving plan::{err}", file=sys.stderr)
        return 2
    _append(args.output, f"any={str(bool(chosen)).lower()}\nversions={json.dumps(chosen, separators=(',', ':'))}\n")
    lines = [f"- `{c['model']}` version `{c['version']}`: ready for a {args.stack} pull request" for c in chosen]
    lines += [f"- {why}" for why in left_out]
    if not lines:
        lines = [f"- {args.stack} pins everything {args.from_stack} serves"]
    _append(args.summary, f"### Served in {args.from_stack}, not yet in {args.stack}\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
