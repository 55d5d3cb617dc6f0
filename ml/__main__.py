"""``python -m ml COMMAND``: local tools for data scientists, for every model of ``Pulumi.yaml``.

  local [--model NAME] [--out DIR] [--data FILE]     training + inference pipelines end to end
  datasets [--model NAME] [--out DIR] [--data FILE]  write the derived data sets (the model's layout)
  drift [--model NAME] --reference F --batch F ...   the pipeline's drift check on two files (ml.drift_cli)

Without --model, local and datasets run every model (output under DIR/<model>/); --data replaces
one model's data file, so it needs --model when the project has more than one.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

USAGE = __doc__.split("\n\n", 1)[1]


def _models_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="the model to run (a key of mlops-platform:models); default: every model")


def _local(argv: list[str]) -> int:
    from ml import local, model_selection, output_dir

    parser = argparse.ArgumentParser(prog="python -m ml local", description=local.__doc__.split("\n")[0])
    _models_argument(parser)
    parser.add_argument("--out", type=Path, default=local.DEFAULT_OUT,
                        help=f"output directory (default {local.DEFAULT_OUT}); each model under <out>/<model>/")
    parser.add_argument("--data", type=Path, help="labelled data file in the model's layout (default: its dataFile)")
    args = parser.parse_args(argv)
    try:
        specs = model_selection.select(args.model, data=args.data)
        local.run_local(specs, args.out, args.data)
    except (FileNotFoundError, ValueError, output_dir.OutputDirError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _datasets(argv: list[str]) -> int:
    from ml import datasets, model_selection

    parser = argparse.ArgumentParser(prog="python -m ml datasets",
                                     description="Write the derived data sets (ml/datasets.py), one folder per model.")
    _models_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("out/datasets"))
    parser.add_argument("--data", type=Path)
    args = parser.parse_args(argv)
    try:
        specs = model_selection.select(args.model, data=args.data)
        for spec in specs:  # every file checked before any is written
            datasets.read_data(spec, args.data, labelled=True)
        written = {spec.name: datasets.write_datasets(spec, args.out / spec.name, source=args.data) for spec in specs}
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # --out unwritable: a read-only directory, or a file in the way
        print(f"error: cannot write {error.filename or args.out}: {error.strerror or error}; "
              "pass --out with a directory you can write to", file=sys.stderr)
        return 2
    for model, paths in written.items():
        for name, path in paths.items():
            print(f"{model:<14} {name:<28} {path}")
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
