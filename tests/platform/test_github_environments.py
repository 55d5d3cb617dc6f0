"""GitHub as the control plane: each stack writes its own environment (reviewers, main as the
only deploying branch, variables); only the registry writes repository variables, the
model-approval environment and main's ruleset; no token ever lives in the program's config."""
from __future__ import annotations

import copy

import pytest

from mlops_platform.offline.runner import github_user
from mlops_platform.settings import ConfigError
from tests.platform.shipped import models
from tests.support.stacks import StackRun, run_stack, stack_config

ENV = "github:index/repositoryEnvironment:RepositoryEnvironment"
BRANCH_POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy"
ENV_VAR = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable"
REPO_VAR = "github:index/actionsVariable:ActionsVariable"
RULESET = "github:index/repositoryRuleset:RepositoryRuleset"
ACCOUNTS = {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
P = "mlops-platform"


def _environments(run):
    return {r.inputs["environment"]: r for r in run.of_type(ENV)}


def _variables(run, environment):
    return {r.inputs["variableName"]: r.inputs["value"] for r in run.of_type(ENV_VAR)
            if r.inputs["environment"] == environment}


def _ids(*logins):
    return [int(github_user(login)["id"]) for login in logins]


@pytest.mark.parametrize("stack,expected", [("registry", {"registry", "model-approval"}),
                                            ("dev", {"dev"}), ("prod", {"prod"})])
def test_each_stack_creates_only_its_own_environments(stack, expected, stacks):
    run = stacks[stack]
    assert set(_environments(run)) == expected
    assert {r.inputs["environment"] for r in run.of_type(ENV_VAR)} == expected
    assert all(r.inputs["repository"] == "mlops-platform" for r in run.of_type(ENV) + run.of_type(ENV_VAR))
    assert run.outputs["githubEnvironments"] == sorted(expected)


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_stack_environment_holds_the_deploy_role_region_and_stack(stack, stacks):
    assert _variables(stacks[stack], stack) == {
        "AWS_DEPLOY_ROLE_ARN": f"arn:aws:iam::{ACCOUNTS[stack]}:role/mlops-{stack}-github-deploy",
        "AWS_REGION": "eu-west-1",
        "PULUMI_STACK": stack,
    }
    assert _variables(stacks[stack], stack)["AWS_DEPLOY_ROLE_ARN"] == stacks[stack].outputs["githubDeployRoleArn"]


@pytest.mark.parametrize("stack, reviewers", [("prod", ("alice-approver", "carol-sre")),
                                               ("registry", ("carol-sre", "dave-platform"))])
def test_prod_and_registry_wait_for_their_reviewers(stack, reviewers, stacks):
    # The registry deploy changes what every account trusts (the group policy, the approver
    # role, the environments, main's ruleset): a reviewer approves it, like prod.
    env = _environments(stacks[stack])[stack].inputs
    assert env["reviewers"] == [{"users": _ids(*reviewers)}]
    assert env["preventSelfReview"] is True
    assert env["canAdminsBypass"] is False


@pytest.mark.parametrize("stack,environment", [("registry", "registry"), ("dev", "dev"), ("prod", "prod"),
                                               ("registry", "model-approval")])
def test_every_environment_deploys_from_main_only(stack, environment, stacks):
    # A custom policy naming main, not "protected branches": a new protected branch would widen that.
    env = _environments(stacks[stack])[environment].inputs
    assert env["deploymentBranchPolicy"] == {"protectedBranches": False, "customBranchPolicies": True}
    assert env["canAdminsBypass"] is False
    patterns = [r.inputs for r in stacks[stack].of_type(BRANCH_POLICY) if r.inputs["environment"] == environment]
    assert patterns == [{"repository": "mlops-platform", "environment": environment, "branchPattern": "main"}]


def test_dev_deploys_without_waiting_for_a_reviewer(dev):
    env = _environments(dev)["dev"].inputs
    assert "reviewers" not in env and env["preventSelfReview"] is False


def test_model_approval_waits_for_a_model_approver_other_than_the_requester(registry):
    env = _environments(registry)["model-approval"].inputs
    assert env["reviewers"] == [{"users": _ids("alice-approver", "bob-approver")}]
    assert env["preventSelfReview"] is True
    assert _variables(registry, "model-approval") == {
        "AWS_MODEL_APPROVER_ROLE_ARN": "arn:aws:iam::111111111111:role/mlops-registry-github-model-approver",
        "AWS_REGION": "eu-west-1",
        "MODEL_PACKAGE_GROUP_NAME": "mammo-severity-model-package",
    }


def test_repository_variables_belong_to_the_registry_and_name_each_stacks_preview_role(stacks):
    values = {r.inputs["variableName"]: r.inputs["value"] for r in stacks["registry"].of_type(REPO_VAR)}
    assert values == {
        "AWS_REGION": "eu-west-1",
        "PULUMI_ORGANIZATION": "example-org",
        "PULUMI_PREVIEW_TEAM": "mlops-platform-preview",
        "AWS_PREVIEW_ROLE_ARN_REGISTRY": stacks["registry"].outputs["githubPreviewRoleArn"],
        "AWS_PREVIEW_ROLE_ARN_DEV": stacks["dev"].outputs["githubPreviewRoleArn"],
        "AWS_PREVIEW_ROLE_ARN_PROD": stacks["prod"].outputs["githubPreviewRoleArn"],
        # The registry's read-only role the approve-model workflow shows a version with.
        "AWS_MODEL_REVIEWER_ROLE_ARN": "arn:aws:iam::111111111111:role/mlops-registry-github-model-reviewer",
        # Every model's group, which approve-model.yml approves versions of (both its jobs read it).
        "MODEL_PACKAGE_GROUPS": " ".join(f"{m.name}={m.group_name}" for m in models("registry")),
    }
    # The organization the workflows log in to is the one the workload stacks read the registry from.
    for stack in ("dev", "prod"):
        ref = stacks[stack].one("pulumi:pulumi:StackReference").name
        assert ref == f"{values['PULUMI_ORGANIZATION']}/mlops-platform/registry"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_workload_stacks_write_nothing_at_repository_level(stack, stacks):
    kinds = {r.type for r in stacks[stack].custom() if r.type.startswith("github:")}
    assert kinds <= {ENV, BRANCH_POLICY, ENV_VAR, "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"}
    assert ENV in kinds and ENV_VAR in kinds


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_the_provider_holds_no_token_and_every_github_resource_uses_it(stack, stacks):
    run = stacks[stack]
    provider = run.one("pulumi:providers:github", "github")
    assert provider.inputs["owner"] == "example-org"
    # It reads GITHUB_TOKEN at run time: an App token minted for one deploy job (deploy.yml).
    assert "token" not in provider.inputs and "appAuth" not in provider.inputs
    github = [r for r in run.custom() if r.type.startswith("github:")]
    assert github and all(r.provider.startswith(provider.urn + "::") for r in github)


def test_main_changes_only_through_reviewed_and_previewed_pull_requests(registry):
    ruleset = registry.one(RULESET).inputs
    assert ruleset["target"] == "branch" and ruleset["enforcement"] == "active"
    assert ruleset["conditions"] == {"refName": {"includes": ["refs/heads/main"], "excludes": []}}
    assert ruleset["bypassActors"] == [], "no one, admins included, goes around it"
    rules = ruleset["rules"]
    assert rules["deletion"] is True and rules["nonFastForward"] is True
    assert rules["pullRequest"]["requiredApprovingReviewCount"] >= 1
    assert rules["pullRequest"]["dismissStaleReviewsOnPush"] is True
    assert rules["pullRequest"]["requireLastPushApproval"] is True
    checks = rules["requiredStatusChecks"]["requiredChecks"]
    assert {c["context"] for c in checks} == {"Tests", "Preview registry", "Preview dev", "Preview prod"}
    # Only GitHub Actions (app 15368) can satisfy them, not any app or commit status.
    assert {c["integrationId"] for c in checks} == {15368}
    assert rules["requiredStatusChecks"]["strictRequiredStatusChecksPolicy"] is True


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_only_the_registry_writes_the_ruleset(stack, stacks):
    assert not stacks[stack].of_type(RULESET)


def test_reviewer_ids_are_looked_up_per_login():
    assert github_user("alice-approver") == github_user("Alice-Approver") | {"login": "alice-approver",
                                                                            "username": "alice-approver"}
    assert len(set(_ids("alice-approver", "bob-approver", "carol-sre"))) == 3


def _rejected(stack, change, registry_outputs):
    config, secrets = stack_config(stack)
    config = copy.deepcopy(config)
    change(config)
    run = StackRun(stack)
    with pytest.raises(ConfigError) as err:
        run_stack(stack, config=config, secret_keys=secrets, registry_outputs=registry_outputs, run=run)
    assert run.resources == []
    return str(err.value)


def test_registry_needs_the_pulumi_organization(registry):
    message = _rejected("registry", lambda c: c.pop(f"{P}:pulumiOrganization"), registry.outputs)
    assert f"{P}:pulumiOrganization: is required" in message


def test_pulumi_organization_must_be_a_name(registry):
    message = _rejected("registry", lambda c: c.update({f"{P}:pulumiOrganization": "bad org!"}), registry.outputs)
    assert "is not a Pulumi organization name" in message


def test_workloads_must_read_the_registry_from_the_same_organization(registry):
    message = _rejected("dev", lambda c: c.update({f"{P}:registryStack": "other-org/mlops-platform/registry"}),
                        registry.outputs)
    assert f"{P}:registryStack:" in message and "use example-org/mlops-platform/registry" in message


def test_an_environment_takes_at_most_six_reviewers(registry):
    logins = [f"reviewer-{i}" for i in range(7)]
    message = _rejected("prod", lambda c: c.update({f"{P}:reviewers": logins}), registry.outputs)
    assert f"{P}:reviewers:" in message and "at most 6" in message
