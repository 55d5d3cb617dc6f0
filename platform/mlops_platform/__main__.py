"""`python -m mlops_platform plan [--stack NAME] [--json | --diff OLD.json]`: the offline plan;
`python -m mlops_platform definitions [--stack dev|prod] [--out DIR]`: the pipeline definitions."""
import sys

USAGE = ("usage: python -m mlops_platform plan [--stack registry|dev|prod] [--json | --diff OLD.json]\n"
         "       python -m mlops_platform definitions [--stack dev|prod] [--out DIR]")


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(f"{USAGE}\n\n`python -m mlops_platform COMMAND --help` explains each command.")
        return 0
    if argv[:1] == ["definitions"]:
        from mlops_platform.offline.definitions import main as definitions

        return definitions(argv[1:])
    if not argv or argv[0] != "plan":
        got = f"unknown command {argv[0]!r}" if argv else "no command given"
        print(f"{USAGE}\nerror: {got}: the commands are `plan` and `definitions`.", file=sys.stderr)
        return 2
    from mlops_platform.offline.plan import main as plan

    return plan(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
