"""Every IAM policy document the program produces, linted with parliament.

Findings above LOW fail unless suppressed below with a written reason. A suppression names
the issue and the statement it applies to, so a new finding elsewhere still fails.
"""
from __future__ import annotations

import json

import parliament
import pytest

from mlops_policies import documents as d

FAILING = ("MEDIUM", "HIGH", "CRITICAL")
ALIAS_CALLS = "kms:CreateAlias,kms:DeleteAlias,kms:UpdateAlias"
# (issue, kind of document or "*", statement Sid or "*", action or "*") -> reason
SUPPRESSED: dict[tuple[str, str, str, str], str] = {
    ("MALFORMED", d.TRUST, "*", "*"):
        "trust policies have no Resource element by design; parliament lints identity policies",
    ("UNKNOWN_FEDERATION_SOURCE", d.TRUST, "*", "*"):
        "parliament knows only Cognito, SAML and a few web identity providers; an IAM OIDC provider of the "
        "account (arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com) is the form AWS "
        "documents for GitHub Actions, and iam-oidc-trust-pinned checks its aud and sub",
    ("RESOURCE_MISMATCH", d.IDENTITY, "ManageStackAliases", ALIAS_CALLS):
        "alias calls are authorised on the alias and on its key: the deploy role's policy grants the alias "
        "side (its name prefix) and the key's own policy the key side (it names the deploy role), so no key "
        "of someone else can be aliased; parliament wants both in one statement",
    ("RESOURCE_MISMATCH", d.IDENTITY, "StackKeys", ALIAS_CALLS):
        "a boundary caps the alias side of alias calls by name prefix (StackResources) and the key side by the "
        "stack's resource tags (StackKeys): a tag condition cannot apply to an alias, so they are two statements",
}


def _findings(resources):
    for res in resources:
        for where, kind, doc in d.documents(res):
            policy = parliament.analyze_policy_string(json.dumps(doc), ignore_private_auditors=True)
            for finding in policy.findings:
                finding = parliament.enhance_finding(finding)
                if finding.severity in FAILING:
                    yield where, kind, doc, finding


def _suppression(kind, doc, finding):
    """The reason a finding is accepted: each of its entries (one per action) is covered by a
    suppression below, or comes from a read prefix the document itself uses (see _from_read_prefix)."""
    detail = finding.detail if isinstance(finding.detail, list) else []
    entries = [x for x in detail if isinstance(x, dict) and x.get("action")]
    if not entries:
        return _suppressed(kind, doc, finding.issue, {"*"})
    reasons = {_suppressed(kind, doc, finding.issue, {e["action"]}, {x["action"] for x in entries})
               or _from_read_prefix(doc, finding.issue, e["action"]) for e in entries}
    return None if None in reasons else "; ".join(sorted(reasons))


def _suppressed(kind, doc, issue, actions, finding_actions=None):
    sids = {s.get("Sid") for s in d.statements(doc)}
    for (issue_, k, sid, action), reason in SUPPRESSED.items():
        listed = set(action.split(","))
        if issue_ == issue and k in (kind, "*") and (sid == "*" or sid in sids) \
                and (action == "*" or actions <= listed and (finding_actions is None or listed <= finding_actions)):
            return reason
    return None


READ_PREFIX_REASON = (
    "parliament expands a permissions boundary's read prefix (e.g. sagemaker:Describe*) to every action it "
    "covers, most on resource types the stack never has; the boundary only caps what the roles' own policies "
    "name one by one, and iam-managed-policy-wildcards allows only data-free read prefixes there")


def _from_read_prefix(doc, issue, action):
    """RESOURCE_MISMATCH of an action that only a read prefix of the document brings in."""
    from mlops_policies.iam import configuration_read_prefix

    prefixes = [a for s in d.statements(doc) if d.allows(s) for a in d.actions(s) if configuration_read_prefix(a)]
    named = {a for s in d.statements(doc) if d.allows(s) for a in d.actions(s) if not d.has_wildcard(a)}
    if issue == "RESOURCE_MISMATCH" and action not in named and any(d.covers(p, action) for p in prefixes):
        return READ_PREFIX_REASON
    return None


@pytest.mark.parametrize("name", ["registry", "dev", "prod"])
def test_policy_documents_have_no_unsuppressed_findings_above_low(stack_views, name):
    resources, _ = stack_views[name]
    assert sum(1 for r in resources for _ in d.documents(r)) >= 10  # the lint sees the stack's documents
    unsuppressed = [f"{where}: {f.issue} {f.severity} {f.detail}" for where, kind, doc, f in _findings(resources)
                    if _suppression(kind, doc, f) is None]
    assert not unsuppressed, "parliament findings (fix the document or suppress with a reason):\n" + "\n".join(unsuppressed)


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_documents_of_stacks_that_serve_have_no_unsuppressed_findings_either(served_views, name):
    resources, _ = served_views[name]
    unsuppressed = [f"{where}: {f.issue} {f.severity} {f.detail}" for where, kind, doc, f in _findings(resources)
                    if _suppression(kind, doc, f) is None]
    assert not unsuppressed, "\n".join(unsuppressed)


def test_parliament_still_fails_a_bad_document():
    wildcard = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:sqs:eu-west-1:123456789012:q"}]}
    from tests.policy.fixtures import res
    findings = list(_findings([res("aws:iam/rolePolicy:RolePolicy", policy=json.dumps(wildcard))]))
    assert [f.issue for *_, f in findings] == ["RESOURCE_MISMATCH"]
    assert _suppression(d.IDENTITY, wildcard, findings[0][3]) is None


def test_every_suppression_has_a_reason():
    assert all(len(reason) > 40 for reason in SUPPRESSED.values())
