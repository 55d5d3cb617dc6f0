"""``python -m ml drift``: compare a batch file with a reference file, print a JSON verdict.

The same check the inference pipeline runs (``ml/steps/drift_check.py``), for data scientists
on their own machine. Exit 0 with or without drift; exit 2 with a message on stderr when a
file is missing, unreadable or not the raw UCI layout.
"""
from __future__ import annotations

import argparse
import json
import sys

from ml.steps.drift_check import InputError, check_drift, load_input, write_reports


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ml drift",
        description="Test a batch for data drift against a reference (raw UCI layout: no "
                    "header, '?' for missing, 5 feature columns and an optional Severity).")
    parser.add_argument("--reference", required=True,
                        help="reference data file (or directory of files), e.g. the training split")
    parser.add_argument("--batch", required=True, help="batch data file (or directory) to test")
    parser.add_argument("--out", help="directory for drift_report.json and drift_report.md")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="family-wise false-alarm rate (default 0.05)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the drift check; print the verdict as JSON; return the process exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on bad arguments
        return int(exc.code or 0)
    try:
        reference = load_input(args.reference)
        batch = load_input(args.batch)
        result = check_drift(reference, batch, alpha=args.alpha)
    except (InputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        write_reports(result, args.out)
    print(json.dumps(result, indent=2, allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
