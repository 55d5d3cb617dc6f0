"""Settings: every stack's real config parses into its role's type; bad config fails before any
resource exists, with every problem at once, each naming the key and saying how to fix it."""
from __future__ import annotations

import copy
import json

import pytest

from mlops_platform.config_loader import known_keys, load_settings
from mlops_platform.config_workload import OPT_OUT_VALUE
from mlops_platform.project_stacks import REPOSITORY_ROOT, stack_roles
from mlops_platform.settings import ConfigError, RegistrySettings, WorkloadSettings
from tests.support.stacks import StackRun, encode, run_stack, stack_config

P = "mlops-platform"


@pytest.mark.parametrize("stack", ["registry", "dev", "prod"])
def test_real_stack_configs_are_valid(stack, stacks):
    assert stacks[stack].outputs["role"] == stack


def _set(key, value):
    def change(cfg):
        cfg[key] = value
    return change


def _drop(key):
    def change(cfg):
        cfg.pop(key, None)
    return change


def _patch(key, **fields):
    def change(cfg):
        cfg[key] = {**cfg[key], **fields}
    return change


def _rename(key, new):
    def change(cfg):
        cfg[new] = cfg.pop(key)
    return change


def _feature(index, **fields):
    def change(cfg):
        features = cfg[f"{P}:models"]["mammography"]["schema"]["features"]
        features[index] = {**features[index], **fields}
    return change


def _both_regions(region):
    def change(cfg):
        cfg["aws:region"] = cfg[f"{P}:region"] = region
    return change


# (stack, change, the key the message must name, a fragment of the fix it must give)
BAD_CONFIGS = {
    "role missing": ("dev", _drop(f"{P}:role"), f"{P}:role", "registry, dev, prod"),
    "role unknown": ("dev", _set(f"{P}:role", "staging"), f"{P}:role", "must be one of"),
    "account id too short": ("dev", _patch(f"{P}:accounts", dev="12345"), f"{P}:accounts.dev", "12-digit"),
    "account id as a number": ("prod", _patch(f"{P}:accounts", prod=333333333333), f"{P}:accounts.prod",
                               "quoted string"),
    "accounts not distinct": ("dev", _patch(f"{P}:accounts", prod="222222222222"), f"{P}:accounts",
                              "three different accounts"),
    "accounts not a map": ("registry", _set(f"{P}:accounts", ["111111111111"]), f"{P}:accounts", "map of"),
    "region missing": ("dev", _drop("aws:region"), "aws:region", "is required"),
    "region malformed": ("dev", _set("aws:region", "Ireland"), "aws:region", "eu-west-1"),
    "region differs from the platform's": ("prod", _set("aws:region", "us-east-1"), "aws:region",
                                           "platform's region"),
    "allowedAccountIds missing": ("dev", _drop("aws:allowedAccountIds"), "aws:allowedAccountIds",
                                  "wrong account"),
    "allowedAccountIds names another account": ("prod", _set("aws:allowedAccountIds", ["222222222222"]),
                                                "aws:allowedAccountIds", '["333333333333"]'),
    "registry stack missing": ("dev", _drop(f"{P}:registryStack"), f"{P}:registryStack",
                               "<org>/mlops-platform/registry"),
    "registry stack malformed": ("dev", _set(f"{P}:registryStack", "registry"), f"{P}:registryStack",
                                 "<org>/<project>/<stack>"),
    "e-mail malformed": ("prod", _set(f"{P}:notificationEmail", "ops-at-example"), f"{P}:notificationEmail",
                         "not an e-mail"),
    "cron with five fields": ("dev", _set(f"{P}:inferenceSchedule", "cron(0 6 * * *)"),
                              f"{P}:inferenceSchedule", "6 fields"),
    "cron without ?": ("dev", _set(f"{P}:inferenceSchedule", "cron(0 6 * * * *)"), f"{P}:inferenceSchedule",
                       "exactly one of day-of-month and day-of-week"),
    "rate with wrong plural": ("dev", _set(f"{P}:inferenceSchedule", "rate(1 days)"), f"{P}:inferenceSchedule",
                               "singular"),
    "schedule not cron or rate": ("dev", _set(f"{P}:inferenceSchedule", "daily"), f"{P}:inferenceSchedule",
                                  "cron(0 6 * * ? *)"),
    "AUC threshold above 1": ("dev", _set(f"{P}:aucThreshold", "1.5"), f"{P}:aucThreshold", "between 0 and 1"),
    "AUC threshold not a number": ("prod", _set(f"{P}:aucThreshold", "high"), f"{P}:aucThreshold",
                                   "between 0 and 1"),
    "cool-down of zero": ("dev", _set(f"{P}:retrainCooldownMinutes", "0"), f"{P}:retrainCooldownMinutes",
                          "1 to 10080"),
    "GitHub owner invalid": ("dev", _patch(f"{P}:github", owner="-bad-"), f"{P}:github.owner",
                             "GitHub user or organisation"),
    "GitHub repository missing": ("registry", _set(f"{P}:github", {"owner": "example-org"}),
                                  f"{P}:github.repository", "repository name"),
    "prod without reviewers": ("prod", _set(f"{P}:reviewers", []), f"{P}:reviewers", "at least one reviewer"),
    "registry without model approvers": ("registry", _drop(f"{P}:modelApprovers"), f"{P}:modelApprovers",
                                         "model approvals"),
    "cost centre tag missing": ("dev", _set(f"{P}:tags", {"owner": "team"}), f"{P}:tags.costCenter",
                                "cost allocation"),
    "retainData not a boolean": ("prod", _set(f"{P}:retainData", "sometimes"), f"{P}:retainData",
                                 "true or false"),
    "VPC without security groups": ("prod", _patch(f"{P}:vpc", securityGroupIds=[]),
                                    f"{P}:vpc.securityGroupIds", "both subnets and security groups"),
    "VPC subnet id malformed": ("prod", _patch(f"{P}:vpc", subnetIds=["subnet-xyz"]), f"{P}:vpc.subnetIds",
                                "subnet-0abc"),
    "model package group name invalid": ("registry", _set(f"{P}:modelPackageGroupName", "bad_name!"),
                                         f"{P}:modelPackageGroupName", "letters, digits and hyphens"),
    "GitHub token in stack config": ("dev", _set("github:token", "ghp_plaintext"), "github:token",
                                     "pulumi config rm github:token"),
    # Issue 12.1: a typo is refused with the key it meant, never ignored.
    "retainData misspelled": ("registry", _rename(f"{P}:retainData", f"{P}:retainDta"), f"{P}:retainDta",
                              f"did you mean {P}:retainData?"),
    "cool-down key misspelled": ("dev", _rename(f"{P}:retrainCooldownMinutes", f"{P}:retrainCooldownMinute"),
                                 f"{P}:retrainCooldownMinute", f"did you mean {P}:retrainCooldownMinutes?"),
    "first-run key misspelled": ("dev", _rename(f"{P}:firstTrainingRun", f"{P}:firstTraningRun"),
                                 f"{P}:firstTraningRun", f"did you mean {P}:firstTrainingRun?"),
    # Issue 12.2: what the pipeline settings, the SDK or AWS would refuse after registration.
    "tag value over 256 characters": ("dev", _patch(f"{P}:tags", team="x" * 257), f"{P}:tags.team",
                                      "at most 256"),
    "tag key with the aws: prefix": ("dev", _patch(f"{P}:tags", **{"aws:team": "ml"}), f"{P}:tags.aws:team",
                                     "reserves"),
    "tag key in another case of aws:": ("prod", _patch(f"{P}:tags", **{"AWS:team": "ml"}), f"{P}:tags.AWS:team",
                                        "reserves"),
    "more tags than the pipelines take": ("dev", _patch(f"{P}:tags", **{f"t{i}": "x" for i in range(40)}),
                                          f"{P}:tags", "more than the 40"),
    "region that does not exist": ("dev", _set("aws:region", "eu-west-9"), "aws:region", "not an AWS region"),
    "platform region that does not exist": ("registry", _set(f"{P}:region", "eu-west-9"), f"{P}:region",
                                            "Did you mean"),
    "region without the pipeline images": ("dev", _both_regions("mx-central-1"), "aws:region",
                                           "no SageMaker scikit-learn 1.4-2 / XGBoost 3.0-5 images"),
    # Issue 12.4: semantic checks.
    "cron fields out of range": ("dev", _set(f"{P}:inferenceSchedule", "cron(99 99 * * ? *)"),
                                 f"{P}:inferenceSchedule", "minutes '99' is out of range (0-59)"),
    "cron month out of range": ("prod", _set(f"{P}:inferenceSchedule", "cron(0 5 ? 13 MON-FRI *)"),
                                f"{P}:inferenceSchedule", "month '13' is out of range"),
    "registryStack names the dev stack": ("prod", _set(f"{P}:registryStack", "example-org/mlops-platform/dev"),
                                          f"{P}:registryStack", "whose role is 'dev'"),
    "registryStack names a stack with no file": ("dev", _set(f"{P}:registryStack",
                                                             "example-org/mlops-platform/registy"),
                                                 f"{P}:registryStack", "has no Pulumi.registy.yaml"),
    "role does not match the stack name": ("dev", _set(f"{P}:role", "prod"), f"{P}:role",
                                           "the prod stack must be called 'prod'"),
    "a reviewer twice in another case": ("prod", _set(f"{P}:reviewers", ["alice-approver", "Alice-Approver"]),
                                         f"{P}:reviewers", "case-insensitive"),
    "a project tag of the user's own": ("dev", _patch(f"{P}:tags", project="other"), f"{P}:tags.project",
                                        "set by the platform"),
    "a tag value that is not text": ("dev", _patch(f"{P}:tags", costCenter=47.11), f"{P}:tags.costCenter",
                                     "write it in quotes"),
    "retainData as a YAML 1.1 yes": ("prod", _set(f"{P}:retainData", "yes"), f"{P}:retainData",
                                     "is text, not the boolean true"),
    "networkIsolation as a YAML 1.1 on": ("prod", _patch(f"{P}:vpc", networkIsolation="on"),
                                          f"{P}:vpc.networkIsolation", "write true"),
    # Issue 12.5: prod's posture is enforced, with a loud opt-out.
    "prod without a VPC": ("prod", _drop(f"{P}:vpc"), f"{P}:vpc", "S3 gateway endpoint"),
    "prod without network isolation": ("prod", _patch(f"{P}:vpc", networkIsolation=False),
                                       f"{P}:vpc.networkIsolation", OPT_OUT_VALUE),
    "prod opt-out in other words": ("prod", _set(f"{P}:prodWithoutNetworkIsolation", "yes"),
                                    f"{P}:prodWithoutNetworkIsolation", "must be exactly"),
    "opt-out outside prod": ("dev", _set(f"{P}:prodWithoutNetworkIsolation", OPT_OUT_VALUE),
                             f"{P}:prodWithoutNetworkIsolation", "prod stack only"),
    # Issue 13: the models are configuration, checked with everything else before any resource.
    "no models": ("dev", _drop(f"{P}:models"), f"{P}:models", "Onboard a model"),
    "a feature of an unknown kind": ("prod", _feature(0, kind="fancy"),
                                     f"{P}:models.mammography.schema.features[0].kind", "numeric, ordinal, nominal"),
    "first model that is not a model": ("dev", _set(f"{P}:firstModel", "nope"), f"{P}:firstModel",
                                        "name one of"),
    "an override of a model that does not exist": ("prod", _set(f"{P}:modelOverrides", {"nope": {"aucThreshold": 0.9}}),
                                                   f"{P}:modelOverrides.nope", "names no model"),
    "model overrides in the registry's file": ("registry", _set(f"{P}:modelOverrides",
                                                                {"mammography": {"aucThreshold": 0.9}}),
                                               f"{P}:modelOverrides", "dev and prod stacks only"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_rejected_with_a_clear_message_and_nothing_registered(case, registry):
    stack, change, key, fix = BAD_CONFIGS[case]
    config, secrets = stack_config(stack)
    config = copy.deepcopy(config)
    change(config)
    run = StackRun(stack)
    with pytest.raises(ConfigError) as err:
        run_stack(stack, config=config, secret_keys=secrets, registry_outputs=registry.outputs, run=run)
    message = str(err.value)
    assert f"{key}:" in message, message
    assert fix in message, message
    assert run.resources == [], f"{len(run.resources)} resources registered before the config error"


def test_every_problem_is_reported_at_once(registry):
    config, secrets = stack_config("dev")
    config = copy.deepcopy(config)
    config[f"{P}:aucThreshold"] = "2"
    config[f"{P}:notificationEmail"] = "nope"
    config.pop("aws:region")
    with pytest.raises(ConfigError) as err:
        run_stack("dev", config=config, secret_keys=secrets, registry_outputs=registry.outputs)
    assert len(err.value.problems) == 3


def test_a_github_token_is_refused_even_as_a_secret():
    # Every preview decrypts stack config; CI mints GitHub App tokens instead (README, Bootstrap).
    problems = _problems_with_secrets("dev", {"github:token"}, _set("github:token", "ghs_from_secure_value"))
    assert _keys(problems) == ["github:token"]


def test_there_are_at_least_fifteen_distinct_bad_configs():
    assert len({(s, k) for s, _, k, _ in BAD_CONFIGS.values()}) >= 15


# --- the loader on its own: one stack's config in, its role's settings type out -----------------

class _Namespace:
    """A `pulumi.Config` stand-in over engine-encoded config (every value a string)."""

    def __init__(self, encoded, namespace):
        self.encoded, self.namespace = encoded, namespace

    def get(self, key):
        return self.encoded.get(f"{self.namespace}:{key}")


def _load(stack, *changes, secrets=()):
    config, _ = stack_config(stack)
    config = copy.deepcopy(config)
    for change in changes:
        change(config)
    encoded = encode(config)
    return load_settings(_Namespace(encoded, P), _Namespace(encoded, "aws"), stack=stack,
                         is_secret=lambda k: k in secrets, github=_Namespace(encoded, "github"),
                         present_keys=set(encoded), stack_roles=stack_roles(REPOSITORY_ROOT))


def _problems(stack, *changes):
    return _problems_with_secrets(stack, set(), *changes)


def _problems_with_secrets(stack, secrets, *changes):
    with pytest.raises(ConfigError) as err:
        _load(stack, *changes, secrets=secrets)
    return err.value.problems


def test_each_role_gets_its_own_settings_type_with_nothing_optional_left_to_guard():
    registry = _load("registry")
    assert type(registry) is RegistrySettings and not hasattr(registry, "workload")
    for stack in ("dev", "prod"):
        settings = _load(stack)
        assert type(settings) is WorkloadSettings
        assert settings.workload.registry_stack == "example-org/mlops-platform/registry"
    assert _load("prod").workload.vpc is not None


def _keys(problems):
    return sorted(p.split(": ")[0] for p in problems)


def test_a_wrong_registry_stack_is_reported_beside_a_bad_threshold():
    # Issue 12.3: aucThreshold "2" used to hide the registryStack that is not in the organization.
    problems = _problems("dev", _set(f"{P}:aucThreshold", "2"),
                         _set(f"{P}:registryStack", "other-org/mlops-platform/registry"))
    assert _keys(problems) == [f"{P}:aucThreshold", f"{P}:registryStack"]
    assert any("'other-org/mlops-platform/registry' is not in the organization" in p for p in problems)


def test_a_bad_role_does_not_hide_the_workload_checks():
    problems = _problems("dev", _set(f"{P}:role", "staging"), _set(f"{P}:inferenceSchedule", "daily"),
                         _set(f"{P}:aucThreshold", "high"))
    assert _keys(problems) == [f"{P}:aucThreshold", f"{P}:inferenceSchedule", f"{P}:role"]


def test_a_bad_account_id_does_not_hide_a_wrong_allowed_account():
    problems = _problems("prod", _patch(f"{P}:accounts", dev="12345"), _set("aws:allowedAccountIds", ["222222222222"]))
    assert _keys(problems) == ["aws:allowedAccountIds", f"{P}:accounts.dev"]
    assert any('set it to ["333333333333"]' in p for p in problems)


def test_a_number_as_cost_centre_is_read_as_its_digits():
    # Issue 12.4: `costCenter: 4711` (a YAML number) used to be called "required".
    settings = _load("dev", _patch(f"{P}:tags", costCenter=4711))
    assert settings.tags["costCenter"] == "4711"
    assert settings.default_tags["costCenter"] == "4711"


def test_the_registry_keeps_its_data_unless_its_file_says_false():
    assert _load("registry", _drop(f"{P}:retainData")).retain_data is True
    assert _load("prod", _drop(f"{P}:retainData")).retain_data is True
    assert _load("dev", _drop(f"{P}:retainData")).retain_data is False
    assert _load("registry", _set(f"{P}:retainData", False)).retain_data is False


def test_prod_without_vpc_or_isolation_needs_the_sentence_that_accepts_it():
    opt_out = _set(f"{P}:prodWithoutNetworkIsolation", OPT_OUT_VALUE)
    assert _load("prod", _drop(f"{P}:vpc"), opt_out).workload.vpc is None
    assert _load("prod", _patch(f"{P}:vpc", networkIsolation=False), opt_out).workload.vpc.network_isolation is False
    assert _load("dev").workload.vpc is None  # dev may run without a VPC


def test_the_known_keys_are_what_the_loader_reads_including_other_modules_keys():
    keys = known_keys()
    assert {f"{P}:retainData", f"{P}:registryStack", f"{P}:vpc", f"{P}:prodWithoutNetworkIsolation",
            f"{P}:actionsSecrets", f"{P}:adoptRetained", f"{P}:models", f"{P}:modelOverrides",
            f"{P}:firstModel", f"{P}:modelPackageGroupName"} <= keys
    assert f"{P}:retainDta" not in keys


def test_every_unknown_key_is_reported_with_the_closest_name_or_the_list():
    problems = _problems("dev", _set(f"{P}:retainDta", True), _set(f"{P}:zzzz", "1"))
    assert any(p.startswith(f"{P}:retainDta: ") and f"did you mean {P}:retainData?" in p for p in problems)
    assert any(p.startswith(f"{P}:zzzz: ") and "the project reads" in p for p in problems)


def test_keys_of_other_namespaces_are_left_to_their_providers():
    assert _load("dev", _set("aws:profile", "ml"))


def test_the_real_stack_files_name_their_roles():
    assert {k: v for k, v in stack_roles(REPOSITORY_ROOT).items()} == \
        {"dev": "dev", "prod": "prod", "registry": "registry"}


def test_an_engine_encoded_structured_value_that_is_not_json_names_the_key():
    problems = _problems("dev", _set(f"{P}:vpc", "{subnetIds: [subnet-1]"))
    assert any(p.startswith(f"{P}:vpc: must be a map") for p in problems)
    json.dumps(problems)  # every problem is plain text


def test_the_readmes_example_error_output_is_the_real_one():
    with pytest.raises(ConfigError) as err:
        _load("prod", _set("aws:allowedAccountIds", ["222222222222"]),
              _set(f"{P}:inferenceSchedule", "cron(0 6 * * *)"), _rename(f"{P}:retainData", f"{P}:retainDta"))
    readme = (REPOSITORY_ROOT / "README.md").read_text()
    assert f"```\n{err.value}\n```" in readme


def test_prod_without_a_vpc_deploys_with_the_sentence_that_accepts_it(registry):
    config, secrets = stack_config("prod")
    config = copy.deepcopy(config)
    config.pop(f"{P}:vpc")
    config[f"{P}:prodWithoutNetworkIsolation"] = OPT_OUT_VALUE
    run = run_stack("prod", config=config, secret_keys=secrets, registry_outputs=registry.outputs)
    assert run.outputs["role"] == "prod" and run.resources


# --- issue 13: models -----------------------------------------------------------------------------

def test_every_stack_has_every_model_the_first_model_first():
    for stack in ("registry", "dev", "prod"):
        models = _load(stack).models
        assert [m.first for m in models] == [True] + [False] * (len(models) - 1)
        assert models[0].name == "mammography" and len(models) >= 2
        assert len({m.group_name for m in models}) == len(models)


def test_the_stacks_own_single_model_keys_are_every_models_defaults():
    config, _ = stack_config("prod")
    for model in _load("prod").models:
        entry = config[f"{P}:models"][model.name]
        override = (config.get(f"{P}:modelOverrides") or {}).get(model.name, {})
        if "aucThreshold" not in entry and "aucThreshold" not in override:
            assert model.auc_threshold == float(config[f"{P}:aucThreshold"])
        if "inferenceSchedule" not in entry and "inferenceSchedule" not in override:
            assert model.inference_schedule == config[f"{P}:inferenceSchedule"]
    changed = _load("dev", _set(f"{P}:retrainCooldownMinutes", "30")).models
    assert all(m.retrain_cooldown_minutes == 30 for m in changed
               if "retrainCooldownMinutes" not in stack_config("dev")[0][f"{P}:models"][m.name])


def test_an_override_changes_one_model_in_one_stack():
    overrides = {"wdbc": {"aucThreshold": 0.77, "inferenceSchedule": "rate(2 days)"}}
    models = {m.name: m for m in _load("dev", _set(f"{P}:modelOverrides", overrides)).models}
    assert (models["wdbc"].auc_threshold, models["wdbc"].inference_schedule) == (0.77, "rate(2 days)")
    assert models["mammography"].auc_threshold == _load("dev").models[0].auc_threshold


def test_a_bad_stack_default_is_one_problem_not_one_per_model():
    problems = _problems("dev", _set(f"{P}:aucThreshold", "2"), _set(f"{P}:inferenceSchedule", "daily"))
    assert _keys(problems) == [f"{P}:aucThreshold", f"{P}:inferenceSchedule"]


def test_a_bad_model_is_reported_with_every_other_problem():
    problems = _problems("dev", _feature(1, domain=[]), _set(f"{P}:notificationEmail", "nope"))
    assert f"{P}:notificationEmail" in _keys(problems)
    assert any(k.startswith(f"{P}:models.mammography.schema.features[1]") for k in _keys(problems))


def test_model_overrides_belong_in_a_stack_file_not_in_pulumi_yaml():
    config, _ = stack_config("dev")
    encoded = encode({**copy.deepcopy(config), f"{P}:modelOverrides": {"wdbc": {"aucThreshold": 0.8}}})
    with pytest.raises(ConfigError) as err:
        load_settings(_Namespace(encoded, P), _Namespace(encoded, "aws"), stack="dev",
                      github=_Namespace(encoded, "github"), present_keys=set(encoded),
                      stack_roles=stack_roles(REPOSITORY_ROOT), project_keys={f"{P}:models", f"{P}:modelOverrides"})
    assert _keys(err.value.problems) == [f"{P}:modelOverrides"]
    assert "Pulumi.dev.yaml or Pulumi.prod.yaml" in err.value.problems[0]


def test_the_project_file_sets_the_models_and_no_overrides():
    from mlops_platform.project_stacks import project_config_keys

    keys = project_config_keys(REPOSITORY_ROOT)
    assert {f"{P}:models", f"{P}:firstModel"} <= keys and f"{P}:modelOverrides" not in keys
