"""The GitHub Actions secrets a stack manages, read and validated from its config.

The deploy and destroy jobs mint a short-lived GitHub token from a GitHub App. The App's
client id and private key are *environment* secrets of each deploy environment (a
pull-request job cannot enter an environment restricted to `main`), managed by the stack
that owns the environment.

Stack config is decrypted by every preview (Pulumi Cloud's Stack Read includes decrypt),
so it never holds a usable secret: each value is first *sealed* by GitHub's own tooling for
the one environment it belongs to (`gh secret set NAME --env ENV --no-store`, a libsodium
sealed box with that environment's public key, which only GitHub can open), and the sealed
text is then stored with `pulumi config set --secret`. The program hands it to GitHub as
`value_encrypted` with the environment's public key id; the plaintext never passes through
Pulumi, its state or a preview.

    mlops-platform:actionsSecrets:          # set with --secret; per environment of this stack
      <environment>:
        keyId: "<the environment's public key id>"
        secrets:
          MLOPS_APP_CLIENT_ID: <sealed>
          MLOPS_APP_PRIVATE_KEY: <sealed>
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Protocol

KEY = "actionsSecrets"
PREVIEW_TEAM_KEY = "pulumiPreviewTeam"
DEFAULT_PREVIEW_TEAM = "mlops-platform-preview"
# The environment the registry stack creates besides its own (approvals run there).
MODEL_APPROVAL = "model-approval"
# What the deploy and destroy jobs pass to actions/create-github-app-token (client-id, private-key).
APP_CLIENT_ID = "MLOPS_APP_CLIENT_ID"
APP_PRIVATE_KEY = "MLOPS_APP_PRIVATE_KEY"
APP_SECRETS = (APP_CLIENT_ID, APP_PRIVATE_KEY)

# GitHub's naming rules for secrets (docs, "Naming your secrets"): letters, digits and
# underscores, not starting with a digit, never the reserved GITHUB_ prefix; case-insensitive.
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_PREFIX = "GITHUB_"
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
PULUMI_TEAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
# A libsodium sealed box adds an ephemeral public key (32 bytes) and a MAC (16 bytes).
SEALED_BOX_OVERHEAD = 48
# GitHub stores secrets of up to 48 KB.
MAX_SECRET_BYTES = 48 * 1024


@dataclass(frozen=True)
class SealedSecret:
    """One Actions secret of one environment, sealed with that environment's public key."""

    environment: str
    name: str
    key_id: str
    sealed_value: str  # base64 sealed box: only GitHub can open it


class Collector(Protocol):
    """What this module needs of the config loader's collector."""

    is_secret: Any

    def fail(self, key: str, message: str) -> None: ...

    def text(self, key: str, *, required: bool, fix: str, default: str | None = None) -> str | None: ...

    def structured(self, key: str, kind: type, *, required: bool, fix: str) -> Any: ...


def environments_of(role: str | None, stack: str) -> tuple[str, ...]:
    """The GitHub environments a stack creates: its own, and model-approval for the registry."""
    return (stack, MODEL_APPROVAL) if role == "registry" else (stack,)


def seal_command(environment: str, name: str) -> str:
    return f"gh secret set {name} --env {environment} --no-store"


def read_actions_secrets(c: Collector, project: str, role: str | None, stack: str) -> tuple[SealedSecret, ...]:
    """The sealed Actions secrets of this stack's environments, or () when none are configured."""
    key = f"{project}:{KEY}"
    fix = "Set it per environment as {keyId, secrets: {NAME: <sealed value>}} (README, Bootstrap)."
    raw = c.structured(KEY, dict, required=False, fix=fix)
    if raw is None:
        return ()
    if not c.is_secret(key):
        c.fail(key, "is stored in plain text: set every value with `pulumi config set --secret --path "
               f"'{KEY}.<environment>.secrets.<NAME>' <sealed value>`, so that the stack file holds ciphertext.")
    known = environments_of(role, stack)
    out: list[SealedSecret] = []
    for environment, spec in sorted(raw.items()):
        where = f"{key}.{environment}"
        if role is not None and environment not in known:
            c.fail(where, f"no environment {environment!r} exists in the {stack} stack, which creates "
                   f"{', '.join(known)}: bind the secret to one of those, or set it in the config of the "
                   "stack that owns that environment.")
            continue
        out += _environment_secrets(c, where, environment, spec)
    if role is not None and raw:
        own = raw.get(stack)
        named = own.get("secrets") if isinstance(own, dict) else None
        _require_app_secrets(c, key, stack, set(named) if isinstance(named, dict) else set())
    return tuple(out)


def _environment_secrets(c: Collector, where: str, environment: str, spec: Any) -> list[SealedSecret]:
    if not isinstance(spec, dict) or set(spec) - {"keyId", "secrets"}:
        c.fail(where, "must be a map {keyId: <public key id>, secrets: {NAME: <sealed value>}}.")
        return []
    key_id, secrets = spec.get("keyId"), spec.get("secrets")
    if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
        c.fail(f"{where}.keyId", "must be the id of the public key the values were sealed with: "
               f"`gh api repos/<owner>/<repo>/environments/{environment}/secrets/public-key --jq .key_id`.")
        key_id = None
    if not isinstance(secrets, dict) or not secrets:
        c.fail(f"{where}.secrets", "must map secret names to sealed values.")
        return []
    out: list[Any] = []
    seen: dict[str, str] = {}
    for name, value in sorted(secrets.items()):
        at = f"{where}.secrets.{name}"
        problem = name_problem(name) or (f"names the same secret as {seen[name.upper()]!r}: GitHub secret "
                                         "names are case-insensitive; keep one." if name.upper() in seen else None)
        problem = problem or sealed_value_problem(value, seal_command(environment, name))
        if problem:
            c.fail(at, problem)
            continue
        seen[name.upper()] = name
        if key_id:
            out.append(SealedSecret(environment, name, key_id, value))
    return out


def _require_app_secrets(c: Collector, key: str, stack: str, present: set[str]) -> None:
    missing = [n for n in APP_SECRETS if n not in present]
    if missing:
        c.fail(f"{key}.{stack}", f"lacks {', '.join(missing)}: the deploy and destroy jobs of the {stack} "
               f"environment mint their GitHub token from {' and '.join(APP_SECRETS)} (README, Bootstrap).")


def name_problem(name: Any) -> str | None:
    """Why GitHub would refuse `name` as a secret name, or None."""
    if not isinstance(name, str) or not name:
        return "a secret needs a non-empty name."
    if name.upper().startswith(RESERVED_PREFIX):
        return f"{name!r} starts with {RESERVED_PREFIX}, which GitHub reserves: choose another prefix, e.g. MLOPS_."
    if name[0].isdigit():
        return f"{name!r} starts with a digit, which GitHub refuses: start with a letter or '_'."
    if not SECRET_NAME.fullmatch(name):
        return f"{name!r} has characters GitHub refuses: use only letters, digits and '_'."
    return None


def sealed_value_problem(value: Any, how: str) -> str | None:
    """Why `value` is not a value sealed for GitHub, or None."""
    if not isinstance(value, str) or not value.strip():
        return f"must be the sealed value printed by `{how}`."
    if value.lstrip().startswith("-----BEGIN"):
        return f"is a plaintext private key: never store it; seal it with `{how} < key.pem` and store the output."
    try:
        sealed = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"is not base64, so it cannot be a sealed value: it looks like plain text; store the output of `{how}`."
    if len(sealed) <= SEALED_BOX_OVERHEAD:
        return (f"is {len(sealed)} bytes: a sealed value has at least {SEALED_BOX_OVERHEAD + 1}, so this is "
                f"plain text, not sealed; store the output of `{how}`.")
    if len(sealed) - SEALED_BOX_OVERHEAD > MAX_SECRET_BYTES:
        return "is larger than the 48 KB GitHub stores for a secret."
    return None


def read_preview_team(c: Collector, project: str) -> str:
    """The Pulumi Cloud team whose read-only token pull-request previews request."""
    team = c.text(PREVIEW_TEAM_KEY, required=False, fix="", default=DEFAULT_PREVIEW_TEAM)
    if team is None or not PULUMI_TEAM.fullmatch(team):
        c.fail(f"{project}:{PREVIEW_TEAM_KEY}", f"{team!r} is not a Pulumi team name (letters, digits, '-', '_', '.').")
        return DEFAULT_PREVIEW_TEAM
    return team
