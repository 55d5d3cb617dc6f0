"""Rules for the central model registry and for EventBridge deliveries."""
from __future__ import annotations

from mlops_policies import documents as d
from mlops_policies.model import Resource, StackContext

GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"

APPROVAL_ACTION = "sagemaker:UpdateModelPackage"
# EventBridge's default is 24 h and 185 attempts; past these bounds a person should look.
MAX_RETRY_ATTEMPTS = 10
MAX_EVENT_AGE_SECONDS = 6 * 3600


def check_group_policy(res: Resource, ctx: StackContext) -> list[str]:
    """The group policy grants only the configured dev and prod accounts (both of them) and
    lets only the registry account change approval status."""
    doc = d.parse(res.props.get("resourcePolicy"), f"{res.name}.resourcePolicy")
    workloads = {ctx.accounts["dev"]: "dev", ctx.accounts["prod"]: "prod"}
    registry = ctx.accounts["registry"]
    out: list[str] = []
    granted: set[str] = set()
    deny_ok = False
    for i, stmt in enumerate(d.statements(doc)):
        where = f"{res.name} {d.label(stmt, i)}"
        if d.allows(stmt):
            out += _check_grant(where, stmt, workloads, granted)
        elif stmt.get("Effect") == "Deny" and _keeps_approval_with(stmt, registry):
            deny_ok = True
    missing = sorted(r for a, r in workloads.items() if a not in granted)
    if missing:
        out.append(f"{res.name} does not grant the {missing} account(s), so their pipelines cannot register "
                   "models. Fix: add their role ARNs (config `accounts`) to the register-and-read statement.")
    if not deny_ok:
        out.append(f"{res.name} has no Deny of {APPROVAL_ACTION} for principals outside the registry account "
                   f"{registry}. Fix: add Effect=Deny, Principal={{'AWS': '*'}}, Action={APPROVAL_ACTION}, "
                   f"Condition={{'StringNotEquals': {{'aws:PrincipalAccount': '{registry}'}}}}.")
    return out


def _check_grant(where: str, stmt, workloads: dict[str, str], granted: set[str]) -> list[str]:
    out = []
    principals = d.aws_principals(stmt)
    arns = d.condition_values(stmt, "ArnEquals", "aws:PrincipalArn") or []
    accounts = {d.account_of(p) for p in principals + arns}
    if "*" in principals and not arns:
        out.append(f"{where} grants everyone. Fix: name the dev and prod roles (aws:PrincipalArn) instead of '*'.")
    foreign = sorted(str(a) for a in accounts - set(workloads) if a is not None)
    if foreign:
        out.append(f"{where} grants accounts {foreign} that are not the configured dev/prod accounts "
                   f"{sorted(workloads)}. Fix: grant only the accounts in config `accounts`.")
    granted.update(a for a in accounts if a in workloads)
    approval = [a for a in d.actions(stmt) if d.covers(a, APPROVAL_ACTION)]
    if approval:
        out.append(f"{where} lets workload accounts change approval status ({approval}). "
                   f"Fix: remove {APPROVAL_ACTION}; approval stays with the registry account.")
    return out


def _keeps_approval_with(stmt, registry: str) -> bool:
    if d.aws_principals(stmt) != ["*"] or not any(d.covers(a, APPROVAL_ACTION) for a in d.actions(stmt)):
        return False
    return d.condition_values(stmt, "StringNotEquals", "aws:PrincipalAccount") == [registry]


def check_event_target(res: Resource, ctx: StackContext | None) -> list[str]:
    """Every EventBridge target has a dead-letter queue and a bounded retry policy."""
    out = []
    dlq = res.get("deadLetterConfig", "arn")
    if not isinstance(dlq, str) or not dlq:
        out.append(f"EventBridge target {res.name} has no dead-letter queue, so undeliverable events vanish. "
                   "Fix: set dead_letter_config={'arn': <the stack's encrypted DLQ ARN>}.")
    elif dlq.startswith("arn:") and ":sqs:" not in dlq:
        out.append(f"EventBridge target {res.name} dead-letters to {dlq}, not an SQS queue. Fix: use the stack's DLQ.")
    attempts = res.get("retryPolicy", "maximumRetryAttempts")
    age = res.get("retryPolicy", "maximumEventAgeInSeconds")
    if not _within(attempts, 0, MAX_RETRY_ATTEMPTS) or not _within(age, 60, MAX_EVENT_AGE_SECONDS):
        out.append(f"EventBridge target {res.name} has retry policy attempts={attempts!r} age={age!r}; "
                   f"unset means AWS's 185 attempts over 24 h. Fix: set retry_policy with maximum_retry_attempts "
                   f"<= {MAX_RETRY_ATTEMPTS} and maximum_event_age_in_seconds between 60 and {MAX_EVENT_AGE_SECONDS}.")
    return out


def _within(value, low: int, high: int) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


REGISTER_ACTION = "sagemaker:CreateModelPackage"
PENDING = "PendingManualApproval"


def check_pending_registration(res: Resource, ctx: StackContext) -> list[str]:
    """Another account may register versions into the group only `PendingManualApproval`.

    A version registered `Approved` is served without a review; the registry cannot trust a
    workload account's own policies, so the group's policy must condition every grant of
    CreateModelPackage to another account (or to everyone) on sagemaker:ModelApprovalStatus.
    """
    doc = d.parse(res.props.get("resourcePolicy"), f"{res.name}.resourcePolicy")
    registry = ctx.accounts["registry"]
    out = []
    for i, stmt in enumerate(d.statements(doc)):
        if not d.allows(stmt) or not any(d.covers(a, REGISTER_ACTION) for a in d.actions(stmt)):
            continue
        principals = d.aws_principals(stmt) + (d.condition_values(stmt, "ArnEquals", "aws:PrincipalArn") or [])
        foreign = sorted({d.account_of(p) or "*" for p in principals} - {registry})
        if not foreign:
            continue
        status = d.condition_values(stmt, "StringEquals", "sagemaker:ModelApprovalStatus")
        if status != [PENDING]:
            out.append(f"{res.name} {d.label(stmt, i)} lets {foreign} register versions in any approval status "
                       f"(sagemaker:ModelApprovalStatus {status or 'unconditioned'}): a version registered Approved "
                       f"is served without a review. Fix: add Condition StringEquals "
                       f"{{'sagemaker:ModelApprovalStatus': '{PENDING}'}} to the grant.")
    return out
