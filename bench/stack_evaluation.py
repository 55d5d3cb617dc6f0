"""Per stack: program evaluation time under the mock runtime (median of N runs), peak
memory, and the number of resources. Run: .venv/bin/python bench/stack_evaluation.py"""
from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from mlops_platform.offline.runner import STACKS, run_stack


def measure(stack: str, registry_outputs, runs: int) -> tuple[float, float, int]:
    times, peaks, count = [], [], 0
    for _ in range(runs):
        tracemalloc.start()
        start = time.perf_counter()
        run = run_stack(stack, registry_outputs=registry_outputs)
        times.append(time.perf_counter() - start)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        count = len([r for r in run.resources if not r.type.startswith("pulumi:pulumi:")])
    return statistics.median(times), max(peaks) / 2**20, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    registry = run_stack("registry")  # warms imports, feeds the workload stacks
    print(f"first evaluation incl. imports: {time.perf_counter() - start:.2f} s")
    print(f"{'stack':<10}{'median s':>10}{'peak MiB':>10}{'resources':>11}   (runs={args.runs})")
    for stack in STACKS:
        median, peak, count = measure(stack, None if stack == "registry" else registry.outputs, args.runs)
        print(f"{stack:<10}{median:>10.3f}{peak:>10.1f}{count:>11}")


if __name__ == "__main__":
    main()
