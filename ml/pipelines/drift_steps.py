"""The steps both drift pipelines share: the latest approved model they start with (whose drift
reference they compare against), and the ones they end with: the drift check, a fail step named
for drift when it finds drift, and a fail step of its own when there is too little data to judge.

The batch inference pipeline (inference.py) checks the batch it scored; the live-drift pipeline
(live_drift.py) an endpoint's captured requests. Same step names (`contract.INFERENCE_STEPS`), so
one retraining rule and one gate serve both: only the drift fail step starts retraining, the
too-little-data one notifies. Call these inside `offline_sdk` (ml/pipelines/offline_sdk.py).
"""
from __future__ import annotations

from ml import contract
from ml.pipelines import building_blocks as blocks
from ml.pipelines.settings import PipelineSettings

STEPS = contract.INFERENCE_STEPS
DRIFT_PROPERTY_FILE = "DriftReport"
# What the Lambda step sends the function: the group whose latest approved version it returns.
# Same key as ml/lambdas/latest_approved_model.py reads (it accepts a name or an ARN).
LAMBDA_INPUT_GROUP = "ModelPackageGroupName"


def latest_model_step(settings: PipelineSettings, session):
    """The model's latest *Approved* version, looked up at run time by the model's Lambda
    (referenced by ARN only: the SDK would otherwise create or update the function), with the S3
    locations of verified copies of its artifacts, its drift reference among them."""
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep

    # Not cached: "latest approved" changes whenever an approver acts.
    return LambdaStep(
        name=STEPS["latest_model"],
        lambda_func=Lambda(function_arn=settings.latest_model_lambda_arn, session=session),
        inputs={LAMBDA_INPUT_GROUP: settings.model_package_group_arn},
        outputs=[LambdaOutput(output_name=o, output_type=LambdaOutputTypeEnum.String)
                 for o in contract.LATEST_MODEL_OUTPUTS],
    )


def drift_step(settings: PipelineSettings, session, *, pipeline_name: str, instance_type, image_uri: str,
               batch, reference, depends_on: list | None = None, arguments: tuple[str, ...] = ()):
    """The drift check of `batch` against `reference` (the model's, from the Lambda step), and
    the property file its conditions read."""
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.steps import ProcessingStep

    step = STEPS["drift_check"]
    report = PropertyFile(name=DRIFT_PROPERTY_FILE, output_name="drift", path=contract.DRIFT_REPORT_FILE)
    args = blocks.run_script(settings, session, pipeline_name=pipeline_name, step=step, job="drift-check",
                             script=contract.DRIFT_CHECK_SCRIPT, instance_type=instance_type,
                             image_uri=image_uri, outputs=("drift",),
                             inputs={"batch": batch, "reference": reference}, arguments=arguments)
    # Not cached: the cache key holds the input URIs, not their content, so a cached verdict
    # could hide drift in new data written to the same location.
    step_obj = ProcessingStep(
        name=step,
        step_args=args,
        property_files=[report],
        depends_on=depends_on,
        retry_policies=blocks.job_retry_policies(),
    )
    return step_obj, report


def drift_gate(drift, report, message: str):
    """Fails the execution under the drift fail step's name when the check found drift."""
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep

    detected = JsonGet(step_name=drift.name, property_file=report, json_path=contract.DRIFT_DETECTED_PATH)
    fail = FailStep(name=STEPS["drift_fail"], error_message=message)
    return ConditionStep(
        name=STEPS["drift_condition"],
        conditions=[ConditionEquals(left=detected, right=True)],
        if_steps=[fail],
        else_steps=[],
    )


def too_little_data_gate(drift, report, message: str):
    """Fails the execution under a name of its own (not drift) when the check could not judge."""
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.functions import JsonGet
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep

    verdict = JsonGet(step_name=drift.name, property_file=report, json_path=contract.DRIFT_VERDICT_PATH)
    fail = FailStep(name=STEPS["insufficient_data_fail"], error_message=message)
    return ConditionStep(
        name=STEPS["insufficient_data_condition"],
        conditions=[ConditionEquals(left=verdict, right=contract.DRIFT_VERDICT_INSUFFICIENT_DATA)],
        if_steps=[fail],
        else_steps=[],
    )
