"""The evaluator's own specification: each rule of AWS's evaluation logic it relies on, on
hand-written documents, so the attack tests rest on something tested."""
from __future__ import annotations

import pytest

from tests.security.simulator import (
    Decision,
    Principal,
    Request,
    Unsupported,
    action_match,
    arn_match,
    condition_holds,
    glob_match,
)
from tests.security.world import Role, World

A, B = "111111111111", "222222222222"
ROLE_A = f"arn:aws:iam::{A}:role/worker"
ROLE_B = f"arn:aws:iam::{B}:role/outsider"
BUCKET = "arn:aws:s3:::bucket-a"
KEY = f"arn:aws:kms:eu-west-1:{A}:key/k1"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def world(*, a_policies=(), b_policies=(), boundary=None, bucket_policy=None, key_policy=None) -> World:
    w = World()
    w.roles[ROLE_A] = Role(ROLE_A, doc(), "arn:aws:iam::111111111111:policy/b" if boundary else None,
                           [(f"a{i}", p) for i, p in enumerate(a_policies)])
    w.roles[ROLE_B] = Role(ROLE_B, doc(), None, [(f"b{i}", p) for i, p in enumerate(b_policies)])
    if boundary:
        w.managed["arn:aws:iam::111111111111:policy/b"] = boundary
    if bucket_policy:
        w.resource_policies[BUCKET] = ("bucket", bucket_policy)
    w.accounts[BUCKET] = A
    if key_policy:
        w.resource_policies[KEY] = ("key", key_policy)
    return w


def ask(w, principal, action, resource, **context):
    return w.decide(Request(Principal.role(principal) if ":role/" in principal else principal,
                            action, resource, context)).decision


# ------------------------------------------------------------------ matching

@pytest.mark.parametrize("pattern, value, expected", [
    ("models/*", "models/dev/x", True), ("models/?ev/*", "models/dev/x", True),
    ("models/dev/*", "models/prod/x", False), ("a.b", "axb", False), ("[ab]", "a", False), ("[ab]", "[ab]", True),
])
def test_glob_knows_only_star_and_question_mark(pattern, value, expected):
    assert glob_match(pattern, value) is expected


def test_arn_patterns_compare_field_by_field():
    assert arn_match("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b")
    assert arn_match("arn:aws:*:eu-west-1:111111111111:*", "arn:aws:sqs:eu-west-1:111111111111:q")
    assert not arn_match("arn:aws:*:eu-west-1:111111111111:*", "arn:aws:sqs:eu-west-1:999999999999:q")
    assert not arn_match("arn:aws:sqs:*:111111111111:q", "arn:aws:sqs:eu-west-1:222222222222:q")
    logs = "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x-"
    assert arn_match(f"{logs}*", f"{logs}f:*")


def test_actions_match_case_insensitively():
    assert action_match("s3:Get*", "s3:getobject") and not action_match("s3:Get*", "s3:PutObject")


# ------------------------------------------------------------------ conditions

@pytest.mark.parametrize("operator, policy, context, expected", [
    ("StringEquals", "a", {"k": "a"}, True), ("StringEquals", ["x", "a"], {"k": "a"}, True),
    ("StringEquals", "A", {"k": "a"}, False), ("StringEquals", "a", {}, False),
    ("StringEqualsIgnoreCase", "A", {"k": "a"}, True),
    ("StringNotEquals", "a", {"k": "b"}, True), ("StringNotEquals", ["a", "b"], {"k": "b"}, False),
    ("StringNotEquals", "a", {}, True),  # a negated operator holds when the key is absent
    ("StringNotEqualsIgnoreCase", "A", {"k": "a"}, False),
    ("StringLike", "models/dev/*", {"k": "models/dev/1"}, True), ("StringLike", "m*", {}, False),
    ("StringNotLike", "models/*", {"k": "code/x"}, True), ("StringNotLike", "models/*", {}, True),
    ("ArnLike", "arn:aws:iam::1:role/x-*", {"k": "arn:aws:iam::1:role/x-y"}, True),
    ("ArnEquals", "arn:aws:iam::1:role/x", {"k": "arn:aws:iam::1:role/y"}, False),
    ("ArnNotEquals", "arn:aws:iam::1:role/x", {"k": "arn:aws:iam::1:role/y"}, True),
    ("ArnNotLike", "arn:aws:iam::1:role/*", {}, True),
    ("Bool", "false", {"k": "false"}, True), ("Bool", "false", {"k": "true"}, False), ("Bool", "false", {}, False),
    ("Null", "true", {}, True), ("Null", "true", {"k": "v"}, False), ("Null", "false", {"k": "v"}, True),
    ("StringEqualsIfExists", "a", {}, True), ("StringEqualsIfExists", "a", {"k": "b"}, False),
    ("StringNotEqualsIfExists", "a", {"k": "a"}, False),
    ("ForAnyValue:StringEquals", ["a"], {"k": ["b", "a"]}, True), ("ForAnyValue:StringEquals", ["a"], {}, False),
    ("ForAllValues:StringEquals", ["a", "b"], {"k": ["b", "a"]}, True),
    ("ForAllValues:StringEquals", ["a"], {"k": ["a", "c"]}, False),
    ("ForAllValues:StringEquals", ["a"], {}, True),  # vacuously true without the key
    ("ForAnyValue:StringNotLike", ["a*"], {"k": ["ab", "cd"]}, True),
])
def test_condition_operators(operator, policy, context, expected):
    assert condition_holds(operator, "k", policy, context) is expected


def test_context_keys_are_case_insensitive():
    assert condition_holds("StringEquals", "aws:PrincipalAccount", "1", {"AWS:principalaccount": "1"})


@pytest.mark.parametrize("operator, policy, context", [
    ("NumericLessThan", "3", {"k": "1"}), ("DateGreaterThan", "2020", {"k": "2021"}),
    ("StringEquals", "${aws:username}", {"k": "x"}), ("StringEquals", "a", {"k": ["a", "b"]}),
    ("Sometimes:StringEquals", "a", {"k": ["a"]}),
])
def test_what_it_does_not_model_is_refused_loudly(operator, policy, context):
    with pytest.raises(Unsupported):
        condition_holds(operator, "k", policy, context)


# ------------------------------------------------------------------ decisions

def test_identity_policy_allows_within_its_own_account():
    w = world(a_policies=[doc(allow("s3:GetObject", f"{BUCKET}/*"))])
    assert ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.ALLOW
    assert ask(w, ROLE_A, "s3:PutObject", f"{BUCKET}/x") is Decision.IMPLICIT_DENY


def test_not_action_and_not_resource():
    w = world(a_policies=[doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": f"{BUCKET}/secret/*"})])
    assert ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.ALLOW
    assert ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/secret/x") is Decision.IMPLICIT_DENY
    assert ask(w, ROLE_A, "iam:PassRole", ROLE_A) is Decision.IMPLICIT_DENY


def test_an_explicit_deny_anywhere_wins():
    everything = doc(allow("*"))
    assert ask(world(a_policies=[everything, doc(deny("s3:*", f"{BUCKET}/*"))]), ROLE_A, "s3:GetObject",
               f"{BUCKET}/x") is Decision.EXPLICIT_DENY
    assert ask(world(a_policies=[everything], boundary=doc(allow("*"), deny("s3:GetObject"))), ROLE_A,
               "s3:GetObject", f"{BUCKET}/x") is Decision.EXPLICIT_DENY
    bucket = doc(deny("s3:*", [BUCKET, f"{BUCKET}/*"], Principal="*",
                      Condition={"Bool": {"aws:SecureTransport": "false"}}))
    w = world(a_policies=[everything], bucket_policy=bucket)
    assert ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/x", **{"aws:SecureTransport": "false"}) is Decision.EXPLICIT_DENY
    assert ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.ALLOW


def test_the_boundary_caps_identity_policies_and_grants_nothing_itself():
    w = world(a_policies=[doc(allow("*"))], boundary=doc(allow("s3:GetObject", f"{BUCKET}/*")))
    assert ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.ALLOW
    assert ask(w, ROLE_A, "iam:PutRolePolicy", ROLE_A) is Decision.IMPLICIT_DENY
    assert ask(world(boundary=doc(allow("*"))), ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.IMPLICIT_DENY


def test_a_same_account_resource_policy_naming_the_role_is_enough_but_bounded():
    grant = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE_A}))
    assert ask(world(bucket_policy=grant), ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.ALLOW
    w = world(bucket_policy=grant, boundary=doc(allow("s3:PutObject")))
    assert ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.IMPLICIT_DENY
    # naming the account only delegates to the role's own policies
    to_account = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{A}:root"}))
    assert ask(world(bucket_policy=to_account), ROLE_A, "s3:GetObject", f"{BUCKET}/x") is Decision.IMPLICIT_DENY


def test_across_accounts_both_sides_must_allow():
    granted = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{B}:root"},
                        Condition={"ArnEquals": {"aws:PrincipalArn": ROLE_B}}))
    wants = doc(allow("s3:GetObject", f"{BUCKET}/*"))
    assert ask(world(b_policies=[wants], bucket_policy=granted), ROLE_B, "s3:GetObject", f"{BUCKET}/x") \
        is Decision.ALLOW
    assert ask(world(b_policies=[], bucket_policy=granted), ROLE_B, "s3:GetObject", f"{BUCKET}/x") \
        is Decision.IMPLICIT_DENY
    assert ask(world(b_policies=[wants]), ROLE_B, "s3:GetObject", f"{BUCKET}/x") is Decision.IMPLICIT_DENY
    other_role = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{B}:root"},
                           Condition={"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{B}:role/someone-else"}}))
    assert ask(world(b_policies=[wants], bucket_policy=other_role), ROLE_B, "s3:GetObject", f"{BUCKET}/x") \
        is Decision.IMPLICIT_DENY


def test_a_key_is_reached_only_through_its_key_policy():
    wants = doc(allow("kms:Decrypt", KEY))
    assert ask(world(a_policies=[wants]), ROLE_A, "kms:Decrypt", KEY) is Decision.IMPLICIT_DENY
    root = doc(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{A}:root"}))
    assert ask(world(a_policies=[wants], key_policy=root), ROLE_A, "kms:Decrypt", KEY) is Decision.ALLOW
    assert ask(world(key_policy=root), ROLE_A, "kms:Decrypt", KEY) is Decision.IMPLICIT_DENY
    via_s3 = doc(allow("kms:Decrypt", "*", Principal={"AWS": f"arn:aws:iam::{B}:root"},
                       Condition={"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}))
    w = world(b_policies=[doc(allow("kms:Decrypt", KEY))], key_policy=via_s3)
    assert ask(w, ROLE_B, "kms:Decrypt", KEY, **{"kms:ViaService": "s3.eu-west-1.amazonaws.com"}) is Decision.ALLOW
    assert ask(w, ROLE_B, "kms:Decrypt", KEY) is Decision.IMPLICIT_DENY


def test_services_and_web_identities_need_only_the_resource_policy():
    trust = doc({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/idp"},
                 "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {"idp:sub": "me"}}})
    w = world()
    w.resource_policies[ROLE_A] = ("trust", trust)
    idp = Principal.federated("arn:aws:iam::1:oidc-provider/idp")
    assert w.decide(Request(idp, "sts:AssumeRoleWithWebIdentity", ROLE_A, {"idp:sub": "me"})).allowed
    assert not w.decide(Request(idp, "sts:AssumeRoleWithWebIdentity", ROLE_A, {"idp:sub": "you"})).allowed
    # the trust policy is not a grant for anything but assuming the role
    assert ask(w, ROLE_B, "iam:PutRolePolicy", ROLE_A) is Decision.IMPLICIT_DENY
    topic = "arn:aws:sns:eu-west-1:111111111111:t"
    events = {"Service": "events.amazonaws.com"}
    w.resource_policies[topic] = ("topic", doc(allow("sns:Publish", topic, Principal=events)))
    assert w.decide(Request(Principal.service("events.amazonaws.com"), "sns:Publish", topic)).allowed
    assert not w.decide(Request(Principal.service("lambda.amazonaws.com"), "sns:Publish", topic)).allowed


def test_resource_tags_come_from_the_world_unless_the_request_says_otherwise():
    w = world(a_policies=[doc(allow("kms:PutKeyPolicy", f"arn:aws:kms:eu-west-1:{A}:key/*",
                                    Condition={"StringEquals": {"aws:ResourceTag/stack": "dev"}}))],
              key_policy=doc(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{A}:root"})))
    assert ask(w, ROLE_A, "kms:PutKeyPolicy", KEY) is Decision.IMPLICIT_DENY
    w.tags[KEY] = {"stack": "dev"}
    assert ask(w, ROLE_A, "kms:PutKeyPolicy", KEY) is Decision.ALLOW


def test_not_principal_is_refused_loudly():
    w = world(bucket_policy=doc({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE_A}, "Action": "s3:*",
                                 "Resource": "*"}))
    with pytest.raises(Unsupported):
        ask(w, ROLE_A, "s3:GetObject", f"{BUCKET}/x")
