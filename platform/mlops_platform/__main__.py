"""`python -m mlops_platform plan [--stack NAME]`: the offline plan."""
import sys

from mlops_platform.offline.plan import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0] != "plan":
        print("usage: python -m mlops_platform plan [--stack registry|dev|prod]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(args[1:]))
