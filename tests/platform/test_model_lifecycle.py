"""The model loop in dev and prod: uploaded code, the Lambdas, both pipelines as dynamic
resources, the inference schedule and the drift -> retraining wiring."""
from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from moto.events.models import EventPattern

from ml import contract
from ml.pipelines.references import assert_references
from ml.superseded_code import GRACE_DAYS
from mlops_platform.components.events import MAX_EVENT_AGE_SECONDS, MAX_RETRY_ATTEMPTS
from mlops_platform.components.ml_code import lambda_packages
from tests.support.policies import as_list, by_sid, statements

PIPELINE = "pulumi-python:dynamic/mlops:SageMakerPipeline"
SUPERSEDED_CODE = "pulumi-python:dynamic/mlops:SupersededCode"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ACCOUNTS = {"dev": "222222222222", "prod": "333333333333"}
WORKLOADS = ["dev", "prod"]


def _pipeline(run, kind):
    return run.one(PIPELINE, kind)


def _objects(run):
    return {r.inputs["key"]: r for r in run.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}


@pytest.mark.parametrize("stack", WORKLOADS)
def test_both_pipelines_run_as_this_stacks_execution_role(stack, stacks):
    run = stacks[stack]
    for kind in ("training", "inference"):
        p = _pipeline(run, kind)
        assert p.inputs["name"] == f"mlops-{stack}-{kind}"
        assert p.inputs["role_arn"] == run.outputs["sagemakerExecutionRoleArn"]
        assert p.inputs["region"] == "eu-west-1"
        assert p.inputs["tags"]["stack"] == stack
        assert_references(p.inputs["definition"])


@pytest.mark.parametrize("stack", WORKLOADS)
def test_definitions_reference_the_uploaded_scripts_by_content_address(stack, stacks):
    run = stacks[stack]
    bucket = run.outputs["dataBucketName"]
    uploaded = {f"s3://{bucket}/{key}" for key in _objects(run)}
    scripts = {contract.PREPROCESS_SCRIPT, contract.EVALUATE_SCRIPT, contract.PREPARE_BATCH_SCRIPT,
               contract.DRIFT_CHECK_SCRIPT}
    text = _pipeline(run, "training").inputs["definition"] + _pipeline(run, "inference").inputs["definition"]
    referenced = {u for u in uploaded if u in text}
    assert {u.rsplit("/", 1)[-1] for u in referenced if u.endswith(".py")} == scripts
    for uri in (u for u in referenced if u.endswith(".py")):
        assert uri.split("/")[-2].isalnum() and len(uri.split("/")[-2]) == 16, f"{uri} is content-addressed"


@pytest.mark.parametrize("stack", WORKLOADS)
def test_definitions_use_the_registry_group_the_lambda_and_the_data_key(stack, stacks):
    run = stacks[stack]
    training = json.loads(_pipeline(run, "training").inputs["definition"])
    inference = _pipeline(run, "inference").inputs["definition"]
    assert stacks["registry"].outputs["modelPackageGroupArn"] in json.dumps(training)
    assert run.outputs["dataKeyArn"] in json.dumps(training)
    lookup = run.one("aws:lambda/function:Function", "latest-approved-model")
    assert f"function:{lookup.inputs['name']}" in inference
    assert run.outputs["dataKeyArn"] in inference


@pytest.mark.parametrize("stack", WORKLOADS)
def test_training_writes_what_a_model_refers_to_into_the_registry_under_its_own_prefix(stack, stacks):
    reg = stacks["registry"].outputs
    training = _pipeline(stacks[stack], "training").inputs["definition"]
    inference = _pipeline(stacks[stack], "inference").inputs["definition"]
    assert f'"{reg["artifactsBucketName"]}","models/{stack}"' in training
    assert reg["artifactsKeyArn"] in training
    assert reg["artifactsBucketName"] not in inference  # batch outputs stay in the account
    # ...and the roles and policies on both sides allow exactly that prefix.
    write = by_sid(stacks[stack].one("aws:iam/rolePolicy:RolePolicy", "sagemaker-policy").json("policy"),
                   "ReadWriteOwnModelArtifacts")
    assert write["Resource"] == f"{reg['artifactsBucketArn']}/models/{stack}/*"


@pytest.mark.parametrize("stack", WORKLOADS)
def test_lambdas_run_content_addressed_zips_with_their_own_roles(stack, stacks):
    run = stacks[stack]
    packages = {purpose: pkg for purpose, (pkg, _) in lambda_packages().items()}
    objects = _objects(run)
    lookup = run.one("aws:lambda/function:Function", "latest-approved-model")
    gate = run.one("aws:lambda/function:Function", "retrain-gate")
    for fn, purpose in ((lookup, "latest-approved-model"), (gate, "retrain-gate")):
        assert fn.inputs["s3Key"] == packages[purpose].key and fn.inputs["s3Key"] in objects
        assert fn.inputs["sourceCodeHash"] == packages[purpose].source_code_hash
    assert lookup.inputs["role"] == run.outputs["modelLookupRoleArn"]
    assert lookup.inputs["environment"]["variables"]["MODEL_PACKAGE_GROUP_NAME"] == \
        stacks["registry"].outputs["modelPackageGroupArn"]
    assert gate.inputs["role"].endswith(f":role/mlops-{stack}-retrain-gate-lambda")


def test_first_deploy_starts_training_and_seeds_data_in_dev_only(dev, prod):
    assert _pipeline(dev, "training").inputs["start_on_create"] is True
    assert _pipeline(dev, "inference").inputs["start_on_create"] is False
    assert _pipeline(prod, "training").inputs["start_on_create"] is False
    assert any(k.startswith("datasets/training/") for k in _objects(dev))
    assert not any(k.startswith("datasets/") for k in _objects(prod))


@pytest.mark.parametrize("stack", WORKLOADS)
def test_every_target_has_bounded_retries_and_the_encrypted_dead_letter_queue(stack, stacks):
    run = stacks[stack]
    targets = run.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 4
    for t in targets:
        assert t.inputs["retryPolicy"] == {"maximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                                           "maximumRetryAttempts": MAX_RETRY_ATTEMPTS}
        assert t.inputs["deadLetterConfig"]["arn"] == run.outputs["deadLetterQueueArn"]


@pytest.mark.parametrize("stack", WORKLOADS)
def test_schedule_starts_the_inference_pipeline_through_the_events_role(stack, stacks):
    run = stacks[stack]
    rule = run.one("aws:cloudwatch/eventRule:EventRule", "inference-schedule")
    expected = {"dev": "cron(0 6 * * ? *)", "prod": "cron(0 5 ? * MON-FRI *)"}[stack]
    assert rule.inputs["scheduleExpression"] == expected
    target = run.one("aws:cloudwatch/eventTarget:EventTarget", "inference-schedule-inference")
    assert target.inputs["arn"] == f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-inference"
    assert target.inputs["roleArn"] == run.outputs["eventsRoleArn"]
    # No parameters, so no block at all: an empty one crashes or diffs forever in the provider.
    assert "sagemakerPipelineTarget" not in target.inputs


@pytest.mark.parametrize("stack", ["registry", *WORKLOADS])
def test_no_event_target_sends_an_empty_pipeline_parameter_block(stack, stacks):
    targets = stacks[stack].of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert targets
    for t in targets:
        block = t.inputs.get("sagemakerPipelineTarget")
        assert block is None or block.get("pipelineParameterLists"), f"{t.name}: empty block {block}"


def _event(stack, step, status="Failed", pipeline="inference"):
    arn = f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-{pipeline}"
    return {"source": "aws.sagemaker", "detail-type": "SageMaker Model Building Pipeline Execution Step Status Change",
            "detail": {"stepName": step, "currentStepStatus": status, "pipelineArn": arn}}


@pytest.mark.parametrize("stack", WORKLOADS)
def test_only_the_drift_step_failing_reaches_the_retrain_gate(stack, stacks):
    run = stacks[stack]
    drift = EventPattern.load(run.one("aws:cloudwatch/eventRule:EventRule", "drift-detected").inputs["eventPattern"])
    drift_step, lookup_step = contract.INFERENCE_STEPS["drift_fail"], contract.INFERENCE_STEPS["latest_model"]
    assert drift.matches_event(_event(stack, drift_step))
    assert not drift.matches_event(_event(stack, lookup_step))  # "no approved model" is not drift
    assert not drift.matches_event(_event(stack, contract.INFERENCE_STEPS["transform"]))
    assert not drift.matches_event(_event(stack, drift_step, status="Succeeded"))
    assert not drift.matches_event(_event(stack, drift_step, pipeline="training"))
    other = "prod" if stack == "dev" else "dev"
    assert not drift.matches_event({**_event(stack, drift_step), "detail": _event(other, drift_step)["detail"]})
    target = run.one("aws:cloudwatch/eventTarget:EventTarget", "drift-detected-retrain-gate")
    # The ARN is an output: the mocks derive it from the function name, as AWS does.
    assert target.inputs["arn"].endswith(run.one("aws:lambda/function:Function", "retrain-gate").inputs["name"])
    permission = run.one("aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"].endswith(f"rule/mlops-{stack}-drift-detected")


@pytest.mark.parametrize("stack", WORKLOADS)
def test_other_failures_notify_the_alert_topic_and_drift_does_not(stack, stacks):
    run = stacks[stack]
    rule = run.one("aws:cloudwatch/eventRule:EventRule", "inference-failed")
    inference = EventPattern.load(rule.inputs["eventPattern"])
    assert inference.matches_event(_event(stack, contract.INFERENCE_STEPS["latest_model"]))
    assert inference.matches_event(_event(stack, contract.INFERENCE_STEPS["transform"]))
    assert not inference.matches_event(_event(stack, contract.INFERENCE_STEPS["drift_fail"]))
    for key in ("inference-failed-notify", "training-failed-notify"):
        assert run.one("aws:cloudwatch/eventTarget:EventTarget", key).inputs["arn"] == run.outputs["alertTopicArn"]


@pytest.mark.parametrize("stack", WORKLOADS)
def test_retrain_lease_table_is_encrypted_recoverable_and_expiring(stack, stacks):
    run = stacks[stack]
    table = run.one("aws:dynamodb/table:Table")
    assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": run.outputs["dataKeyArn"]}
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["ttl"]["enabled"] is True
    policy = run.one("aws:iam/rolePolicy:RolePolicy", "retrain-gate-policy").json("policy")
    start = by_sid(policy, "TrainingPipeline")
    assert start["Resource"] == f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-training"
    assert by_sid(policy, "RetrainLease")["Resource"].endswith(f":table/mlops-{stack}-retrain-lease")
    config = run.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == run.outputs["deadLetterQueueArn"]


def _scripts(run):
    return [o for o in _objects(run).values() if o.name.startswith("script-")]


@pytest.mark.parametrize("stack", WORKLOADS)
def test_a_script_replaced_by_a_deploy_is_kept_for_the_executions_that_still_need_it(stack, stacks):
    run = stacks[stack]
    scripts = _scripts(run)
    assert len(scripts) == 4 and all(o.retain_on_delete for o in scripts)
    # Lambda copies its code when the function changes; the seed sets are read at run time by key.
    assert not any(o.retain_on_delete for o in _objects(run).values() if o not in scripts)
    marker = run.one(SUPERSEDED_CODE)
    assert marker.inputs["keys"] == sorted(o.inputs["key"] for o in scripts)
    assert marker.inputs["bucket"] == run.outputs["dataBucketName"]
    assert marker.inputs["region"] == "eu-west-1"
    definitions = "".join(_pipeline(run, kind).inputs["definition"] for kind in ("training", "inference"))
    assert all(f"s3://{marker.inputs['bucket']}/{key}" in definitions for key in marker.inputs["keys"])


@pytest.mark.parametrize("stack", ["registry", *WORKLOADS])
def test_no_bucket_expires_a_current_object_only_tagged_superseded_scripts(stack, stacks):
    for lifecycle in stacks[stack].of_type(LIFECYCLE):
        expiring = [r for r in lifecycle.inputs["rules"] if "expiration" in r]
        if stack == "registry":
            assert expiring == [], "models and their artifacts never expire"
            continue
        rule, = expiring
        assert rule["expiration"] == {"days": GRACE_DAYS}
        assert rule["filter"] == {"and": {"prefix": "code/steps/", "tags": {contract.SUPERSEDED_TAG: "true"}}}
        for script in _scripts(stacks[stack]):  # uploaded untagged: current code never matches
            assert script.inputs["key"].startswith("code/steps/")
            assert contract.SUPERSEDED_TAG not in (script.inputs.get("tags") or {})


@pytest.mark.parametrize("stack", WORKLOADS)
def test_the_deploy_role_may_mark_a_superseded_script(stack, stacks):
    run = stacks[stack]
    key = _scripts(run)[0].inputs["key"]
    arn = f"arn:aws:s3:::{run.outputs['dataBucketName']}/{key}"
    deploy = run.one("aws:iam/rolePolicy:RolePolicy", "github-deploy").json("policy")
    boundary_arn = run.one("aws:iam/role:Role", "github-deploy").inputs["permissionsBoundary"]
    boundary, = [p.json("policy") for p in run.of_type("aws:iam/policy:Policy")
                 if boundary_arn.endswith(f":policy/{p.inputs['name']}")]
    # HeadObject, GetObjectTagging, CopyObject onto itself with a new tag set.
    for action in ("s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:PutObjectTagging"):
        for doc in (deploy, boundary):
            matching = [st for st in statements(doc) if action in as_list(st["Action"])
                        and any(fnmatchcase(arn, r) for r in as_list(st["Resource"]))]
            assert any(st["Effect"] == "Allow" for st in matching), f"{action} on {arn}"
            assert not any(st["Effect"] == "Deny" for st in matching), f"{action} denied on {arn}"
