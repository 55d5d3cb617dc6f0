"""Run the Pulumi program for one stack under `pulumi.runtime.set_mocks`.

Config comes from the real `Pulumi.yaml` and `Pulumi.<stack>.yaml`, merged the way the CLI
merges them; a workload stack's StackReference is fed the registry run's exports. The mocks
answer like AWS closely enough for the program (ARNs, ids); nothing leaves the machine.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as rsettings

from mlops_facts import arn as facts_arn
from mlops_facts import partition
from mlops_facts import policy_inputs as facts_policy_inputs
from mlops_platform.offline.stack_files import (  # noqa: F401 - this module's interface
    PROJECT,
    ROOT,
    StackConfig,
    encode,
    read_stack_config,
    secret_stand_in,
    stack_config,
)

STACKS = ("registry", "dev", "prod")


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
    custom: bool = True  # False for a component resource, which only groups others
    ignore_changes: tuple[str, ...] = ()  # inputs whose changes the engine ignores

    def json(self, key: str) -> Any:
        value = self.inputs.get(key)
        return json.loads(value) if isinstance(value, str) else value


# Resources whose inputs carry a policy document, and the input that holds it.
POLICY_INPUTS = {typ: prop for typ, (prop, _kind) in facts_policy_inputs.POLICY_INPUTS.items()}


@dataclass
class StackRun:
    stack: str
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    github_logins: dict[str, str] = field(default_factory=dict)  # GitHub user id -> login, as looked up
    warnings: list[str] = field(default_factory=list)  # what the program logged with pulumi.log.warn, in order

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
        self.github_logins: dict[str, str] = {}
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
        i, t, region, account = args.inputs, args.typ, self.region, self.account
        name = i.get("name", args.name)
        shaped = {  # AWS's ARN formats (partition from the region), where the resource type is part of the ARN
            "aws:s3/bucket:Bucket": ("s3", "", i.get("bucket", args.name)),
            "aws:iam/role:Role": ("iam", account, f"role/{name}"),
            "aws:iam/policy:Policy": ("iam", account, f"policy/{name}"),
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
                ("iam", account, f"oidc-provider/{str(i.get('url', '')).removeprefix('https://')}"),
            "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
                ("sagemaker", account, f"model-package-group/{i.get('modelPackageGroupName')}"),
            "aws:kms/key:Key": ("kms", account, f"key/{args.name}-key-id"),
            "aws:cloudwatch/eventRule:EventRule": ("events", account, f"rule/{name}"),
            "aws:lambda/function:Function": ("lambda", account, f"function:{name}"),
            "aws:dynamodb/table:Table": ("dynamodb", account, f"table/{name}"),
            "aws:cloudwatch/logGroup:LogGroup": ("logs", account, f"log-group:{name}"),
        }
        if t in shaped:
            return facts_arn(shaped[t][0], region, shaped[t][1], shaped[t][2])
        service = t.split(":")[1].split("/")[0]
        return f"arn:{partition(region)}:{service}:{region}:{account}:{name}"

    def call(self, args: pmocks.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account, "arn": facts_arn("iam", self.region, self.account, "root"), "userId": "mock"}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region}
        if args.token == "github:index/getUser:getUser":
            user = github_user(args.args["username"])
            self.github_logins[user["id"]] = user["login"]
            return user
        return {}


def github_user(login: str) -> dict[str, Any]:
    """A stand-in GitHub user: the id is derived from the login, so runs are deterministic."""
    import hashlib

    user_id = int(hashlib.sha256(login.lower().encode()).hexdigest()[:7], 16)
    return {"id": str(user_id), "login": login, "username": login, "nodeId": f"U_{user_id}"}


class _Recorder(logging.Handler):
    """Keeps the program's warnings and errors (the mock engine hands `pulumi.log` to a logger)."""

    def __init__(self, out: list[str]):
        super().__init__(logging.WARNING)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out.append(record.getMessage())


def _logger(run: StackRun) -> logging.Logger:
    """A logger of this run only (not registered with `logging`, so runs never share one)."""
    logger = logging.Logger(f"mlops-platform.offline.{run.stack}", logging.WARNING)
    logger.addHandler(_Recorder(run.warnings))
    return logger


class RecordingMonitor(pmocks.MockMonitor):
    """Keeps what the engine would see: resource options and the stack's outputs."""

    def __init__(self, mocks: RecordingMocks, run: StackRun):
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = _deserialize(request.object)
            self.run.resources.append(Registered(
                type=request.type, name=request.name, inputs=inputs, parent=request.parent,
                provider=request.provider, retain_on_delete=bool(request.retainOnDelete),
                protect=bool(request.protect), urn=response.urn, custom=bool(request.custom),
                ignore_changes=tuple(request.ignoreChanges)))
        return response

    def ReadResource(self, request):
        # StackReferences are read, not registered.
        response = super().ReadResource(request)
        inputs = _deserialize(request.properties)
        self.run.resources.append(Registered(
            type=request.type, name=request.name, inputs=inputs, parent=request.parent,
            provider=request.provider, retain_on_delete=False, protect=False, urn=response.urn))
        return response

    def RegisterResourceOutputs(self, request):
        if request.urn.endswith("::pulumi:pulumi:Stack::" + f"{PROJECT}-{self.run.stack}"):
            self.run.outputs = _deserialize(request.outputs)
        return super().RegisterResourceOutputs(request)


def _deserialize(struct) -> dict[str, Any]:
    _thread_event_loop()  # resource references deserialize into objects that need a loop
    return rpc.deserialize_properties(struct, keep_unknowns=True)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _thread_event_loop() -> asyncio.AbstractEventLoop:
    """The calling thread's event loop, made if it has none: the mock monitor's methods run in
    executor threads, and the program itself runs on the caller's thread."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:  # a thread without a loop
        loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def run_stack(stack: str, *, config: dict[str, Any] | None = None, secret_keys: list[str] | None = None,
              registry_outputs: dict[str, Any] | None = None, program=None,
              run: StackRun | None = None, preview: bool = False) -> StackRun:
    """Run the program (or `program`) for `stack`; config defaults to the stack's real files.

    Pass `run` to keep what was registered even when the program raises; `preview` runs it as
    `pulumi preview` would (`pulumi.runtime.is_dry_run()`).
    """
    from mlops_platform.program import main

    if _loop_running():  # checked before any runtime state is touched
        raise RuntimeError("run_stack drives the program's event loop itself: call it from synchronous code.")
    _thread_event_loop()  # set_mocks registers the root stack on this thread's loop
    if config is None:
        config, secret_keys = stack_config(stack)
    if stack != "registry" and registry_outputs is None:
        registry_outputs = run_stack("registry").outputs
    run = run if run is not None else StackRun(stack)
    mocks = RecordingMocks(stack, config, registry_outputs)
    run.github_logins = mocks.github_logins
    rsettings.ROOT.set(None)
    pulumi.runtime.set_all_config(encode(config), secret_keys or [])
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview,
                             monitor=RecordingMonitor(mocks, run), logger=_logger(run))
    rsettings.ROOT.set(None)
    # Public API only (pulumi 3.272): `run_in_stack` is what the language host runs, driven here on
    # this thread's loop instead of the private `sync_await._sync_await`. Pulumi's mock-testing
    # examples (pulumi/examples testing-unit-py) import the program after `set_mocks` and assert in a
    # `@pulumi.runtime.test`; that registers no Stack resource, so `pulumi.export` would raise there.
    _thread_event_loop().run_until_complete(pulumi.runtime.run_in_stack(program or main))
    return run
