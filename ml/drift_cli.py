"""``python -m ml drift``: compare a batch file with a reference file, print a JSON verdict.

The same check the inference pipeline runs (``ml/steps/drift_check.py``), for data scientists on
their own machine, planned from the model's schema (``--model``; may be left out when the
project has one model). Exit codes: 0 the check judged (drift or no drift: read ``verdict``);
3 too little data to judge (``verdict: insufficient_data``); 2 an unknown model, a file that is
missing, unreadable or not in the model's layout, or an ``--out`` that cannot be written (the
verdict is still printed then).
"""
from __future__ import annotations

import argparse
import json
import sys

from ml import model_selection, step_library
from ml.steps.drift_check import MIN_ROWS, VERDICT_INSUFFICIENT, check_drift, load_input, write_reports

EXIT_JUDGED, EXIT_ERROR, EXIT_INSUFFICIENT_DATA = 0, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ml drift",
        description="Test a batch for data drift against a reference, both in the model's raw layout "
                    "(its schema in Pulumi.yaml: columns, header, missing-value token; the label optional).",
        epilog="exit status: 0 judged (drift or not), 3 too little data to judge, 2 error")
    parser.add_argument("--model", help="the model whose schema the files follow (required with several models)")
    parser.add_argument("--reference", required=True,
                        help="reference data file (or directory of files), e.g. the training split")
    parser.add_argument("--batch", required=True, help="batch data file (or directory) to test")
    parser.add_argument("--out", help="directory for drift_report.json and drift_report.md")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="family-wise false-alarm rate (default 0.05)")
    parser.add_argument("--min-rows", type=int, default=MIN_ROWS,
                        help=f"fewer rows in the batch or the reference: too little data to "
                             f"judge (default {MIN_ROWS})")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the drift check; print the verdict as JSON; return the process exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on bad arguments
        return int(exc.code or 0)
    try:
        (spec,) = model_selection.select(args.model, single=True)
        schema = step_library.schema(spec)
        reference = load_input(args.reference, schema)
        batch = load_input(args.batch, schema)
        result = check_drift(reference, batch, schema, alpha=args.alpha, min_rows=args.min_rows)
    except ValueError as exc:  # InputError, SchemaError and ModelConfigError are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    # The verdict first: a report that cannot be written must not hide it.
    print(json.dumps(result, indent=2, allow_nan=False))
    if args.out:
        try:
            write_reports(result, args.out)
        except OSError as exc:
            print(f"error: cannot write the drift reports to {args.out} ({exc.strerror or exc}); "
                  "pass --out with a directory you can write to, or leave --out out",
                  file=sys.stderr)
            return EXIT_ERROR
    return EXIT_INSUFFICIENT_DATA if result["verdict"] == VERDICT_INSUFFICIENT else EXIT_JUDGED


if __name__ == "__main__":
    sys.exit(main())
