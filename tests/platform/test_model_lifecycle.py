"""The model loops in dev and prod: uploaded code, and per model the Lambdas, both pipelines as
dynamic resources, the inference schedule and the drift -> retraining wiring."""
from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from moto.events.models import EventPattern

from ml import contract, packaging
from ml.pipelines.references import assert_references
from ml.superseded_code import GRACE_DAYS
from mlops_platform.components.events import MAX_EVENT_AGE_SECONDS, MAX_RETRY_ATTEMPTS
from mlops_platform.components.ml_code import lambda_packages
from mlops_platform.iam_documents.workload import model_outputs_prefix
from tests.platform.shipped import model, model_names, names
from tests.support.policies import as_list, by_sid, statements

PIPELINE = "pulumi-python:dynamic/mlops:SageMakerPipeline"
SUPERSEDED_CODE = "pulumi-python:dynamic/mlops:SupersededCode"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ACCOUNTS = {"dev": "222222222222", "prod": "333333333333"}
WORKLOADS = ["dev", "prod"]
# Every (stack, model) of the shipped configuration.
EVERY_MODEL = [(stack, name) for stack in WORKLOADS for name in model_names(stack)]


def _names(stack, name):
    return names(stack, model(stack, name))


def _pipeline(run, kind, name=None):
    return run.one(PIPELINE, _names(run.stack, name or model_names(run.stack)[0]).logical(kind))


def _function(run, purpose, name):
    return run.one("aws:lambda/function:Function", _names(run.stack, name).logical(purpose))


def _group_arn(stacks, name):
    return stacks["registry"].outputs["modelPackageGroups"][name]["arn"]


def _objects(run):
    return {r.inputs["key"]: r for r in run.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_both_pipelines_of_every_model_run_as_this_stacks_execution_role(stack, name, stacks):
    run = stacks[stack]
    for kind in ("training", "inference"):
        p = _pipeline(run, kind, name)
        assert p.inputs["name"] == _names(stack, name).pipeline_name(kind)
        assert p.inputs["name"] == (f"mlops-{stack}-{kind}" if model(stack, name).first
                                    else f"mlops-{stack}-{name}-{kind}")
        assert p.inputs["role_arn"] == run.outputs["sagemakerExecutionRoleArn"]
        assert p.inputs["region"] == "eu-west-1"
        assert p.inputs["tags"]["stack"] == stack
        assert_references(p.inputs["definition"])


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_definitions_reference_the_uploaded_scripts_by_content_address(stack, name, stacks):
    run = stacks[stack]
    bucket = run.outputs["dataBucketName"]
    uploaded = {f"s3://{bucket}/{key}" for key in _objects(run)}
    scripts = {contract.PREPROCESS_SCRIPT, contract.EVALUATE_SCRIPT, contract.PREPARE_BATCH_SCRIPT,
               contract.DRIFT_CHECK_SCRIPT}
    text = _pipeline(run, "training", name).inputs["definition"] + _pipeline(run, "inference", name).inputs["definition"]
    referenced = {u for u in uploaded if u in text}
    assert {u.rsplit("/", 1)[-1] for u in referenced if u.endswith(".py")} == scripts
    for uri in (u for u in referenced if u.endswith(".py")):
        assert uri.split("/")[-2].isalnum() and len(uri.split("/")[-2]) == 16, f"{uri} is content-addressed"


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_definitions_use_the_models_own_group_and_lambda_and_the_data_key(stack, name, stacks):
    run = stacks[stack]
    training = json.dumps(json.loads(_pipeline(run, "training", name).inputs["definition"]))
    inference = _pipeline(run, "inference", name).inputs["definition"]
    assert _group_arn(stacks, name) in training
    others = [_group_arn(stacks, other) for other in model_names(stack) if other != name]
    assert others and not any(group in training + inference for group in others)
    assert run.outputs["dataKeyArn"] in training
    lookup = _function(run, "latest-approved-model", name)
    assert f"function:{lookup.inputs['name']}" in inference
    assert run.outputs["dataKeyArn"] in inference


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_training_writes_what_a_model_refers_to_into_the_registry_under_its_own_prefix(stack, name, stacks):
    reg = stacks["registry"].outputs
    n = _names(stack, name)
    training = _pipeline(stacks[stack], "training", name).inputs["definition"]
    inference = _pipeline(stacks[stack], "inference", name).inputs["definition"]
    # <bucket>/<prefix>/<pipeline>/<execution>/...: exactly what the model's lookup Lambda serves.
    assert f'"{reg["artifactsBucketName"]}","{n.artifacts_prefix}","{n.pipeline_name("training")}"' in training
    assert model_outputs_prefix(n, stack) == f"{n.artifacts_prefix}/{n.pipeline_name('training')}/"
    assert reg["artifactsKeyArn"] in training
    assert reg["artifactsBucketName"] not in inference  # batch outputs stay in the account
    # ...and the roles and policies on both sides allow exactly that prefix.
    write = by_sid(stacks[stack].one("aws:iam/rolePolicy:RolePolicy", "sagemaker-policy").json("policy"),
                   "ReadWriteOwnModelArtifacts")
    assert write["Resource"] == f"{reg['artifactsBucketArn']}/models/{stack}/*"


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_every_models_lambdas_run_content_addressed_zips_with_the_stacks_roles(stack, name, stacks):
    run = stacks[stack]
    packages = {purpose: pkg for purpose, (pkg, _) in lambda_packages().items()}
    objects = _objects(run)
    lookup, gate = _function(run, "latest-approved-model", name), _function(run, "retrain-gate", name)
    prefix = _names(stack, name).prefix
    assert (lookup.inputs["name"], gate.inputs["name"]) == (f"{prefix}-latest-approved-model", f"{prefix}-retrain-gate")
    for fn, purpose in ((lookup, "latest-approved-model"), (gate, "retrain-gate")):
        assert fn.inputs["s3Key"] == packages[purpose].key and fn.inputs["s3Key"] in objects
        assert fn.inputs["sourceCodeHash"] == packages[purpose].source_code_hash
    # One role per job for every model (so no IAM document grows with them).
    assert lookup.inputs["role"] == run.outputs["modelLookupRoleArn"]
    assert lookup.inputs["environment"]["variables"]["MODEL_PACKAGE_GROUP_NAME"] == _group_arn(stacks, name)
    assert gate.inputs["role"].endswith(f":role/mlops-{stack}-retrain-gate-lambda")


@pytest.mark.parametrize("stack", WORKLOADS)
def test_each_lookup_serves_only_its_own_models_artifacts(stack, stacks):
    # One role reads every model's artifacts; each model's Lambda accepts only its own prefixes,
    # so a version in its group whose files are another model's is refused, never served.
    served = {name: _function(stacks[stack], "latest-approved-model", name).inputs["environment"]["variables"]
              for name in model_names(stack)}
    for name, env in served.items():
        mine = env["SERVED_MODEL_PREFIXES"].split(",") + env.get("UNSERVED_MODEL_PREFIXES", "").split(",")
        for other, other_env in served.items():
            if other == name:
                continue
            theirs = other_env["SERVED_MODEL_PREFIXES"].split(",")
            assert not any(t.startswith(m) or m.startswith(t) for m in mine if m for t in theirs), (name, other)
    expected = {"dev": ["dev"], "prod": ["dev", "prod"]}[stack]
    for name, env in served.items():
        n = _names(stack, name)
        assert env["SERVED_MODEL_PREFIXES"].split(",") == [model_outputs_prefix(n, s) for s in expected]


def test_first_deploy_starts_training_and_seeds_data_where_the_model_says(dev, prod):
    for run in (dev, prod):
        for name in model_names(run.stack):
            first_run = model(run.stack, name).first_training_run
            assert _pipeline(run, "training", name).inputs["start_on_create"] is first_run
            assert _pipeline(run, "inference", name).inputs["start_on_create"] is False
            seeded = [k for k in _objects(run) if k.startswith(_names(run.stack, name).training_data_prefix)]
            assert bool(seeded) is first_run, (run.stack, name)
    assert model(dev.stack, "mammography").first_training_run and not model(prod.stack, "mammography").first_training_run
    assert any(k.startswith("datasets/training/") for k in _objects(dev))
    assert not any(k.startswith("datasets/") for k in _objects(prod))


@pytest.mark.parametrize("stack", WORKLOADS)
def test_every_target_has_bounded_retries_and_the_encrypted_dead_letter_queue(stack, stacks):
    run = stacks[stack]
    targets = run.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 4 * len(model_names(stack))  # schedule, drift, two failure rules per model
    for t in targets:
        assert t.inputs["retryPolicy"] == {"maximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
                                           "maximumRetryAttempts": MAX_RETRY_ATTEMPTS}
        assert t.inputs["deadLetterConfig"]["arn"] == run.outputs["deadLetterQueueArn"]


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_schedule_starts_the_models_inference_pipeline_through_the_events_role(stack, name, stacks):
    run, n = stacks[stack], _names(stack, name)
    rule = run.one("aws:cloudwatch/eventRule:EventRule", n.logical("inference-schedule"))
    assert rule.inputs["scheduleExpression"] == model(stack, name).inference_schedule
    assert rule.inputs["name"] == f"{n.prefix}-inference-schedule"
    if model(stack, name).first:
        assert rule.inputs["scheduleExpression"] == {"dev": "cron(0 6 * * ? *)", "prod": "cron(0 5 ? * MON-FRI *)"}[stack]
    target = run.one("aws:cloudwatch/eventTarget:EventTarget", n.logical("inference-schedule-inference"))
    assert target.inputs["arn"] == f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/{n.pipeline_name('inference')}"
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


def _event(stack, step, status="Failed", pipeline="inference", name=None):
    pipeline_name = _names(stack, name or model_names(stack)[0]).pipeline_name(pipeline)
    arn = f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/{pipeline_name}"
    return {"source": "aws.sagemaker", "detail-type": "SageMaker Model Building Pipeline Execution Step Status Change",
            "detail": {"stepName": step, "currentStepStatus": status, "pipelineArn": arn}}


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_only_the_models_drift_step_failing_reaches_its_retrain_gate(stack, name, stacks):
    run, n = stacks[stack], _names(stack, name)
    rule = run.one("aws:cloudwatch/eventRule:EventRule", n.logical("drift-detected"))
    drift = EventPattern.load(rule.inputs["eventPattern"])
    drift_step, lookup_step = contract.INFERENCE_STEPS["drift_fail"], contract.INFERENCE_STEPS["latest_model"]
    assert drift.matches_event(_event(stack, drift_step, name=name))
    assert not drift.matches_event(_event(stack, lookup_step, name=name))  # "no approved model" is not drift
    assert not drift.matches_event(_event(stack, contract.INFERENCE_STEPS["transform"], name=name))
    assert not drift.matches_event(_event(stack, drift_step, status="Succeeded", name=name))
    assert not drift.matches_event(_event(stack, drift_step, pipeline="training", name=name))
    for other in model_names(stack):  # another model's drift retrains that model only
        if other != name:
            assert not drift.matches_event(_event(stack, drift_step, name=other))
    other_stack = "prod" if stack == "dev" else "dev"
    assert not drift.matches_event({**_event(stack, drift_step, name=name),
                                    "detail": _event(other_stack, drift_step, name=name)["detail"]})
    target = run.one("aws:cloudwatch/eventTarget:EventTarget", n.logical("drift-detected-retrain-gate"))
    # The ARN is an output: the mocks derive it from the function name, as AWS does.
    assert target.inputs["arn"].endswith(_function(run, "retrain-gate", name).inputs["name"])
    permission = run.one("aws:lambda/permission:Permission", n.logical("retrain-gate-invoke"))
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"].endswith(f"rule/{n.prefix}-drift-detected")
    assert permission.inputs["function"] == _function(run, "retrain-gate", name).inputs["name"]


@pytest.mark.parametrize("stack, name", EVERY_MODEL)
def test_other_failures_notify_the_alert_topic_and_drift_does_not(stack, name, stacks):
    run, n = stacks[stack], _names(stack, name)
    rule = run.one("aws:cloudwatch/eventRule:EventRule", n.logical("inference-failed"))
    inference = EventPattern.load(rule.inputs["eventPattern"])
    assert inference.matches_event(_event(stack, contract.INFERENCE_STEPS["latest_model"], name=name))
    assert inference.matches_event(_event(stack, contract.INFERENCE_STEPS["transform"], name=name))
    assert not inference.matches_event(_event(stack, contract.INFERENCE_STEPS["drift_fail"], name=name))
    for key in ("inference-failed-notify", "training-failed-notify"):
        target = run.one("aws:cloudwatch/eventTarget:EventTarget", n.logical(key))
        assert target.inputs["arn"] == run.outputs["alertTopicArn"]


@pytest.mark.parametrize("stack", WORKLOADS)
def test_retrain_lease_table_is_encrypted_recoverable_expiring_and_one_lease_per_model(stack, stacks):
    run = stacks[stack]
    table = run.one("aws:dynamodb/table:Table")
    assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": run.outputs["dataKeyArn"]}
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["ttl"]["enabled"] is True
    policy = run.one("aws:iam/rolePolicy:RolePolicy", "retrain-gate-policy").json("policy")
    start = by_sid(policy, "TrainingPipeline")
    # Every model's training pipeline, and none of the inference pipelines.
    assert start["Resource"] == f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[stack]}:pipeline/mlops-{stack}-*training"
    for name in model_names(stack):
        n = _names(stack, name)
        assert fnmatchcase(n.pipeline_arn("eu-west-1", ACCOUNTS[stack], "training"), start["Resource"])
        assert not fnmatchcase(n.pipeline_arn("eu-west-1", ACCOUNTS[stack], "inference"), start["Resource"])
    assert by_sid(policy, "RetrainLease")["Resource"].endswith(f":table/mlops-{stack}-retrain-lease")
    # Each model's gate leases its own item of the one table (keyed by its training pipeline).
    gates = [_function(run, "retrain-gate", name).inputs["environment"]["variables"] for name in model_names(stack)]
    assert {g["LEASE_TABLE_NAME"] for g in gates} == {table.inputs["name"]}
    assert len({g["TRAINING_PIPELINE_NAME"] for g in gates}) == len(gates)
    cooldowns = {name: int(_function(run, "retrain-gate", name).inputs["environment"]["variables"][
        "RETRAIN_COOLDOWN_SECONDS"]) for name in model_names(stack)}
    assert cooldowns == {name: model(stack, name).retrain_cooldown_minutes * 60 for name in model_names(stack)}
    for config in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        assert config.inputs["destinationConfig"]["onFailure"]["destination"] == run.outputs["deadLetterQueueArn"]


def _scripts(run):
    return [o for o in _objects(run).values() if o.name.startswith("script-")]


@pytest.mark.parametrize("stack", WORKLOADS)
def test_a_script_replaced_by_a_deploy_is_kept_for_the_executions_that_still_need_it(stack, stacks):
    run = stacks[stack]
    scripts = _scripts(run)
    code = scripts + [o for o in _objects(run).values() if o.name.startswith("library-")]
    schemas = [o for o in _objects(run).values() if o.inputs["key"].startswith(contract.SCHEMAS_PREFIX)]
    assert len(scripts) == len(packaging.STEP_SCRIPTS) and len(schemas) == len(model_names(stack))
    assert all(o.retain_on_delete for o in code + schemas)
    # Lambda copies its code when the function changes; the seed sets are read at run time by key.
    assert not any(o.retain_on_delete for o in _objects(run).values() if o not in code + schemas)
    marker = run.one(SUPERSEDED_CODE)
    assert marker.inputs["keys"] == sorted(o.inputs["key"] for o in code)
    assert marker.inputs["bucket"] == run.outputs["dataBucketName"]
    assert marker.inputs["region"] == "eu-west-1"
    definitions = "".join(p.inputs["definition"] for p in run.of_type(PIPELINE))
    # A script by its own URI; the shared modules by their folder (one processing input for all).
    # The capture step's script only where a live-drift pipeline runs it (a model an endpoint serves).
    live = any(p.inputs["name"].endswith(f"-{contract.LIVE_DRIFT_PIPELINE_KIND}") for p in run.of_type(PIPELINE))
    assert all(f"s3://{marker.inputs['bucket']}/{key}" in definitions
               or f"s3://{marker.inputs['bucket']}/{key.rsplit('/', 1)[0]}/\"" in definitions
               or key.endswith(f"/{contract.CAPTURE_BATCH_SCRIPT}") and not live
               for key in marker.inputs["keys"])


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
            matching = [st for st in statements(doc) if action in as_list(st.get("Action"))
                        and any(fnmatchcase(arn, r) for r in as_list(st["Resource"]))]
            assert any(st["Effect"] == "Allow" for st in matching), f"{action} on {arn}"
            assert not any(st["Effect"] == "Deny" for st in matching), f"{action} denied on {arn}"
