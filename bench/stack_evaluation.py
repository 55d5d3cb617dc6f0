"""Every stack evaluated with 1, 5 and 20 models: evaluation time with a cold and a warm
definition cache, peak memory, resource count, and the size of every IAM document.

The configurations are generated for the run (tests/support/many_models.py: the shipped models,
then clones of the mammography entry). Each evaluation runs in a fresh process, as each
`pulumi preview` does: the process first evaluates the registry stack (untimed: it loads what
every stack imports and gives the workload stacks their StackReference outputs), then the timed
stack. "cold": an empty definition cache (every definition and seed set built, the SageMaker SDK
and pandas imported); "warm": the cache the cold run filled (a repeated preview; what CI restores).
Peak memory is the process's peak resident set during the timed evaluation (Linux VmHWM, reset
before it), interpreter and imports included; tracemalloc is not used (it slows evaluation ~3x).

IAM documents are sized as AWS counts them (JSON without whitespace). A document of a resource
that exists at every N must keep its size; a per-model document (one per model, e.g. a group
policy) is listed once with its count and largest size. Aims: time and resources grow linearly
with the models, no document grows, a warm 20-model workload stack evaluates in under 5 s.

Run: .venv/bin/python bench/stack_evaluation.py [--models 1 5 20] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("registry", "dev", "prod")
WARM_TARGET_SECONDS = 5.0


def evaluate(stack: str, models: int, cache: str) -> dict:
    """One evaluation in this (fresh) process; what `main` prints, as a dict."""
    import logging
    import time

    logging.disable(logging.WARNING)  # the SageMaker SDK logs every popped field
    os.environ["MLOPS_DEFINITION_CACHE"] = cache
    from mlops_platform.offline.runner import run_stack
    from tests.support.many_models import MODELS_KEY, iam_documents, many_models_config

    config, secrets = many_models_config("registry", models)
    registry = run_stack("registry", config=config, secret_keys=secrets)
    config, secrets = many_models_config(stack, models)
    outputs = None if stack == "registry" else registry.outputs
    entries = len(list(Path(cache).glob("*.json")))
    reset_peak = _reset_peak_rss()
    start = time.perf_counter()
    run = run_stack(stack, config=config, secret_keys=secrets, registry_outputs=outputs)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mib": _peak_rss_mib(reset_peak),
            "built": len(list(Path(cache).glob("*.json"))) - entries,  # cache entries this run had to make
            "resources": len([r for r in run.resources if not r.type.startswith("pulumi:pulumi:")]),
            "documents": iam_documents(run, list(config[MODELS_KEY]))}


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def _peak_rss_mib(was_reset: bool) -> float:
    if was_reset:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    import resource  # the process's lifetime peak: an upper bound

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(stack: str, models: int, cache: str) -> dict:
    """`evaluate` in a fresh interpreter (the only way to measure a cold import and a clean peak)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    code = ("import json, sys; from bench.stack_evaluation import evaluate; "
            "print(json.dumps(evaluate(sys.argv[1], int(sys.argv[2]), sys.argv[3])))")
    done = subprocess.run([sys.executable, "-c", code, stack, str(models), cache], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"evaluating {stack} with {models} models failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(counts: list[int], runs: int) -> dict[tuple[str, int], dict]:
    """Per stack and model count: the cold evaluation, and the median of `runs` warm ones."""
    results = {}
    for count in counts:
        with tempfile.TemporaryDirectory() as cache:
            for stack in STACKS:
                cold = _child(stack, count, cache)
                warm = [_child(stack, count, cache) for _ in range(runs)]
                results[stack, count] = {"cold": cold, "warm_seconds": statistics.median(w["seconds"] for w in warm),
                                         "warm_peak_mib": max(w["peak_mib"] for w in warm),
                                         "warm_built": sum(w["built"] for w in warm)}
                print(f"  {stack} with {count} models: cold {cold['seconds']:.2f} s, warm "
                      f"{results[stack, count]['warm_seconds']:.2f} s", file=sys.stderr, flush=True)
    return results


def report(results: dict[tuple[str, int], dict], counts: list[int]) -> list[str]:
    """The tables, and every aim that was missed (empty when all were met)."""
    missed: list[str] = []
    print(f"\n{'stack':<10}{'models':>7}{'cold s':>9}{'warm s':>9}{'peak MiB cold/warm':>21}{'resources':>11}"
          f"{'+res/model':>12}{'+cold s/model':>15}{'+warm s/model':>15}")
    for stack in STACKS:
        previous = None
        for count in counts:
            r = results[stack, count]
            row = (r["cold"]["resources"], r["cold"]["seconds"], r["warm_seconds"])
            steps = ["-"] * 3 if previous is None else [
                f"{(now - before) / (count - previous[0]):.{digits}f}"
                for now, before, digits in zip(row, previous[1], (1, 3, 3), strict=True)]
            print(f"{stack:<10}{count:>7}{row[1]:>9.2f}{row[2]:>9.2f}"
                  f"{r['cold']['peak_mib']:>12.0f} / {r['warm_peak_mib']:<6.0f}{row[0]:>11}"
                  f"{steps[0]:>12}{steps[1]:>15}{steps[2]:>15}")
            previous = (count, row)
        largest = counts[-1]
        if stack != "registry" and largest >= 20 and results[stack, largest]["warm_seconds"] >= WARM_TARGET_SECONDS:
            missed.append(f"{stack}: a warm evaluation with {largest} models takes "
                          f"{results[stack, largest]['warm_seconds']:.2f} s (aim: < {WARM_TARGET_SECONDS} s)")
    for (stack, count), r in results.items():
        if r["warm_built"]:
            missed.append(f"{stack} with {count} models: the warm runs built {r['warm_built']} entries (ml code "
                          "changed during the run?): their time is not a warm one; run again")
    for stack in STACKS:
        missed += _documents_table(stack, results, counts)
    return missed


def _cell(sizes: list[int] | None) -> str:
    """One document's size at one N; `count x largest` for a per-model document; '-' if absent."""
    if not sizes:
        return "-"
    return str(sizes[0]) if len(sizes) == 1 else f"{len(sizes)}x{max(sizes)}"


def _documents_table(stack: str, results: dict, counts: list[int]) -> list[str]:
    from tests.support.many_models import DOCUMENT_LIMITS, over_limits

    missed = []
    print(f"\nIAM documents of {stack} (characters without whitespace; per-model ones: count x largest)")
    print(f"{'document':<58}" + "".join(f"{f'N={n}':>14}" for n in counts) + f"{'limit':>8}")
    rows: dict[tuple[str, str], dict[int, list[int]]] = {}
    for count in counts:
        documents = results[stack, count]["cold"]["documents"]
        for doc in documents:
            rows.setdefault((doc["type"], doc["name"]), {}).setdefault(count, []).append(doc["size"])
        missed += [f"{stack} with {count} models: {problem}" for problem in over_limits(documents)]
    for (typ, name), sizes in sorted(rows.items()):
        cells = "".join(f"{_cell(sizes.get(n)):>14}" for n in counts)
        print(f"{typ.split(':')[-1] + ' ' + name:<58.58}{cells}{DOCUMENT_LIMITS.get(typ, ''):>8}")
        largest = [max(sizes[n]) for n in counts if n in sizes]
        if len(set(largest)) > 1:
            missed.append(f"{stack}: {typ} {name} changes size with the number of models: {largest}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, nargs="+", default=[1, 5, 20], help="model counts (default 1 5 20)")
    parser.add_argument("--runs", type=int, default=3, help="warm evaluations per stack and count (median)")
    args = parser.parse_args()
    counts = sorted(set(args.models))
    print(f"evaluating {len(STACKS)} stacks x {counts} models, {args.runs} warm runs each "
          "(a fresh process per evaluation)", file=sys.stderr)
    missed = report(measure(counts, args.runs), counts)
    print("\naims: " + ("all met" if not missed else f"{len(missed)} missed"))
    for line in missed:
        print(f"  - {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
