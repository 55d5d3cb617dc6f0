"""Scale: resources grow linearly with the number of models, no IAM document grows with it, and
every document stays under AWS's limits with 20 models (bench/stack_evaluation.py prints the figures)."""
from __future__ import annotations

import pytest

from tests.support.many_models import MODELS_KEY, iam_documents, many_models_config, over_limits
from tests.support.stacks import STACKS, run_stack

COUNTS = (1, 2, 20)


@pytest.fixture(scope="module")
def runs():
    """Every stack with 1, 2 and 20 models: {(stack, count): (run, model names)}."""
    out = {}
    for count in COUNTS:
        config, secrets = many_models_config("registry", count)
        registry = run_stack("registry", config=config, secret_keys=secrets)
        out["registry", count] = (registry, list(config[MODELS_KEY]))
        for stack in STACKS[1:]:
            config, secrets = many_models_config(stack, count)
            run = run_stack(stack, config=config, secret_keys=secrets, registry_outputs=registry.outputs)
            out[stack, count] = (run, list(config[MODELS_KEY]))
    return out


def resources(run) -> int:
    return len([r for r in run.resources if not r.type.startswith("pulumi:pulumi:")])


@pytest.mark.parametrize("stack", STACKS)
def test_every_model_adds_the_same_number_of_resources(runs, stack):
    one, two, twenty = (resources(runs[stack, n][0]) for n in COUNTS)
    per_model = two - one
    assert per_model > 0
    assert twenty - two == per_model * (COUNTS[2] - COUNTS[1])


@pytest.mark.parametrize("stack", STACKS)
def test_no_iam_document_grows_with_the_number_of_models(runs, stack):
    sizes = {count: {(d["type"], d["resource"]): d for d in iam_documents(*runs[stack, count])} for count in COUNTS}
    for count in COUNTS[1:]:
        for key, document in sizes[count].items():
            before = sizes[COUNTS[0]].get(key) or sizes[COUNTS[1]].get(key)
            if before is None:
                # Only a model's own documents (its group policy, ...) are new, one per model.
                assert document["per_model"], f"{key} appears with {count} models"
            else:
                assert document["size"] == before["size"], f"{key} grows to {document['size']} with {count} models"


@pytest.mark.parametrize("stack", STACKS)
def test_every_document_stays_under_aws_limits_with_twenty_models(runs, stack):
    documents = iam_documents(*runs[stack, 20])
    assert documents
    assert over_limits(documents) == []


def test_the_limit_check_finds_an_oversized_document_and_a_role_over_its_inline_total():
    def doc(typ, size, role=None):
        return {"type": typ, "resource": "r", "name": "r", "per_model": False, "size": size, "role": role}

    assert over_limits([doc("aws:iam/policy:Policy", 6144), doc("aws:iam/rolePolicy:RolePolicy", 6000, "a"),
                        doc("aws:iam/rolePolicy:RolePolicy", 4240, "a")]) == []
    problems = over_limits([doc("aws:iam/policy:Policy", 6145), doc("aws:iam/rolePolicy:RolePolicy", 6000, "a"),
                            doc("aws:iam/rolePolicy:RolePolicy", 4241, "a")])
    assert len(problems) == 2 and "6145" in problems[0] and "role a" in problems[1]
