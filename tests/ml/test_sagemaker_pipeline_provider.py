"""The provider's CRUD against the moto server over real HTTP and botocore.

Rules without AWS are in test_sagemaker_pipeline_validation.py and _inputs.py; deleting a
pipeline with running executions in test_sagemaker_pipeline_delete.py.
"""
from __future__ import annotations

import json

import boto3
import pytest

from ml.sagemaker_pipeline import PipelineProviderError, SageMakerPipelineProvider
from ml.sagemaker_pipeline.aws import is_not_found
from ml.sagemaker_pipeline.inputs import definition_sha256
from tests.ml.support_aws_proxy import AwsProxy, Fault
from tests.ml.support_pipeline_inputs import (
    ACCOUNT,
    OTHER_ACCOUNT,
    REGION,
    definition,
    executions,
    inputs,
    pipeline_names,
)

provider = SageMakerPipelineProvider()


@pytest.mark.parametrize("code,message,gone", [
    ("ResourceNotFound", "Pipeline not found", True),
    ("ValidationException", "Could not find pipeline with PipelineName p.", True),
    ("ValidationException", "Pipeline names must be unique", False),
    ("ThrottlingException", "Rate exceeded", False),
])
def test_not_found_covers_aws_and_moto(code, message, gone):
    from botocore.exceptions import ClientError

    exc = ClientError({"Error": {"Code": code, "Message": message}}, "DescribePipeline")
    assert is_not_found(exc) is gone


@pytest.fixture
def sm(aws):
    """A plain boto3 client, used only to look at (or tamper with) moto from outside."""
    return boto3.client("sagemaker", region_name=REGION)


def checked(**overrides) -> dict:
    result = provider.check({}, inputs(**overrides))
    assert result.failures == []
    return result.inputs


class TestLifecycle:
    def test_create_noop_update_drift_delete(self, sm):
        news = checked()
        created = provider.create(news)
        live = sm.describe_pipeline(PipelineName=news["name"])
        assert created.id == live["PipelineArn"]
        assert created.outs["account_id"] == ACCOUNT
        assert created.outs["definition_sha256"] == definition_sha256(news["definition"])
        assert live["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 4}
        assert sm.list_tags(ResourceArn=created.id)["Tags"] == [
            {"Key": "project", "Value": "mlops-platform"}, {"Key": "stack", "Value": "dev"}]
        assert executions(sm, news["name"]) == []  # start_on_create is off

        # A refresh without out-of-band change reads back exactly what create stored.
        refreshed = provider.read(created.id, created.outs)
        assert refreshed.id == created.id and refreshed.outs == created.outs
        assert provider.diff(created.id, refreshed.outs, news).changes is False

        news2 = checked(definition=definition(steps=2), tags={"stack": "dev", "team": "ml"},
                        description="v2", parallelism=2)
        assert provider.diff(created.id, refreshed.outs, news2).changes is True
        updated = provider.update(created.id, refreshed.outs, news2).outs
        live = sm.describe_pipeline(PipelineName=news["name"])
        assert json.loads(live["PipelineDefinition"])["Steps"][1]["Name"] == "Step1"
        assert live["PipelineDescription"] == "v2"
        assert live["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
        assert {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=created.id)["Tags"]} == {
            "stack": "dev", "team": "ml"}
        assert provider.read(created.id, updated).outs == updated

        # Someone edits the pipeline by hand: refresh shows it and the next up reverts it.
        sm.update_pipeline(PipelineName=news["name"], PipelineDefinition=definition(steps=3),
                           ParallelismConfiguration={"MaxParallelExecutionSteps": 9})
        drifted = provider.read(created.id, updated).outs
        assert len(json.loads(drifted["definition"])["Steps"]) == 3
        assert drifted["parallelism"] == 9
        assert drifted["definition_sha256"] != updated["definition_sha256"]
        assert provider.diff(created.id, drifted, news2).changes is True
        restored = provider.update(created.id, drifted, news2).outs
        assert restored == updated
        assert provider.read(created.id, restored).outs == updated

        provider.delete(created.id, restored)
        assert pipeline_names(sm) == []
        provider.delete(created.id, restored)  # already gone: still a success
        assert provider.read(created.id, restored).id is None

    def test_changing_only_provider_switches_makes_no_api_write(self, sm):
        news = checked()
        created = provider.create(news)
        before = sm.describe_pipeline(PipelineName=news["name"])["PipelineDefinition"]
        outs = provider.update(created.id, created.outs, checked(start_on_create=True)).outs
        assert outs["start_on_create"] is True
        assert executions(sm, news["name"]) == []  # never started on update
        assert sm.describe_pipeline(PipelineName=news["name"])["PipelineDefinition"] == before

    def test_update_of_a_pipeline_deleted_by_hand_says_to_refresh(self, sm):
        created = provider.create(checked())
        sm.delete_pipeline(PipelineName=created.outs["name"])
        with pytest.raises(PipelineProviderError, match="pulumi refresh"):
            provider.update(created.id, created.outs, checked(description="x"))


class TestCreate:
    def test_existing_pipeline_is_refused_naming_adopt_existing(self, sm):
        sm.create_pipeline(PipelineName="mlops-dev-training", PipelineDefinition=definition(),
                           RoleArn=inputs()["role_arn"])
        with pytest.raises(PipelineProviderError, match="adopt_existing=True"):
            provider.create(checked())

    def test_adopt_existing_takes_over_and_converges(self, sm):
        sm.create_pipeline(PipelineName="mlops-dev-training", PipelineDefinition=definition(),
                           RoleArn=inputs()["role_arn"], Tags=[{"Key": "old", "Value": "1"}])
        news = checked(adopt_existing=True, start_on_create=True,
                       definition=definition(steps=2))
        created = provider.create(news)
        assert created.outs["adopted"] is True and created.outs["first_execution_arn"] is None
        live = sm.describe_pipeline(PipelineName=news["name"])
        assert len(json.loads(live["PipelineDefinition"])["Steps"]) == 2
        assert {t["Key"] for t in sm.list_tags(ResourceArn=created.id)["Tags"]} == {
            "project", "stack"}
        assert executions(sm, news["name"]) == []  # adopting is not a first deploy

    def test_start_on_create_starts_exactly_one_execution(self, sm):
        news = checked(start_on_create=True, start_parameters={"InputDataUrl": "s3://b/x.csv"})
        created = provider.create(news)
        runs = executions(sm, news["name"])
        assert [r["PipelineExecutionArn"] for r in runs] == [created.outs["first_execution_arn"]]
        provider.update(created.id, created.outs, checked(start_on_create=True, description="2"))
        assert len(executions(sm, news["name"])) == 1

    def test_credentials_of_another_account_are_refused_before_any_write(self, sm):
        news = checked(role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/sagemaker-execution")
        with pytest.raises(PipelineProviderError, match=f"act in account {ACCOUNT}"):
            provider.create(news)
        assert pipeline_names(sm) == []


class TestAssumedRole:
    def test_pipeline_lands_in_the_assumed_account(self, sm):
        role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/sagemaker-execution"
        news = checked(role_arn=role, assume_role_arn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/deploy")
        created = provider.create(news)
        assert created.id == f"arn:aws:sagemaker:{REGION}:{OTHER_ACCOUNT}:pipeline/{news['name']}"
        assert created.outs["account_id"] == OTHER_ACCOUNT
        assert pipeline_names(sm) == []  # nothing in the caller's own account

        creds = boto3.client("sts").assume_role(RoleArn=news["assume_role_arn"],
                                                RoleSessionName="test-look")["Credentials"]
        other = boto3.client("sagemaker", region_name=REGION,
                             aws_access_key_id=creds["AccessKeyId"],
                             aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"])
        assert pipeline_names(other) == [news["name"]]
        assert provider.read(created.id, created.outs).outs == created.outs
        provider.delete(created.id, created.outs)
        assert pipeline_names(other) == []
        assert provider.read(created.id, created.outs).id is None


@pytest.fixture
def proxy(aws, monkeypatch):
    """Route every AWS call of the test through a fault-injecting proxy."""
    with AwsProxy(aws).running() as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL", running.endpoint)
        yield running


class TestFaults:
    def test_throttling_and_5xx_are_retried(self, proxy, sm):
        proxy.add(Fault("DescribePipeline", times=1, status=503),
                  Fault("CreatePipeline", times=2, status=400, code="ThrottlingException"),
                  Fault("ListTags", times=1, status=500, code="InternalFailure"))
        created = provider.create(checked())
        assert proxy.faulted.count("CreatePipeline") == 2
        assert proxy.calls.count("CreatePipeline") == 3
        assert provider.read(created.id, created.outs).outs == created.outs
        assert pipeline_names(sm) == ["mlops-dev-training"]

    def test_a_lost_create_reply_is_retried_idempotently(self, proxy, sm):
        proxy.add(Fault("CreatePipeline", times=1, forward=True))
        created = provider.create(checked(start_on_create=True))
        assert proxy.calls.count("CreatePipeline") == 2  # the retry met "already exists"
        assert pipeline_names(sm) == ["mlops-dev-training"]
        assert created.id == sm.describe_pipeline(PipelineName="mlops-dev-training")["PipelineArn"]
        assert len(executions(sm, "mlops-dev-training")) == 1

    def test_create_that_keeps_failing_after_taking_effect_is_rolled_back(self, proxy, sm,
                                                                       monkeypatch):
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")  # keep the backoff short
        proxy.add(Fault("CreatePipeline", times=1, forward=True),
                  Fault("CreatePipeline", times=5, status=503))
        with pytest.raises(PipelineProviderError, match="Nothing was left behind"):
            provider.create(checked())
        assert proxy.calls.count("CreatePipeline") == 3
        assert "DeletePipeline" in proxy.calls
        assert pipeline_names(sm) == []

    def test_failed_first_execution_rolls_the_pipeline_back(self, proxy, sm, monkeypatch):
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
        proxy.add(Fault("StartPipelineExecution", times=5, status=503))
        with pytest.raises(PipelineProviderError, match="first execution"):
            provider.create(checked(start_on_create=True))
        assert pipeline_names(sm) == []

    def test_failed_rollback_says_the_pipeline_may_be_left_behind(self, proxy, sm, monkeypatch):
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        proxy.add(Fault("StartPipelineExecution", times=1, status=503),
                  Fault("DeletePipeline", times=1, status=503))
        with pytest.raises(PipelineProviderError, match="adopt_existing=True"):
            provider.create(checked(start_on_create=True))
        assert pipeline_names(sm) == ["mlops-dev-training"]

    def test_delete_retries_throttling(self, proxy, sm):
        created = provider.create(checked())
        proxy.add(Fault("DeletePipeline", times=2, status=400, code="ThrottlingException"))
        provider.delete(created.id, created.outs)
        assert proxy.calls.count("DeletePipeline") == 3
        assert pipeline_names(sm) == []
