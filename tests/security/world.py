"""The accounts the stacks describe, as the evaluator sees them: roles with their policies and
boundaries, and every resource policy, keyed by the resource it protects.

Built from the program's real documents (a mocked `StackRun`) or from the documents as they
were before issue 10 (`before_issue_10.json`, extracted from the golden dump), so the same
attack can be shown refused today and allowed before.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_facts.regions import partition
from tests.security.simulator import (
    ContextValue,
    Decision,
    Document,
    Request,
    Result,
    Verdict,
    Via,
    judge,
)

BEFORE = Path(__file__).with_name("before_issue_10.json")
PROJECT = "mlops-platform"
# Everything a compromised account's administrator may give its own role.
ALLOW_EVERYTHING: Document = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass
class Role:
    arn: str
    trust: Document
    boundary: str | None
    policies: list[tuple[str, Document]] = field(default_factory=list)


@dataclass
class World:
    roles: dict[str, Role] = field(default_factory=dict)
    managed: dict[str, Document] = field(default_factory=dict)
    resource_policies: dict[str, tuple[str, Document]] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # bucket ARN -> owning account
    tags: dict[str, dict[str, str]] = field(default_factory=dict)

    # ------------------------------------------------------------ building

    @classmethod
    def of(cls, runs: Iterable[Any]) -> World:
        """The live program: `StackRun`s of the offline runner."""
        world = cls()
        for run in runs:
            tags = run.one("pulumi:providers:aws", "aws").json("defaultTags")["tags"]
            rows = [(r.type, r.name, r.inputs) for r in run.resources]
            world.add_stack(run.outputs["accountId"], run.outputs["region"], rows, tags)
        return world

    @classmethod
    def before(cls, stacks: Iterable[str] = ("registry", "dev", "prod")) -> World:
        """The documents as they were before issue 10 (see before_issue_10.json)."""
        data = json.loads(BEFORE.read_text())["stacks"]
        world = cls()
        for stack in stacks:
            s = data[stack]
            rows = [(r["type"], r["name"], r["inputs"]) for r in s["resources"]]
            world.add_stack(s["account"], s["region"], rows, {"project": PROJECT, "stack": stack})
        return world

    def add_stack(self, account: str, region: str, rows: list[tuple[str, str, Mapping[str, Any]]],
                  tags: Mapping[str, str]) -> None:
        part = partition(region)
        for typ, name, inputs in rows:
            doc = lambda key: _document(inputs[key])  # noqa: E731, B023  (used within this iteration)
            if typ == "aws:iam/role:Role":
                arn = f"arn:{part}:iam::{account}:role/{inputs['name']}"
                role = self.roles.setdefault(arn, Role(arn, {}, None))
                role.trust, role.boundary = doc("assumeRolePolicy"), inputs.get("permissionsBoundary")
                self.resource_policies[arn] = (f"{inputs['name']}.trust", role.trust)
            elif typ == "aws:iam/policy:Policy":
                self.managed[f"arn:{part}:iam::{account}:policy/{inputs['name']}"] = doc("policy")
            elif typ == "aws:kms/key:Key":
                arn = f"arn:{part}:kms:{region}:{account}:key/{name}-key-id"
                self.resource_policies[arn] = (f"key {name}", doc("policy"))
                self.tags[arn] = dict(tags)
            elif typ == "aws:s3/bucketPolicy:BucketPolicy":
                arn = _bucket_of(doc("policy"))
                self.resource_policies[arn], self.accounts[arn] = (f"bucket {name}", doc("policy")), account
                self.tags[arn] = dict(tags)
            elif typ == "aws:sns/topicPolicy:TopicPolicy":
                self.resource_policies[inputs["arn"]] = (f"topic {name}", doc("policy"))
            elif typ == "aws:sqs/queuePolicy:QueuePolicy":
                queue = inputs["queueUrl"].rstrip("/").rsplit("/", 1)[-1]
                self.resource_policies[f"arn:{part}:sqs:{region}:{account}:{queue}"] = (f"queue {name}", doc("policy"))
            elif typ == "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy":
                group = f"arn:{part}:sagemaker:{region}:{account}:model-package-group/{inputs['modelPackageGroupName']}"
                self.resource_policies[group] = (f"group {name}", doc("resourcePolicy"))
        for typ, _name, inputs in rows:
            if typ == "aws:iam/rolePolicy:RolePolicy":
                arn = f"arn:{part}:iam::{account}:role/{inputs['role']}"
                self.roles[arn].policies.append((f"{inputs['role']}.inline", _document(inputs["policy"])))

    def with_role(self, arn: str, *, policies: list[Document], boundary: str | None,
                  trust: Document | None = None) -> World:
        """A copy in which `arn` holds exactly these policies (an attacker's own role, or a
        role an account administrator rewrote)."""
        out = copy.deepcopy(self)
        out.roles[arn] = Role(arn, trust or {"Statement": []}, boundary,
                              [(f"{arn.rsplit('/', 1)[-1]}.given[{i}]", p) for i, p in enumerate(policies)])
        return out

    def with_resource(self, arn: str, *, account: str, policy: Document | None = None,
                      tags: Mapping[str, str] | None = None) -> World:
        """A copy that knows a resource the stacks do not create (someone else's key, bucket)."""
        out = copy.deepcopy(self)
        if policy is not None:
            out.resource_policies[arn] = (f"foreign {arn}", policy)
        out.accounts[arn] = account
        out.tags[arn] = dict(tags or {})
        return out

    # ------------------------------------------------------------ deciding

    def owner(self, resource: str) -> str:
        """The ARN of the resource whose policy governs `resource` (a bucket for its objects,
        a group for its versions), or `resource` itself."""
        if resource.startswith("arn:") and ":s3:::" in resource:
            return resource.split("/", 1)[0]
        if ":model-package/" in resource:
            group = resource.split(":model-package/", 1)[1].split("/", 1)[0]
            return resource.split(":model-package/", 1)[0] + f":model-package-group/{group}"
        return resource

    def account_of(self, resource: str) -> str | None:
        owner = self.owner(resource)
        if owner in self.accounts:
            return self.accounts[owner]
        parts = resource.split(":")
        return parts[4] if len(parts) > 4 and parts[4] else None

    def context(self, request: Request) -> dict[str, ContextValue]:
        """The request's context plus what AWS adds: principal, TLS, resource account and tags."""
        out: dict[str, ContextValue] = {"aws:SecureTransport": "true"}
        if request.principal.kind == "role":
            out["aws:PrincipalArn"] = request.principal.id
            out["aws:PrincipalAccount"] = request.principal.account or ""
        if (account := self.account_of(request.resource)) is not None:
            out["aws:ResourceAccount"] = account
        for key, value in self.tags.get(self.owner(request.resource), {}).items():
            out[f"aws:ResourceTag/{key}"] = value
        out.update(request.context)
        return out

    def decide(self, request: Request) -> Result:
        ctx = self.context(request)
        owner = self.owner(request.resource)
        rp = self.resource_policies.get(owner)
        if owner in self.roles and not request.action.lower().startswith("sts:assumerole"):
            rp = None  # a trust policy governs only assuming the role
        rp_docs = [rp] if rp else []
        if request.principal.kind != "role":
            v = judge(rp_docs, request, ctx, resource_policy=True)
            return _result(v.denies, v.allows, "its resource policy")
        role = self.roles.get(request.principal.id)
        if role is None:
            raise KeyError(f"{request.principal.id} is not a role of this world; add it with with_role()")
        identity = judge(role.policies, request, ctx)
        bound = judge([(f"boundary {role.boundary}", self.managed[role.boundary])], request, ctx) \
            if role.boundary else None
        by_account = judge(rp_docs, request, ctx, resource_policy=True, via=Via.ACCOUNT)
        direct = judge(rp_docs, request, ctx, resource_policy=True, via=Via.DIRECT)
        denies = identity.denies + (bound.denies if bound else []) + by_account.denies
        if denies:
            return Result(Decision.EXPLICIT_DENY, f"denied by {denies}")
        if bound is not None and not bound.allows:
            return Result(Decision.IMPLICIT_DENY, f"the boundary {role.boundary} allows nothing of it")
        return self._combine(request, rp, identity, by_account, direct)

    def _combine(self, request: Request, rp: Any, identity: Verdict, by_account: Verdict,
                 direct: Verdict) -> Result:
        is_key = ":kms:" in request.resource and ":key/" in request.resource
        if is_key:
            if rp is None:
                return Result(Decision.IMPLICIT_DENY, "a key is reached only through its key policy (none known)")
            if direct.allows:
                return Result(Decision.ALLOW, f"the key policy names the role: {direct.allows}")
            if by_account.allows and identity.allows:
                return Result(Decision.ALLOW, f"key policy {by_account.allows} delegates to {identity.allows}")
            return Result(Decision.IMPLICIT_DENY, "the key policy and the role's policies do not both allow it")
        same = self.account_of(request.resource) in (None, request.principal.account)
        if same and (identity.allows or direct.allows):
            return Result(Decision.ALLOW, f"same account: {identity.allows or direct.allows}")
        if not same and identity.allows and by_account.allows:
            return Result(Decision.ALLOW, f"cross-account: {identity.allows} and {by_account.allows}")
        missing = "the resource policy grants" if identity.allows else "the role's policies allow"
        return Result(Decision.IMPLICIT_DENY, f"{missing} nothing of it")


def _result(denies: list[str], allows: list[str], what: str) -> Result:
    if denies:
        return Result(Decision.EXPLICIT_DENY, f"denied by {denies}")
    if allows:
        return Result(Decision.ALLOW, f"allowed by {allows}")
    return Result(Decision.IMPLICIT_DENY, f"{what} allows nothing of it")


def _document(value: Any) -> Document:
    return json.loads(value) if isinstance(value, str) else value


def _bucket_of(policy: Document) -> str:
    """A bucket policy names its bucket: the one resource without an object path."""
    for stmt in policy["Statement"]:
        for resource in stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]:
            if ":s3:::" in resource and "/" not in resource:
                return resource
    raise ValueError("a bucket policy that names no bucket")
