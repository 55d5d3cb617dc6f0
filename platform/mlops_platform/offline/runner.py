"""Run the Pulumi program for one stack under `pulumi.runtime.set_mocks`.

Config comes from the real `Pulumi.yaml` and `Pulumi.<stack>.yaml`, merged the way the CLI
merges them; a workload stack's StackReference is fed the registry run's exports. The mocks
answer like AWS closely enough for the program (ARNs, ids); nothing leaves the machine.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc, settings as rsettings
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "mlops-platform"
STACKS = ("registry", "dev", "prod")
# `secure:` values cannot be decrypted without the CLI: these stand in for them.
SECRET_STAND_INS = {"github:token": "ghs_test_token_not_real"}


def stack_config(stack: str) -> tuple[dict[str, Any], list[str]]:
    """Merged config (structured values) and the keys that are secrets."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    merged: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        merged[_qualify(key)] = spec["value"] if isinstance(spec, dict) and "value" in spec else spec
    secrets = []
    stack_file = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    for key, value in (stack_file.get("config") or {}).items():
        key = _qualify(key)
        if isinstance(value, dict) and set(value) == {"secure"}:
            value = SECRET_STAND_INS[key]
            secrets.append(key)
        merged[key] = value
    return merged, secrets


def _qualify(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def encode(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the engine hands them to a program: strings, JSON for lists/maps."""
    out = {}
    for key, value in config.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    parent: str
    provider: str
    retain_on_delete: bool
    protect: bool
    urn: str

    def json(self, key: str) -> Any:
        value = self.inputs.get(key)
        return json.loads(value) if isinstance(value, str) else value


# Resources whose inputs carry a policy document, and the input that holds it.
POLICY_INPUTS = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy": "resourcePolicy",
}


@dataclass
class StackRun:
    stack: str
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]

    def custom(self) -> list[Registered]:
        return [r for r in self.resources if not r.type.startswith(("mlops:", "pulumi:"))]

    def policy_documents(self) -> list[tuple[Registered, dict[str, Any]]]:
        """Every IAM policy document the stack declares, parsed, with its resource."""
        return [(r, json.loads(r.inputs[POLICY_INPUTS[r.type]])) for r in self.resources
                if isinstance(r.inputs.get(POLICY_INPUTS.get(r.type, "")), str)]


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would, closely enough for the program: ARNs, ids, names."""

    def __init__(self, stack: str, config: dict[str, Any], registry_outputs: dict[str, Any] | None):
        self.stack, self.registry_outputs = stack, registry_outputs or {}
        self.region = config.get("aws:region", "eu-west-1")
        self.account = (config.get("aws:allowedAccountIds") or ["000000000000"])[0]

    def new_resource(self, args: pmocks.MockResourceArgs):
        if args.typ == "pulumi:pulumi:StackReference":
            return f"{args.name}-id", {"name": args.name, "outputs": self.registry_outputs,
                                       "secretOutputNames": []}
        state = dict(args.inputs)
        state.setdefault("arn", self._arn(args))
        if args.typ == "aws:s3/bucket:Bucket":
            state.setdefault("bucket", args.name)
        if args.typ == "aws:kms/key:Key":
            state["keyId"] = f"{args.name}-key-id"
        if args.typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{self.region}.amazonaws.com/{self.account}/{state.get('name', args.name)}"
        return f"{args.name}-id", state

    def _arn(self, args: pmocks.MockResourceArgs) -> str:
        i = args.inputs
        t = args.typ
        if t == "aws:s3/bucket:Bucket":
            return f"arn:aws:s3:::{i.get('bucket', args.name)}"
        if t == "aws:iam/role:Role":
            return f"arn:aws:iam::{self.account}:role/{i.get('name', args.name)}"
        if t == "aws:iam/policy:Policy":
            return f"arn:aws:iam::{self.account}:policy/{i.get('name', args.name)}"
        if t == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            return f"arn:aws:iam::{self.account}:oidc-provider/{i['url'].removeprefix('https://')}"
        if t == "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
            return f"arn:aws:sagemaker:{self.region}:{self.account}:model-package-group/{i['modelPackageGroupName']}"
        if t == "aws:kms/key:Key":
            return f"arn:aws:kms:{self.region}:{self.account}:key/{args.name}-key-id"
        name = i.get("name", args.name)
        shaped = {  # AWS's ARN formats, where the resource type is part of the ARN
            "aws:cloudwatch/eventRule:EventRule": f"arn:aws:events:{self.region}:{self.account}:rule/{name}",
            "aws:lambda/function:Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
            "aws:dynamodb/table:Table": f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}",
        }
        if t in shaped:
            return shaped[t]
        service = t.split(":")[1].split("/")[0]
        return f"arn:aws:{service}:{self.region}:{self.account}:{name}"

    def call(self, args: pmocks.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account, "arn": f"arn:aws:iam::{self.account}:root", "userId": "mock"}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region}
        if args.token == "github:index/getUser:getUser":
            return github_user(args.args["username"])
        return {}


def github_user(login: str) -> dict[str, Any]:
    """A stand-in GitHub user: the id is derived from the login, so runs are deterministic."""
    import hashlib

    user_id = int(hashlib.sha256(login.lower().encode()).hexdigest()[:7], 16)
    return {"id": str(user_id), "login": login, "username": login, "nodeId": f"U_{user_id}"}


class RecordingMonitor(pmocks.MockMonitor):
    """Keeps what the engine would see: resource options and the stack's outputs."""

    def __init__(self, mocks: RecordingMocks, run: StackRun):
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = _sync_await(_deserialize(request.object))
            self.run.resources.append(Registered(
                type=request.type, name=request.name, inputs=inputs, parent=request.parent,
                provider=request.provider, retain_on_delete=bool(request.retainOnDelete),
                protect=bool(request.protect), urn=response.urn))
        return response

    def ReadResource(self, request):
        # StackReferences are read, not registered.
        response = super().ReadResource(request)
        inputs = _sync_await(_deserialize(request.properties))
        self.run.resources.append(Registered(
            type=request.type, name=request.name, inputs=inputs, parent=request.parent,
            provider=request.provider, retain_on_delete=False, protect=False, urn=response.urn))
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.endswith("::pulumi:pulumi:Stack::" + f"{PROJECT}-{self.run.stack}"):
            self.run.outputs = _sync_await(_deserialize(request.outputs))
        return super().RegisterResourceOutputs(request)


async def _deserialize(struct) -> dict[str, Any]:
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def run_stack(stack: str, *, config: dict[str, Any] | None = None, secret_keys: list[str] | None = None,
              registry_outputs: dict[str, Any] | None = None, program=None,
              run: StackRun | None = None) -> StackRun:
    """Run the program (or `program`) for `stack`; config defaults to the stack's real files.

    Pass `run` to keep what was registered even when the program raises.
    """
    from mlops_platform.program import main

    if config is None:
        config, secret_keys = stack_config(stack)
    if stack != "registry" and registry_outputs is None:
        registry_outputs = run_stack("registry").outputs
    run = run if run is not None else StackRun(stack)
    mocks = RecordingMocks(stack, config, registry_outputs)
    rsettings.ROOT.set(None)
    pulumi.runtime.set_all_config(encode(config), secret_keys or [])
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False,
                             monitor=RecordingMonitor(mocks, run))
    rsettings.ROOT.set(None)
    from pulumi.runtime.stack import run_in_stack

    _sync_await(run_in_stack(program or main))
    return run
