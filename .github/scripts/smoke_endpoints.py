"""After a deploy: is every endpoint of the stack serving what its stack file pins, and answering well?

Usage (from the project root, project installed, with the stack's deploy role credentials):
  SERVED='<the stack's servedVersions output>' smoke_endpoints.py --stack dev --region eu-west-1
      [--rows 50] [--min-auc 0.6]

Checks, reporting every problem (a Markdown table on stdout for the job summary, an `::error::`
annotation per problem on stderr; exit 1 if any):
1. what the stack serves is exactly what `Pulumi.<stack>.yaml` pins (no pin without its
   endpoint, no endpoint without its pin, the pinned version);
2. each endpoint is InService, and on the endpoint configuration the deploy created when the
   output names it (`endpointConfigName`): an endpoint on another one was rolled back by its
   alarms after the deploy;
3. each endpoint answers rows of its model's own data with one probability per row that ranks
   the labels (`python -m ml.serving.smoke_test`'s checks).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serving_plan  # noqa: E402  (beside this file)
from serving_plan import PlanError, Served  # noqa: E402


def endpoint_problem(served: Served, sagemaker: Any) -> str | None:
    """Why the endpoint is not serving the deployed configuration, or None."""
    try:
        described = sagemaker.describe_endpoint(EndpointName=served.endpoint)
    except Exception as err:  # botocore's errors: missing endpoint, no permission
        return f"cannot describe endpoint {served.endpoint}: {err}"
    status, config = described.get("EndpointStatus"), described.get("EndpointConfigName")
    if status != "InService":
        reason = described.get("FailureReason") or "no failure reason given"
        return f"endpoint {served.endpoint} is {status}, not InService ({reason})"
    if served.endpoint_config and config != served.endpoint_config:
        return (f"endpoint {served.endpoint} runs configuration {config}, not {served.endpoint_config} that the "
                "deploy created: the rollout was rolled back (its alarms fired); see the alert topic")
    return None


def smoke(stack: str, served: dict[str, Served] | None, *, rows: int, min_auc: float,
          root: Path, sagemaker: Any, runtime: Any) -> tuple[list[str], list[str]]:
    """(summary table rows, problems) for every endpoint of `stack`."""
    from ml.serving import smoke_test

    problems = serving_plan.mismatches(serving_plan.pins(stack, root), served, stack)
    models = serving_plan.stack_models(stack, root) if served else {}
    table = []
    for model, entry in sorted((served or {}).items()):
        verdict, auc = endpoint_problem(entry, sagemaker), "-"
        if verdict is None and model not in models:
            verdict = f"not a model of the {stack} stack's config: its data and schema are unknown"
        if verdict is None:
            try:
                result = smoke_test.run(models[model], entry.endpoint, rows=rows, min_auc=min_auc, client=runtime,
                                        root=root)
                auc = "n/a" if result["auc"] is None else f"{result['auc']:.3f}"
            except smoke_test.SmokeTestError as err:
                verdict = str(err)
        if verdict:
            problems.append(f"{model}: {verdict}")
        table.append(f"| {model} | {entry.version} | `{entry.endpoint}` | {auc} | {'FAILED' if verdict else 'ok'} |")
    return table, problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--min-auc", type=float, default=0.6)
    args = parser.parse_args(argv)
    import boto3  # only when asking real endpoints

    root = Path.cwd()
    try:
        served = serving_plan.parse_served(os.environ.get("SERVED", ""), args.stack)
        table, problems = smoke(args.stack, served, rows=args.rows, min_auc=args.min_auc,
                                root=root, sagemaker=boto3.client("sagemaker", region_name=args.region),
                                runtime=boto3.client("sagemaker-runtime", region_name=args.region))
    except (OSError, ValueError, PlanError) as err:
        table, problems = [], [str(err)]
    print(f"### Endpoints of {args.stack} after the deploy\n")
    if table:
        print("| model | version | endpoint | ROC AUC on its own rows | smoke test |\n|---|---|---|---|---|")
        print("\n".join(table))
    else:
        print(f"No endpoint serves in {args.stack}.")
    for problem in (" ".join(p.split()) for p in problems):  # one line each: an annotation ends at a newline
        print(f"- **{problem}**")
        print(f"::error title=Smoke test {args.stack}::{problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
