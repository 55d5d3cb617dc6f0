"""The pack as the engine runs it: its own venv, `python -m pulumi.policy <engine> policy/`,
the stack config in PULUMI_CONFIG, driven over gRPC with the analyzer protocol."""
from __future__ import annotations

import json
import os
import subprocess

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from mlops_policies import catalog, storage
from tests.policy.pack_venv import POLICY_DIR, pack_python
from tests.support.stacks import encode, stack_config

MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")


@pytest.fixture(scope="module")
def analyzer():
    """A running pack for the dev stack; stopped (by its pid) when the module is done."""
    config, _ = stack_config("dev")
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(encode(config)), "PULUMI_PROJECT": "mlops-platform",
           "PULUMI_STACK": "dev", "PULUMI_DRY_RUN": "true"}
    proc = subprocess.Popen([str(pack_python()), "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(POLICY_DIR)],
                            cwd=POLICY_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip()
        assert port.isdigit(), f"the pack did not start: {port!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def _struct(props) -> struct_pb2.Struct:
    return json_format.ParseDict(json.loads(json.dumps(props, default=list)), struct_pb2.Struct())


def _analyze(stub, type_, name, props):
    return stub.Analyze(analyzer_pb2.AnalyzeRequest(
        type=type_, name=name, urn=f"urn:pulumi:dev::mlops-platform::{type_}::{name}", properties=_struct(props),
        options=analyzer_pb2.AnalyzerResourceOptions()))


def _stack(stub, resources):
    return stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(
            type=r.type, name=r.name, urn=r.urn, properties=_struct(dict(r.props)),
            options=analyzer_pb2.AnalyzerResourceOptions(),
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=sorted(v))
                                  for k, v in r.dependencies.items()})
        for r in resources]))


def test_the_pack_serves_every_catalog_rule_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "mlops-platform"
    served = {p.name: p for p in info.policies}
    expected = [r.name for r in catalog.RESOURCE_RULES] + [r.name for r in catalog.STACK_RULES]
    assert sorted(served) == sorted(expected)
    assert {p.enforcementLevel for p in served.values()} == {MANDATORY}
    assert all(p.remediation_steps for p in served.values())


def test_a_violating_resource_is_reported_with_its_fix(analyzer):
    response = _analyze(analyzer, storage.QUEUE, "dlq", {"name": "dlq", "sqsManagedSseEnabled": True})
    [diagnostic] = response.diagnostics
    assert diagnostic.policyName == "sqs-encrypted-cmk" and diagnostic.enforcementLevel == MANDATORY
    assert "Fix:" in diagnostic.message


def test_a_compliant_resource_passes(analyzer):
    key = "arn:aws:kms:eu-west-1:222222222222:key/abc"
    assert list(_analyze(analyzer, storage.QUEUE, "dlq", {"kmsMasterKeyId": key}).diagnostics) == []


def test_the_stack_config_reaches_the_pack(analyzer):
    # The group-policy rule needs config `accounts`: a grant to an unknown account is only a
    # violation if the pack read the real accounts from PULUMI_CONFIG.
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sagemaker:DescribeModelPackage"], "Resource": "arn:aws:sagemaker:x",
         "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::999999999999:root"]}}]}
    response = _analyze(analyzer, "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy", "g",
                        {"modelPackageGroupName": "g", "resourcePolicy": json.dumps(policy)})
    messages = [d.message for d in response.diagnostics]
    assert any("999999999999" in m for m in messages) and not any("cannot check" in m for m in messages)


def test_an_unknown_value_during_preview_is_advisory_not_a_violation(analyzer):
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-string sentinel
    [diagnostic] = _analyze(analyzer, storage.TOPIC, "t", {"kmsMasterKeyId": unknown}).diagnostics
    assert "can't be known during preview" in diagnostic.message and diagnostic.enforcementLevel != MANDATORY


def test_the_dev_stack_passes_the_served_pack(analyzer, stack_views):
    resources, _ = stack_views["dev"]
    assert [d.message for r in resources for d in _analyze(analyzer, r.type, r.name, dict(r.props)).diagnostics] == []
    assert list(_stack(analyzer, resources).diagnostics) == []


def test_the_dev_stack_without_a_public_access_block_fails_the_served_pack(analyzer, stack_views):
    resources, _ = stack_views["dev"]
    broken = [r for r in resources if r.type not in storage.PUBLIC_ACCESS_BLOCK]
    [diagnostic] = _stack(analyzer, broken).diagnostics
    assert diagnostic.policyName == "s3-bucket-companions" and "public access block" in diagnostic.message


def test_the_pack_venv_reads_the_shared_facts_from_the_repository():
    # The pack's venv has pulumi-policy but not this project: mlops_policies puts platform/ on
    # the path, so the engine's pack process and this cached venv import the same mlops_facts.
    probe = ("import mlops_policies.iam, mlops_facts, sys; print(mlops_facts.__file__); "
             "print('mlops_platform' in sys.modules)")
    out = subprocess.run([str(pack_python()), "-c", probe], cwd=POLICY_DIR, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == [str(POLICY_DIR.parent / "platform" / "mlops_facts" / "__init__.py"), "False"]
