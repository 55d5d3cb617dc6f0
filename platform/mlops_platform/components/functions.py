"""The platform's Lambda functions."""
from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from mlops_platform.components.ml_code import LambdaPackage


@dataclass(frozen=True)
class PlatformFunctionArgs:
    function_name: str
    description: str
    package: LambdaPackage
    bucket_name: str
    role_arn: pulumi.Input[str]
    environment: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    timeout_seconds: int = 60
    log_retention_days: int = 90
    reserved_concurrency: int | None = None


class PlatformFunction(pulumi.ComponentResource):
    """A Python Lambda whose code is a content-addressed zip in the data bucket, with its log
    group created (and retained for a bounded time) by Pulumi rather than on first run."""

    def __init__(self, name: str, args: PlatformFunctionArgs, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops:ml:PlatformFunction", name, None, opts)
        logs = aws.cloudwatch.LogGroup(name, name=f"/aws/lambda/{args.function_name}",
                                       retention_in_days=args.log_retention_days,
                                       opts=pulumi.ResourceOptions(parent=self))
        self.function = aws.lambda_.Function(
            name, name=args.function_name, description=args.description, runtime="python3.12",
            architectures=["arm64"], handler=args.package.handler, role=args.role_arn,
            s3_bucket=args.bucket_name, s3_key=args.package.key,
            source_code_hash=args.package.source_code_hash, timeout=args.timeout_seconds, memory_size=256,
            reserved_concurrent_executions=args.reserved_concurrency,
            environment={"variables": dict(sorted(args.environment.items()))} if args.environment else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs, *depends_on]))
        self.arn = self.function.arn
        self.name = self.function.name
        self.register_outputs({"arn": self.arn})
