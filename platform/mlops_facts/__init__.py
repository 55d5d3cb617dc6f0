"""Facts shared by the Pulumi program, its offline runner, the ML pipelines and the policy pack.

Standard library only: the policy pack runs in its own virtualenv (pulumi-policy pins
protobuf 5.x, the project needs 6.x) where neither this project nor its dependencies are
installed, and imports this package from the repository's `platform/` directory. Facts are
what AWS or this platform *is* (regions, ARN formats, names, actions without resource-level
permissions); rules about what is allowed stay in each consumer, so the pack remains a second
opinion on the program.
"""
from mlops_facts.arns import arn
from mlops_facts.regions import KNOWN_REGIONS, REGION, Partition, partition

__all__ = ["KNOWN_REGIONS", "REGION", "Partition", "arn", "partition"]
