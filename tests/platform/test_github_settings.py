"""The GitHub Actions secrets a stack manages: sealed by GitHub for one environment, stored as
Pulumi secrets, written as environment secrets and never printed; and the config that is
refused, every problem at once, each with its key and fix, before any resource exists."""
from __future__ import annotations

import base64
import copy

import pytest
from nacl.public import PrivateKey, SealedBox
from pulumi.runtime import rpc

from mlops_platform.github_settings import APP_CLIENT_ID, APP_PRIVATE_KEY, name_problem, sealed_value_problem
from mlops_platform.settings import ConfigError
from tests.support.stacks import StackRun, run_stack, stack_config

P = "mlops-platform"
KEY = f"{P}:actionsSecrets"
SECRET = "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"
KEY_ID = "568250167242549743"
# Stands in for an environment's key pair; GitHub keeps the private half.
ENVIRONMENT_KEY = PrivateKey(bytes(range(32)))
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----\n"
CLIENT_ID = "Iv23liExampleClient"


def seal(text: str) -> str:
    """What `gh secret set NAME --env ENV --no-store` prints: a base64 libsodium sealed box."""
    return base64.b64encode(SealedBox(ENVIRONMENT_KEY.public_key).encrypt(text.encode())).decode()


def app_secrets(environment: str, **extra: str) -> dict:
    return {environment: {"keyId": KEY_ID, "secrets": {
        APP_CLIENT_ID: seal(CLIENT_ID), APP_PRIVATE_KEY: seal(PEM), **extra}}}


def with_secrets(stack: str, value, *, secret: bool = True) -> tuple[dict, list[str]]:
    config, secret_keys = stack_config(stack)
    config = {**copy.deepcopy(config), KEY: value}
    return config, [*secret_keys, KEY] if secret else list(secret_keys)


def rejected(stack: str, value, registry, *, secret: bool = True) -> str:
    config, secret_keys = with_secrets(stack, value, secret=secret)
    run = StackRun(stack)
    with pytest.raises(ConfigError) as err:
        run_stack(stack, config=config, secret_keys=secret_keys, registry_outputs=registry.outputs, run=run)
    assert run.resources == [], "validation must fail before any resource is registered"
    return str(err.value)


@pytest.fixture(scope="module")
def dev_with_secrets(registry):
    config, secret_keys = with_secrets("dev", app_secrets("dev"))
    return run_stack("dev", config=config, secret_keys=secret_keys, registry_outputs=registry.outputs), config


def unwrap_secret(value):
    assert isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig, \
        f"{value!r} reaches the engine unmarked: it would be printed and stored in plain text"
    return value["value"]


def test_the_app_secrets_become_environment_secrets_of_the_stacks_own_environment(dev_with_secrets):
    run, config = dev_with_secrets
    secrets = {r.inputs["secretName"]: r for r in run.of_type(SECRET)}
    assert set(secrets) == {APP_CLIENT_ID, APP_PRIVATE_KEY}
    environment = run.one("mlops:github:GitHubEnvironment", "dev")
    for name, resource in secrets.items():
        assert resource.inputs["environment"] == "dev" and resource.inputs["repository"] == "mlops-platform"
        assert resource.inputs["keyId"] == KEY_ID
        sealed = unwrap_secret(resource.inputs["valueEncrypted"])
        assert sealed == config[KEY]["dev"]["secrets"][name], "the sealed value reaches GitHub unchanged"
        # Nothing in plain text: no `value`/`plaintextValue` (the provider would seal and store it).
        assert not {"value", "plaintextValue", "encryptedValue"} & set(resource.inputs)
        assert resource.parent == environment.urn
    # GitHub, holding the environment's private key, opens exactly what the administrator sealed.
    sealed_key = unwrap_secret(secrets[APP_PRIVATE_KEY].inputs["valueEncrypted"])
    opened = SealedBox(ENVIRONMENT_KEY).decrypt(base64.b64decode(sealed_key))
    assert opened.decode() == PEM


def test_no_stack_writes_a_repository_secret(dev_with_secrets, stacks):
    for run in (dev_with_secrets[0], *stacks.values()):
        assert not run.of_type("github:index/actionsSecret:ActionsSecret")


def test_the_registry_may_seal_secrets_for_model_approval_too(registry):
    value = {**app_secrets("registry"), "model-approval": {"keyId": "42", "secrets": {"MLOPS_NOTE": seal("x")}}}
    config, secret_keys = with_secrets("registry", value)
    run = run_stack("registry", config=config, secret_keys=secret_keys)
    by_env = {(r.inputs["environment"], r.inputs["secretName"]) for r in run.of_type(SECRET)}
    assert by_env == {("registry", APP_CLIENT_ID), ("registry", APP_PRIVATE_KEY), ("model-approval", "MLOPS_NOTE")}


def test_without_secrets_in_config_the_stack_writes_none(stacks):
    # The committed stack files hold none: an administrator seals and sets them (README, Bootstrap).
    assert all(not run.of_type(SECRET) for run in stacks.values())


@pytest.mark.parametrize("stack, value, key, fix", [
    ("dev", app_secrets("staging"), f"{KEY}.staging", "no environment 'staging'"),
    ("dev", {**app_secrets("dev"), **app_secrets("prod")}, f"{KEY}.prod", "the stack that owns that environment"),
    ("dev", {"dev": {"keyId": KEY_ID, "secrets": {APP_CLIENT_ID: seal(CLIENT_ID)}}}, f"{KEY}.dev",
     f"lacks {APP_PRIVATE_KEY}"),
    ("dev", app_secrets("dev", GITHUB_TOKEN_COPY=seal("x")), f"{KEY}.dev.secrets.GITHUB_TOKEN_COPY", "reserves"),
    ("dev", app_secrets("dev", **{"MY-SECRET": seal("x")}), f"{KEY}.dev.secrets.MY-SECRET", "letters, digits and '_'"),
    ("dev", app_secrets("dev", **{"1ST": seal("x")}), f"{KEY}.dev.secrets.1ST", "starts with a digit"),
    ("dev", app_secrets("dev", mlops_app_client_id=seal("x")), f"{KEY}.dev.secrets.mlops_app_client_id",
     "case-insensitive"),
    ("prod", {"prod": {"keyId": KEY_ID, "secrets": {APP_CLIENT_ID: seal(CLIENT_ID), APP_PRIVATE_KEY: PEM}}},
     f"{KEY}.prod.secrets.{APP_PRIVATE_KEY}", "plaintext private key"),
    ("prod", {"prod": {"keyId": KEY_ID, "secrets": {APP_CLIENT_ID: "12345678", APP_PRIVATE_KEY: seal(PEM)}}},
     f"{KEY}.prod.secrets.{APP_CLIENT_ID}", "plain text, not sealed"),
    ("prod", {"prod": {"keyId": KEY_ID, "secrets": {APP_CLIENT_ID: "Iv23li Example!", APP_PRIVATE_KEY: seal(PEM)}}},
     f"{KEY}.prod.secrets.{APP_CLIENT_ID}", "not base64"),
    ("registry", {"registry": {"keyId": "", "secrets": {APP_CLIENT_ID: seal("a"), APP_PRIVATE_KEY: seal("b")}}},
     f"{KEY}.registry.keyId", "secrets/public-key"),
    ("registry", {"registry": [seal("a")]}, f"{KEY}.registry", "keyId"),
])
def test_secrets_github_would_refuse_or_that_are_not_sealed_are_rejected(stack, value, key, fix, registry):
    message = rejected(stack, value, registry)
    assert f"{key}: " in message and fix in message, message


def test_a_secret_given_in_plain_text_config_is_rejected(registry):
    message = rejected("dev", app_secrets("dev"), registry, secret=False)
    assert f"{KEY}: is stored in plain text" in message and "pulumi config set --secret --path" in message


def test_every_secrets_problem_is_reported_at_once(registry):
    value = {"dev": {"keyId": KEY_ID, "secrets": {"GITHUB_X": seal("x"), APP_CLIENT_ID: PEM}},
             "staging": app_secrets("staging")["staging"]}
    message = rejected("dev", value, registry, secret=False)
    for fragment in ("is stored in plain text", f"{KEY}.staging", f"{KEY}.dev.secrets.GITHUB_X",
                     f"{KEY}.dev.secrets.{APP_CLIENT_ID}", f"lacks {APP_PRIVATE_KEY}"):
        assert fragment in message, fragment


def test_a_github_token_in_stack_config_is_refused(registry):
    config, secret_keys = stack_config("dev")
    run = StackRun("dev")
    with pytest.raises(ConfigError) as err:
        run_stack("dev", config={**config, "github:token": "ghs_from_secure_value"},
                  secret_keys=[*secret_keys, "github:token"], registry_outputs=registry.outputs, run=run)
    assert "github:token: is no longer read" in str(err.value) and "pulumi config rm github:token" in str(err.value)
    assert run.resources == []


@pytest.mark.parametrize("name", ["MLOPS_APP_CLIENT_ID", "_X", "a1_B2"])
def test_names_github_accepts(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "GITHUB_X", "github_token", "1A", "A-B", "A B", "Ä", 7])
def test_names_github_refuses(name):
    assert name_problem(name)


def test_sealed_values_are_told_from_plain_ones():
    how = "gh secret set X --env dev --no-store"
    assert sealed_value_problem(seal("1"), how) is None
    assert sealed_value_problem(seal(PEM), how) is None
    assert sealed_value_problem(seal(""), how)  # GitHub stores no empty secret
    assert "plain text" in sealed_value_problem(base64.b64encode(b"x" * 48).decode(), how)
    assert "48 KB" in sealed_value_problem(base64.b64encode(b"x" * (48 + 48 * 1024 + 1)).decode(), how)
    assert how in sealed_value_problem(None, how)
