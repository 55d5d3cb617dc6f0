"""``python -m ml COMMAND``: local tools for data scientists.

  local [--out DIR] [--data FILE]   training + inference pipelines end to end on this machine
  datasets [--out DIR] [--data FILE] write the derived data sets (raw UCI layout)
  drift --reference F --batch F ... the pipeline's drift check on two files (see ml.drift_cli)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

USAGE = __doc__.split("\n\n", 1)[1]


def _local(argv: list[str]) -> int:
    from ml import contract, local, output_dir

    parser = argparse.ArgumentParser(prog="python -m ml local",
                                     description=local.__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=local.DEFAULT_OUT,
                        help=f"output directory (default {local.DEFAULT_OUT})")
    parser.add_argument("--data", type=Path, default=contract.DATA_FILE,
                        help="labelled raw UCI file to derive the data sets from")
    args = parser.parse_args(argv)
    try:
        local.run_local(args.out, args.data)
    except (FileNotFoundError, ValueError, output_dir.OutputDirError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _datasets(argv: list[str]) -> int:
    from ml import contract, datasets

    parser = argparse.ArgumentParser(prog="python -m ml datasets",
                                     description="Write the derived data sets (ml/datasets.py).")
    parser.add_argument("--out", type=Path, default=Path("out/datasets"))
    parser.add_argument("--data", type=Path, default=contract.DATA_FILE)
    args = parser.parse_args(argv)
    try:
        paths = datasets.write_datasets(args.out, source=args.data)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # --out unwritable: a read-only directory, or a file in the way
        print(f"error: cannot write {error.filename or args.out}: {error.strerror or error}; "
              "pass --out with a directory you can write to", file=sys.stderr)
        return 2
    for name, path in paths.items():
        print(f"{name:<26} {path}")
    return 0


def main(argv: list[str]) -> int:
    """Dispatch ``argv`` (without the program name) to a command; returns the exit code."""
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m ml COMMAND [ARGS]\n\n" + USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "local":
        return _local(rest)
    if command == "datasets":
        return _datasets(rest)
    if command == "drift":
        # Imported lazily: scipy and the check load only when asked for.
        from ml import drift_cli

        return drift_cli.main(rest)
    print(f"error: unknown command {command!r}\n\nusage: python -m ml COMMAND [ARGS]\n\n{USAGE}",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
