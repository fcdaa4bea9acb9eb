"""Regression tests for unsound proofs found in review, and for exact
verdicts on small hand-written pairs."""

import json

import pytest

from verifier.check import check_no_new_access
from verifier.encode.principal import parse_principal
from verifier.evaluate import evaluate
from verifier.policy.parse import parse_policy_text
from verifier.solver import Verdict


def policy(*statements: dict) -> object:
    return parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(**fields: object) -> dict:
    return {"Effect": "Allow", **fields}


def assert_refuted_and_replays(old, new) -> None:
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.REFUTED
    assert evaluate(new, result.counterexample).allowed
    assert not evaluate(old, result.counterexample).allowed


def test_backslash_in_resource_is_literal():
    old = policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/\\u{41}"))
    new = policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/A"))
    assert_refuted_and_replays(old, new)


def test_multivalued_key_as_variable_needs_two_values():
    old = policy(allow(Action="s3:GetObject", Resource="*", Condition={"StringEquals": {"aws:username": "${aws:TagKeys}"}}))
    new = policy(
        allow(
            Action="s3:GetObject",
            Resource="*",
            Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}, "StringEquals": {"aws:username": "a"}},
        )
    )
    assert_refuted_and_replays(old, new)


def test_moved_deny_with_condition_still_proves():
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    grant = allow(Action="s3:GetObject", Resource="*")
    old = policy(grant, deny)
    new = policy(deny, grant)
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.PROVED
    assert result.stats.solver_calls == 0


@pytest.mark.parametrize(
    ("old_action", "new_action", "expected"),
    [
        ("s3:Get*", "s3:GetObject", Verdict.PROVED),
        ("s3:GetObject", "s3:Get*", Verdict.REFUTED),
        ("s3:Get*", "s3:G*", Verdict.REFUTED),
        ("s3:*Object", "s3:GetObject", Verdict.PROVED),
        ("S3:GETOBJECT", "s3:getobject", Verdict.PROVED),
    ],
    ids=["literal-in-wildcard", "wildcard-widens", "shorter-prefix", "suffix-wildcard", "case-insensitive"],
)
def test_action_wildcards(old_action, new_action, expected):
    old = policy(allow(Action=old_action, Resource="*"))
    new = policy(allow(Action=new_action, Resource="*"))
    assert check_no_new_access(old, new, timeout=30).verdict is expected


def test_removed_deny_is_new_access():
    grant = allow(Action="s3:*", Resource="*")
    deny = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    assert_refuted_and_replays(policy(grant, deny), policy(grant))


def test_negated_condition_with_absent_key_is_new_access():
    old = policy(allow(Action="s3:GetObject", Resource="*", Condition={"StringEquals": {"aws:PrincipalTag/team": "a"}}))
    new = policy(allow(Action="s3:GetObject", Resource="*", Condition={"StringNotEquals": {"aws:PrincipalTag/team": ["b", "c"]}}))
    assert_refuted_and_replays(old, new)


def test_arn_like_compares_components_separately():
    # `*` in the region component must not swallow the account's colon.
    pattern = "arn:aws:acm-pca:*:*:template/EndEntityCertificate/V*"
    old = policy(allow(Action="acm-pca:IssueCertificate", Resource="*", Condition={"ArnLike": {"acm-pca:TemplateArn": pattern}}))
    new = policy(allow(Action="acm-pca:IssueCertificate", Resource="*", Condition={"StringLike": {"acm-pca:TemplateArn": pattern}}))
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.REFUTED
    value = result.counterexample.context["acm-pca:TemplateArn"]
    assert value.count(":") > 5
    assert evaluate(new, result.counterexample).allowed
    assert not evaluate(old, result.counterexample).allowed


def test_empty_variable_value_counts_as_absent():
    old = policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/home/${aws:username}/*"))
    new = policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/home/*"))
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.REFUTED
    request = result.counterexample
    assert evaluate(new, request).allowed
    assert not evaluate(old, request).allowed
    empty = type(request)(action="s3:GetObject", resource="arn:aws:s3:::b/home//x", context={"aws:username": ""})
    assert not evaluate(old, empty).allowed


def test_documented_multivalued_service_key_is_a_set():
    # events:detail-type is ArrayOfString in the service reference, so a
    # request may carry two values, which an unqualified StringEquals rejects.
    old = policy(allow(Action="events:PutRule", Resource="*", Condition={"StringEquals": {"events:detail-type": "a"}}))
    new = policy(allow(Action="events:PutRule", Resource="*", Condition={"ForAnyValue:StringEquals": {"events:detail-type": "a"}}))
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.REFUTED
    assert len(result.counterexample.context["events:detail-type"]) >= 2


def test_documented_numeric_service_key_always_parses():
    # s3:max-keys is Numeric in the service reference: every value parses,
    # so NumericLessThan 10 or NumericGreaterThanEquals 10 covers all present values.
    old = policy(
        allow(Action="s3:ListBucket", Resource="*", Condition={"NumericLessThan": {"s3:max-keys": "10"}}),
        allow(Action="s3:ListBucket", Resource="*", Condition={"NumericGreaterThanEquals": {"s3:max-keys": "10"}}),
    )
    new = policy(allow(Action="s3:ListBucket", Resource="*", Condition={"Null": {"s3:max-keys": "false"}}))
    assert check_no_new_access(old, new, timeout=30).verdict is Verdict.PROVED


def test_trust_policy_new_account_refuted_with_principal():
    role = "arn:aws:iam::111122223333:role/deploy"
    old = policy({"Effect": "Allow", "Principal": {"AWS": role}, "Action": "sts:AssumeRole"})
    new = policy({"Effect": "Allow", "Principal": {"AWS": [role, "444455556666"]}, "Action": "sts:AssumeRole"})
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.REFUTED
    assert ":444455556666:" in result.counterexample.principal
    assert evaluate(new, result.counterexample).allowed
    assert not evaluate(old, result.counterexample).allowed
    assert check_no_new_access(new, old, timeout=30).verdict is Verdict.PROVED


def test_role_principal_covers_sessions_not_in_not_principal():
    role = "arn:aws:iam::111122223333:role/deploy"
    old = policy({"Effect": "Allow", "Principal": {"AWS": role}, "Action": "s3:GetObject", "Resource": "*"})
    new = policy({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/x"}, "Action": "s3:GetObject", "Resource": "*"})
    assert_refuted_and_replays(old, new)
    session_grant = policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/deploy/s1"}, "Action": "s3:GetObject", "Resource": "*"}
    )
    assert check_no_new_access(old, session_grant, timeout=30).verdict is Verdict.PROVED


def test_service_and_federated_principals_differ():
    old = policy({"Effect": "Allow", "Principal": {"Service": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"})
    new = policy({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"})
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.REFUTED
    assert result.counterexample.principal == "federated:cognito-identity.amazonaws.com"


def test_principal_with_empty_partition_names_no_caller():
    # No AWS principal has an empty partition, so the new name grants nothing.
    old = policy({"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:GetObject", "Resource": "*"})
    new = policy({"Effect": "Allow", "Principal": {"AWS": "arn::iam::123456789012:user/x"}, "Action": "s3:GetObject", "Resource": "*"})
    assert parse_principal("arn::iam::123456789012:user/x") is None
    assert check_no_new_access(old, new, timeout=30).verdict is Verdict.PROVED


def test_narrowed_deny_gets_a_note():
    allow = {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme/*"}
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    deny_all = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::acme/*", "Condition": insecure}
    deny_own = {**deny_all, "Principal": {"AWS": "111122223333"}}
    result = check_no_new_access(policy(allow, deny_all), policy(allow, deny_own), timeout=30)
    assert result.verdict is Verdict.PROVED
    assert len(result.notes) == 1
    assert result.notes[0].startswith("the new version denies less: Statement[1] at line 1 of the old version denied `s3:")
    unchanged = check_no_new_access(policy(allow, deny_all), policy(deny_all, allow), timeout=30)
    assert unchanged.notes == []


def test_counterexample_resource_is_never_empty():
    old = policy({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})
    new = policy({"Effect": "Allow", "Action": "s3:G*", "Resource": "*"})
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.REFUTED
    assert result.counterexample.resource != ""


def test_principal_that_no_caller_has_gets_a_note():
    # A 14-digit account ID names nobody, so the wider new version grants
    # nothing; the note keeps that proof from reading as a real one.
    bad_root = "arn:aws:iam::12345667789012:root"
    old = policy({"Effect": "Allow", "Principal": {"AWS": bad_root}, "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"})
    new = policy({"Effect": "Allow", "Principal": {"AWS": bad_root}, "Action": "s3:*", "Resource": "arn:aws:s3:::b"})
    result = check_no_new_access(old, new, timeout=30)
    assert result.verdict is Verdict.PROVED
    assert result.notes == [f"Statement[0].Principal.AWS: `{bad_root}` names no principal, so it matches no caller"]


@pytest.mark.parametrize("length", [600, 5_000])
def test_long_resource_arn_is_checked(length):
    # The test of whether one pattern covers another recursed once per
    # character and overflowed Python's stack at about 500 characters.
    old = policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/" + "a" * length + "*"))
    same = policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/" + "a" * length + "*"))
    new = policy(allow(Action="s3:GetObject", Resource="arn:aws:s3:::b/" + "a" * (length - 1) + "b*"))

    assert check_no_new_access(old, same).verdict is Verdict.PROVED
    assert_refuted_and_replays(old, new)


def test_account_id_equals_root_arn():
    # AWS stores a bare account ID in Principal as the account's root ARN.
    # In a policy whose ARNs all name the `aws` partition, the two forms
    # must prove equal both ways instead of differing by a made-up partition.
    resource = "arn:aws:s3:::b/*"
    by_arn = policy(allow(Principal={"AWS": "arn:aws:iam::555566667777:root"}, Action="s3:GetObject", Resource=resource))
    by_id = policy(allow(Principal={"AWS": "555566667777"}, Action="s3:GetObject", Resource=resource))
    anywhere = policy(allow(Principal={"AWS": "555566667777"}, Action="s3:GetObject", Resource="arn:*:s3:::b/*"))

    assert check_no_new_access(by_arn, by_id).verdict is Verdict.PROVED
    assert check_no_new_access(by_id, by_arn).verdict is Verdict.PROVED
    # A wildcard partition leaves every partition open, so the ID form then
    # also covers callers that the aws root ARN does not.
    assert_refuted_and_replays(by_arn, anywhere)
