"""The runner reads Pulumi.yaml and Pulumi.<stack>.yaml as the Pulumi CLI does: secrets of any key,
the project-config declaration form, YAML 1.2, and clear errors naming the file, line or key."""
from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.runtime.config import is_config_secret

from mlops_platform.offline.stack_files import (
    StackFileError,
    encode,
    read_stack_config,
    secret_stand_in,
    stack_config,
)
from tests.support.stacks import run_stack

P = "mlops-platform"
PROJECT = f"name: {P}\nruntime: python\n"
STACK = "config:\n  aws:region: eu-west-1\n"


def _files(tmp_path: Path, project: str = PROJECT, stack: str | None = STACK, name: str = "dev") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(project)
    if stack is not None:
        (tmp_path / f"Pulumi.{name}.yaml").write_text(stack)
    return tmp_path


def _problems(tmp_path: Path, **files) -> list[str]:
    with pytest.raises(StackFileError) as caught:
        read_stack_config("dev", _files(tmp_path, **files))
    return caught.value.problems


def test_the_real_files_read_as_before():
    values, secrets = stack_config("prod")
    assert values[f"{P}:accounts"] == {"registry": "111111111111", "dev": "222222222222", "prod": "333333333333"}
    assert values[f"{P}:vpc"]["networkIsolation"] is True and values["aws:allowedAccountIds"] == ["333333333333"]
    assert secrets == []


# --- secrets ---------------------------------------------------------------------------------------

def test_a_secure_value_of_any_key_gets_its_own_stand_in_and_is_secret(tmp_path):
    config = read_stack_config("dev", _files(tmp_path, stack=STACK + (
        "  github:token:\n    secure: v1:abc\n"
        "  mlops-platform:webhook:\n    secure: v1:def\n"
        "  aws:secretKey:\n    secure: v1:ghi\n")))
    assert config.values["github:token"] == secret_stand_in("github:token")
    assert config.values[f"{P}:webhook"] == secret_stand_in(f"{P}:webhook") != config.values["github:token"]
    assert config.secret_keys == ["aws:secretKey", "github:token", f"{P}:webhook"]


def test_a_secure_value_inside_a_map_makes_the_key_secret(tmp_path):
    config = read_stack_config("dev", _files(tmp_path, stack=STACK + (
        "  mlops-platform:database:\n    user: ml\n    password:\n      secure: v1:abc\n")))
    assert config.values[f"{P}:database"] == {"user": "ml", "password": secret_stand_in(f"{P}:database")}
    assert config.secret_keys == [f"{P}:database"]


def test_the_program_sees_a_stand_in_secret_as_a_secret(tmp_path):
    config = read_stack_config("dev", _files(tmp_path, stack=STACK + "  mlops-platform:webhook:\n    secure: v1:x\n"))
    seen = []
    run_stack("dev", config=config.values, secret_keys=config.secret_keys, registry_outputs={},
              program=lambda: seen.append(is_config_secret(f"{P}:webhook")))
    assert seen == [True]


# --- files that cannot be read ---------------------------------------------------------------------

def test_a_tab_is_reported_with_its_file_and_line(tmp_path):
    problems = _problems(tmp_path, stack="config:\n  aws:region: eu-west-1\n\tmlops-platform:role: dev\n")
    assert len(problems) == 1
    assert problems[0].startswith("Pulumi.dev.yaml:3:1: a tab character") and "spaces" in problems[0]


def test_other_yaml_errors_name_the_file_and_line(tmp_path):
    problems = _problems(tmp_path, project=PROJECT + "config:\n  region: [eu-west-1\n")
    assert problems[0].startswith("Pulumi.yaml:") and "not valid YAML" in problems[0]
    assert problems[0].split(":")[1].isdigit()


def test_a_missing_stack_file_says_how_to_create_it(tmp_path):
    problems = _problems(tmp_path, stack=None)
    assert len(problems) == 1
    assert problems[0].startswith(f"Pulumi.dev.yaml: not found in {tmp_path}")
    assert "pulumi stack init dev" in problems[0] and "git checkout -- Pulumi.dev.yaml" in problems[0]


def test_a_missing_project_file_and_a_broken_stack_file_are_reported_together(tmp_path):
    (tmp_path / "Pulumi.dev.yaml").write_text("config: [\n")
    with pytest.raises(StackFileError) as caught:
        read_stack_config("dev", tmp_path)
    assert [p.split(":")[0] for p in caught.value.problems] == ["Pulumi.yaml", "Pulumi.dev.yaml"]


def test_a_key_written_twice_is_refused_as_the_cli_refuses_it(tmp_path):
    problems = _problems(tmp_path, stack=STACK + "  mlops-platform:role: dev\n  mlops-platform:role: prod\n")
    assert problems == ["Pulumi.dev.yaml:4: `mlops-platform:role` is written twice in one map (first at line 3); "
                        "the Pulumi CLI refuses the file: keep one."]


def test_config_must_be_a_map(tmp_path):
    assert _problems(tmp_path, stack="config:\n  - aws:region\n") == [
        "Pulumi.dev.yaml: `config:` must be a map of keys to values, not a list."]


# --- YAML 1.2, as go-yaml v3 reads it ---------------------------------------------------------------

def test_a_yes_reaches_the_settings_as_the_text_yes(tmp_path):
    config = read_stack_config("dev", _files(tmp_path, stack=STACK + "  mlops-platform:retainData: yes\n"))
    assert encode(config.values)[f"{P}:retainData"] == "yes"


# --- Pulumi.yaml: the declaration form --------------------------------------------------------------

def test_project_values_defaults_and_declarations(tmp_path):
    project = PROJECT + (
        "config:\n"
        "  aws:region: eu-west-1\n"                       # another namespace, shorthand: a value
        "  mlops-platform:team: ml\n"                     # this project, shorthand: a default
        "  mlops-platform:accounts:\n    value:\n      dev: '222222222222'\n"
        "  mlops-platform:cooldown:\n    type: integer\n    default: 360\n    description: minutes\n"
        "  mlops-platform:flags:\n    type: array\n    items:\n      type: string\n    default: [a, b]\n"
        "  mlops-platform:owner:\n    type: string\n    description: set by each stack\n")
    config = read_stack_config("dev", _files(tmp_path, project=project,
                                             stack="config:\n  mlops-platform:owner: alice\n  team: ops\n"))
    assert config.values == {"aws:region": "eu-west-1", f"{P}:team": "ops", f"{P}:accounts": {"dev": "222222222222"},
                             f"{P}:cooldown": 360, f"{P}:flags": ["a", "b"], f"{P}:owner": "alice"}
    assert encode(config.values)[f"{P}:cooldown"] == "360"
    assert config.origins[f"{P}:cooldown"] == "Pulumi.yaml" and config.origins[f"{P}:team"] == "Pulumi.dev.yaml"


def test_a_declared_key_without_default_must_be_set_by_the_stack(tmp_path):
    problems = _problems(tmp_path, project=PROJECT + "config:\n  mlops-platform:owner:\n    type: string\n")
    assert problems == ["Pulumi.dev.yaml: mlops-platform:owner: Pulumi.yaml declares it without a default, so "
                        "every stack must set it: add it to Pulumi.dev.yaml."]


def test_a_map_value_outside_value_is_explained(tmp_path):
    problems = _problems(tmp_path, project=PROJECT + "config:\n  mlops-platform:tags:\n    owner: ml\n    defualt: x\n")
    assert len(problems) == 1
    assert problems[0].startswith("Pulumi.yaml: mlops-platform:tags: a map here declares the key")
    assert "['defualt', 'owner']" in problems[0] and "did you mean ['default']" in problems[0]
    assert "put the map under `value:`" in problems[0]


@pytest.mark.parametrize(("declaration", "fragment"), [
    ("type: integer\n    default: many", "the default 'many' is not of type integer"),
    ("type: array\n    default: [a]", "`type: array` needs `items:`"),
    ("type: number", "`type: number` is not one of"),
    ("default: 1\n    value: 2", "has both `default` and `value`"),
    ("secret: maybe", "`secret` must be true or false"),
])
def test_invalid_declarations_are_refused(tmp_path, declaration, fragment):
    problems = _problems(tmp_path, project=PROJECT + f"config:\n  mlops-platform:x:\n    {declaration}\n")
    assert any(p.startswith("Pulumi.yaml: mlops-platform:x: ") and fragment in p for p in problems), problems


def test_another_namespace_takes_a_value_not_a_default(tmp_path):
    problems = _problems(tmp_path, project=PROJECT + "config:\n  aws:region:\n    default: eu-west-1\n")
    assert problems == ["Pulumi.yaml: aws:region: belongs to another namespace: give it a `value:` "
                        "(no `type` or `default`)."]


def test_a_typed_key_checks_the_stack_value(tmp_path):
    problems = _problems(tmp_path, project=PROJECT + "config:\n  mlops-platform:cooldown:\n    type: integer\n",
                         stack="config:\n  mlops-platform:cooldown: soon\n")
    assert problems == ["Pulumi.dev.yaml: mlops-platform:cooldown: Pulumi.yaml declares it of type integer, "
                        "got 'soon'."]


def test_a_key_declared_secret_must_be_encrypted_in_the_stack_file(tmp_path):
    project = PROJECT + "config:\n  mlops-platform:apiKey:\n    type: string\n    secret: true\n"
    problems = _problems(tmp_path, project=project, stack="config:\n  mlops-platform:apiKey: plain-text\n")
    assert problems == ["Pulumi.dev.yaml: mlops-platform:apiKey: Pulumi.yaml declares it secret: set it in "
                        "Pulumi.dev.yaml with `pulumi config set --secret apiKey <value>` so it is encrypted."]
    config = read_stack_config("dev", _files(tmp_path, project=project,
                                             stack="config:\n  mlops-platform:apiKey:\n    secure: v1:x\n"))
    assert config.secret_keys == [f"{P}:apiKey"]


def test_every_problem_of_both_files_at_once(tmp_path):
    problems = _problems(tmp_path, project=PROJECT + "config:\n  aws:region:\n    default: x\n"
                                                     "  mlops-platform:owner:\n    type: string\n",
                         stack="config:\n  mlops-platform:n:\n    - {secure: v1:x}\n")
    assert [p.split(": ")[0] for p in problems] == ["Pulumi.yaml", "Pulumi.dev.yaml"]
