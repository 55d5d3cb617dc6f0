"""Entry point for `pulumi up` (Pulumi.yaml sets `main: platform/`)."""
from mlops_platform.program import main

main()
