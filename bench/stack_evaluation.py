"""Per stack: program evaluation time under the mock runtime (median of N runs), peak
memory, and the number of resources; once building the pipeline definitions every run
(cold: `MLOPS_DEFINITION_CACHE=off`), once with the definition cache (a repeated preview).

Run: .venv/bin/python bench/stack_evaluation.py [--runs N]
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import tracemalloc

from mlops_platform.offline.runner import STACKS, run_stack


def measure(stack: str, registry_outputs, runs: int) -> tuple[float, float, int]:
    """Median wall time of `runs` evaluations; peak traced memory from one more (tracemalloc
    slows allocation-heavy code several-fold, so it never runs while timing)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run = run_stack(stack, registry_outputs=registry_outputs)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    run_stack(stack, registry_outputs=registry_outputs)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    count = len([r for r in run.resources if not r.type.startswith("pulumi:pulumi:")])
    return statistics.median(times), peak, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the SageMaker SDK logs every popped field
    start = time.perf_counter()
    registry = run_stack("registry")
    print(f"first evaluation incl. imports: {time.perf_counter() - start:.2f} s   (runs={args.runs})")
    print(f"{'stack':<10}{'definitions':>13}{'median s':>10}{'peak MiB':>10}{'resources':>11}")
    with tempfile.TemporaryDirectory() as cache:
        for mode, value in (("built", "off"), ("cached", cache)):
            os.environ["MLOPS_DEFINITION_CACHE"] = value
            for stack in STACKS:
                outputs = None if stack == "registry" else registry.outputs
                if mode == "cached":
                    run_stack(stack, registry_outputs=outputs)  # fill the cache
                median, peak, count = measure(stack, outputs, args.runs)
                print(f"{stack:<10}{mode:>13}{median:>10.3f}{peak:>10.1f}{count:>11}")


if __name__ == "__main__":
    main()
