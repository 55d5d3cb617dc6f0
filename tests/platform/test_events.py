"""GuardedRule: the pipeline-parameter block of a target is sent only when it has content."""
from __future__ import annotations

import pulumi

from mlops_platform.components.events import GuardedRule, GuardedRuleArgs, RuleTarget, pipeline_target
from tests.support.stacks import run_stack

PIPELINE = "arn:aws:sagemaker:eu-west-1:222222222222:pipeline/mlops-dev-inference"


def test_parameters_are_sent_sorted_and_no_parameters_send_no_block():
    assert pipeline_target({}) is None
    assert pipeline_target({"b": "2", "a": "1"}) == {
        "pipeline_parameter_lists": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}


def test_registered_targets_carry_the_block_only_with_parameters(registry):
    def program():
        GuardedRule("schedule", GuardedRuleArgs(
            rule_name="mlops-dev-schedule", description="test", dead_letter_arn="arn:aws:sqs:eu-west-1:2:dlq",
            schedule_expression="rate(1 day)",
            targets=[RuleTarget(key="defaults", arn=PIPELINE, role_arn="arn:aws:iam::2:role/r"),
                     RuleTarget(key="batch", arn=PIPELINE, role_arn="arn:aws:iam::2:role/r",
                                pipeline_parameters={"BatchDataUri": "s3://bucket/datasets/batches/x/"})]))
        pulumi.export("done", True)

    run = run_stack("dev", program=program, registry_outputs=registry.outputs)
    targets = {t.name: t.inputs for t in run.of_type("aws:cloudwatch/eventTarget:EventTarget")}
    assert "sagemakerPipelineTarget" not in targets["schedule-defaults"]
    assert targets["schedule-batch"]["sagemakerPipelineTarget"] == {"pipelineParameterLists": [
        {"name": "BatchDataUri", "value": "s3://bucket/datasets/batches/x/"}]}
