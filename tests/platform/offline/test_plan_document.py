"""The plan document: every resource with its reviewed properties, counts that explain the
benchmark's, cross-account wiring, and the same bytes whatever the registration order."""
from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from mlops_platform.offline.plan_document import FORMAT, document, dumps, render, stack_document

REG, DEV, PROD = "111111111111", "222222222222", "333333333333"


def _shuffled(run, seed):
    resources = list(run.resources)
    random.Random(seed).shuffle(resources)
    return replace(run, resources=resources, outputs=dict(reversed(list(run.outputs.items()))))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_plan_whatever_order_resources_were_registered_in(stacks, seed):
    shuffled = {name: _shuffled(run, seed) for name, run in reversed(list(stacks.items()))}
    assert dumps(document(shuffled)) == dumps(document(stacks))
    assert render(document(shuffled)) == render(document(stacks))


def test_the_document_is_sorted_and_names_its_format(stacks):
    doc = document(stacks)
    assert doc["format"] == FORMAT and list(doc["stacks"]) == ["registry", "dev", "prod"]
    for stack in doc["stacks"].values():
        assert list(stack["resources"]) == sorted(stack["resources"])
        assert list(stack["exports"]) == sorted(stack["exports"])
        assert stack["crossAccount"] == sorted(stack["crossAccount"], key=lambda w: (w["resource"], w["sid"]))
    assert json.loads(dumps(doc)) == doc


def test_every_registered_resource_is_in_the_plan(prod):
    doc = stack_document(prod)
    assert len(doc["resources"]) == len(prod.resources)
    assert {(e["type"], e["name"]) for e in doc["resources"].values()} == {(r.type, r.name) for r in prod.resources}


def test_the_counts_add_up_to_the_benchmarks(stacks):
    for run in stacks.values():
        counts = stack_document(run)["counts"]
        benchmark = len([r for r in run.resources if not r.type.startswith("pulumi:pulumi:")])
        assert counts["total"] == benchmark == counts["cloud"] + counts["providers"] + counts["components"]
        assert counts["components"] == len([r for r in run.resources if r.type.startswith("mlops:")])


def test_components_carry_no_properties_and_resources_name_their_parent(prod):
    resources = stack_document(prod)["resources"]
    assert resources["mlops:storage:HardenedBucket::data"] == {
        "type": "mlops:storage:HardenedBucket", "name": "data", "kind": "component",
        "parent": "mlops:account:WorkloadAccount::prod"}
    assert resources["aws:s3/bucket:Bucket::data"]["parent"] == "mlops:storage:HardenedBucket::data"


def test_registry_wiring_names_the_workload_accounts(registry):
    wiring = stack_document(registry)["crossAccount"]
    named = {a for w in wiring for a in w["accounts"]}
    assert {DEV, PROD} <= named and REG not in named
    assert any(w["resource"].startswith("aws:sagemaker/modelPackageGroupPolicy:") for w in wiring)


def test_workload_wiring_points_at_the_registry_never_at_the_other_workload(dev, prod):
    for run, other in ((dev, PROD), (prod, DEV)):
        wiring = stack_document(run)["crossAccount"]
        assert any(w["accounts"] == [REG] for w in wiring)
        assert not any(other in w["accounts"] for w in wiring)


def test_wiring_lists_every_statement_that_names_another_account(dev):
    listed = {(w["resource"].split("::")[1], w["sid"]) for w in stack_document(dev)["crossAccount"]}
    expected = set()
    for r, doc in dev.policy_documents():
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        for i, s in enumerate(statements):
            text = json.dumps([s.get("Principal"), s.get("Condition"), s.get("Resource")])
            if REG in text or PROD in text:
                expected.add((r.name, s.get("Sid") or f"#{i + 1}"))
    assert expected and expected <= listed


def test_lines_fit_a_review_screen(stacks):
    long = [line for line in render(document(stacks)).splitlines() if len(line) > 120 and not line.startswith(" " * 8)]
    assert long == []  # only a property value without spaces (JSON, a long ARN) may run longer


def test_the_text_explains_the_count_and_lists_reviewed_properties(dev):
    text = render(document({"dev": dev}))
    counts = stack_document(dev)["counts"]
    assert text.startswith(f"== stack dev (Pulumi.dev.yaml, account {DEV}, region eu-west-1)\n")
    assert (f"  {counts['total']} resources: {counts['cloud']} AWS and GitHub resources, {counts['providers']} "
            f"providers and {counts['components']} components") in text
    assert f"the benchmark counts all {counts['total']})" in text
    assert "forceDestroy=true" in text and "AucThreshold=0.85" in text
    assert "reads stack: example-org/mlops-platform/registry" in text
    assert "trainingPipelineArn" in text.split("exports: ")[1]


def test_the_plan_names_the_models_the_first_model_first_and_reviews_each_models_resources(stacks):
    doc = document(stacks)
    for name, stack in doc["stacks"].items():
        assert stack["models"][0] == "mammography" and "wdbc" in stack["models"], name
        assert stack["exports"]["firstModel"] == "mammography"
    text = render(doc)
    assert "  models: mammography (first: keeps its names), wdbc (wdbc-...)" in text.split("\n")
    prod = doc["stacks"]["prod"]["resources"]
    for model_key, first_key in (("wdbc-training", "training"), ("wdbc-inference", "inference")):
        mine = prod[f"pulumi-python:dynamic/mlops:SageMakerPipeline::{model_key}"]["properties"]
        first = prod[f"pulumi-python:dynamic/mlops:SageMakerPipeline::{first_key}"]["properties"]
        # Each model's pipelines are reviewed like the first's: network isolation, VPC, keys.
        assert mine["networkIsolation"] == first["networkIsolation"] and mine["kmsKeys"] == first["kmsKeys"]
    assert "aws:lambda/function:Function::wdbc-retrain-gate" in prod
