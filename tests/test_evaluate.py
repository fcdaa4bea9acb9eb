"""Truth tables for the concrete evaluator, one table per rule or operator family.

Each row is (test id, policy snippet, request data, expected result). Condition
rows test the key `test:key`, absent from the request when the value is ABSENT.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from verifier.evaluate import (
    Request,
    action_matches,
    arn_matches,
    ascii_lower,
    condition_matches,
    evaluate,
    statement_matches,
)
from verifier.policy.document import Statement
from verifier.policy.parse import parse_policy_text
from verifier.policy.pattern import parse_pattern

KEY = "test:key"
ABSENT = object()
VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
KELVIN_SIGN = "\u212a"  # str.lower() folds it to "k"; ascii_lower() does not.


def table(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Split rows whose first field is the test id into pytest arguments."""
    return {"argvalues": [row[1:] for row in rows], "ids": [row[0] for row in rows]}


def parse_statement(elements: dict[str, Any], version: str | None = VERSION_2012) -> Statement:
    """Parse one Allow statement made of exactly `elements`."""
    document: dict[str, Any] = {"Statement": [{"Effect": "Allow", **elements}]}
    if version is not None:
        document["Version"] = version
    [parsed] = parse_policy_text(json.dumps(document)).statements
    return parsed


def make_statement(elements: dict[str, Any], version: str | None = VERSION_2012) -> Statement:
    """Parse one Allow statement whose Action and Resource default to `*`."""
    return parse_statement({"Action": "*", "Resource": "*", **elements}, version)


def check_condition(
    operator: str,
    policy_values: Any,
    request_value: Any,
    context: dict[str, Any] | None = None,
    version: str | None = VERSION_2012,
) -> bool:
    """Evaluate `{operator: {KEY: policy_values}}` with KEY set to `request_value`."""
    statement = make_statement({"Condition": {operator: {KEY: policy_values}}}, version)
    [condition] = statement.conditions
    full_context = dict(context or {})
    if request_value is not ABSENT:
        full_context[KEY] = request_value
    request = Request(action="s3:GetObject", resource="arn:aws:s3:::bucket", context=full_context)
    return condition_matches(statement, condition, request)


CONDITION_PARAMETERS = ("operator", "policy_values", "request_value", "expected")


# --- String and Binary -------------------------------------------------------

STRING_ROWS = [
    ("equals-exact", "StringEquals", "abc", "abc", True),
    ("equals-case-differs", "StringEquals", "abc", "ABC", False),
    ("equals-star-is-literal", "StringEquals", "a*", "abc", False),
    ("equals-star-matches-star", "StringEquals", "a*", "a*", True),
    ("equals-question-is-literal", "StringEquals", "a?c", "abc", False),
    ("equals-any-of-several", "StringEquals", ["x", "abc"], "abc", True),
    ("equals-none-of-several", "StringEquals", ["x", "y"], "abc", False),
    ("equals-empty-request", "StringEquals", "abc", "", False),
    ("not-equals-none-match", "StringNotEquals", ["x", "y"], "z", True),
    ("not-equals-second-matches", "StringNotEquals", ["x", "y"], "y", False),
    ("not-equals-first-matches", "StringNotEquals", ["x", "y"], "x", False),
    ("ignore-case-mixed", "StringEqualsIgnoreCase", "AbC", "aBc", True),
    ("ignore-case-different", "StringEqualsIgnoreCase", "abc", "abd", False),
    ("ignore-case-non-ascii-kept", "StringEqualsIgnoreCase", "\u00e9", "\u00c9", False),
    ("ignore-case-kelvin-sign", "StringEqualsIgnoreCase", "k", KELVIN_SIGN, False),
    ("ignore-case-star-literal", "StringEqualsIgnoreCase", "A*", "abc", False),
    ("not-ignore-case-matches", "StringNotEqualsIgnoreCase", ["abc", "def"], "ABC", False),
    ("not-ignore-case-none", "StringNotEqualsIgnoreCase", ["abc", "def"], "xyz", True),
    ("like-star-middle", "StringLike", "a*c", "abbbc", True),
    ("like-star-empty", "StringLike", "a*c", "ac", True),
    ("like-question-one", "StringLike", "a?c", "abc", True),
    ("like-question-not-zero", "StringLike", "a?c", "ac", False),
    ("like-question-not-two", "StringLike", "a?c", "abbc", False),
    ("like-case-sensitive", "StringLike", "A*", "abc", False),
    ("like-whole-string", "StringLike", "b*", "abc", False),
    ("like-star-crosses-colon", "StringLike", "arn:*", "arn:aws:s3:::b/k", True),
    ("like-star-crosses-newline", "StringLike", "a*", "a\nb", True),
    ("like-dot-is-literal", "StringLike", "a.c", "abc", False),
    ("like-any-of-several", "StringLike", ["x*", "a*"], "abc", True),
    ("not-like-one-matches", "StringNotLike", ["a*", "b*"], "bx", False),
    ("not-like-none-match", "StringNotLike", ["a*", "b*"], "cx", True),
    ("binary-equal", "BinaryEquals", "QUJD", "QUJD", True),
    ("binary-case-differs", "BinaryEquals", "QUJD", "qujd", False),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(STRING_ROWS))
def test_string_operators(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


# --- Numeric and Date --------------------------------------------------------

NUMERIC_ROWS = [
    ("equals-same", "NumericEquals", "10", "10", True),
    ("equals-trailing-zero", "NumericEquals", "10", "10.0", True),
    ("equals-exponent", "NumericEquals", "10", "1e1", True),
    ("equals-fraction-differs", "NumericEquals", "10", "10.5", False),
    ("equals-any-of-several", "NumericEquals", ["1", "2"], "2", True),
    ("equals-unparsable", "NumericEquals", "10", "ten", False),
    ("not-equals-none-match", "NumericNotEquals", ["1", "2"], "3", True),
    ("not-equals-one-matches", "NumericNotEquals", ["1", "2"], "2", False),
    ("not-equals-unparsable", "NumericNotEquals", "10", "ten", True),
    ("less-just-below", "NumericLessThan", "10", "9.999", True),
    ("less-equal", "NumericLessThan", "10", "10", False),
    ("less-just-above", "NumericLessThan", "10", "10.001", False),
    ("less-negative", "NumericLessThan", "0", "-1", True),
    ("less-equals-equal", "NumericLessThanEquals", "10", "10", True),
    ("less-equals-above", "NumericLessThanEquals", "10", "10.001", False),
    ("greater-equal", "NumericGreaterThan", "10", "10", False),
    ("greater-just-above", "NumericGreaterThan", "10", "10.001", True),
    ("greater-equals-equal", "NumericGreaterThanEquals", "10", "10", True),
    ("greater-equals-below", "NumericGreaterThanEquals", "10", "9.999", False),
    ("greater-unparsable", "NumericGreaterThan", "10", "", False),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(NUMERIC_ROWS))
def test_numeric_operators(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


NEW_YEAR = "2024-01-01T00:00:00Z"
NEW_YEAR_EPOCH = "1704067200"

DATE_ROWS = [
    ("equals-iso", "DateEquals", NEW_YEAR, NEW_YEAR, True),
    ("equals-epoch-vs-iso", "DateEquals", NEW_YEAR, NEW_YEAR_EPOCH, True),
    ("equals-iso-vs-epoch", "DateEquals", NEW_YEAR_EPOCH, NEW_YEAR, True),
    ("equals-utc-offset", "DateEquals", NEW_YEAR, "2024-01-01T01:00:00+01:00", True),
    ("equals-one-second-later", "DateEquals", NEW_YEAR, "1704067201", False),
    ("equals-unparsable", "DateEquals", NEW_YEAR, "yesterday", False),
    ("not-equals-one-matches", "DateNotEquals", [NEW_YEAR, "1704067201"], NEW_YEAR_EPOCH, False),
    ("not-equals-none-match", "DateNotEquals", [NEW_YEAR, "1704067201"], "1704067202", True),
    ("not-equals-unparsable", "DateNotEquals", NEW_YEAR, "yesterday", True),
    ("less-just-before", "DateLessThan", NEW_YEAR, "2023-12-31T23:59:59Z", True),
    ("less-equal", "DateLessThan", NEW_YEAR, NEW_YEAR, False),
    ("less-just-after", "DateLessThan", NEW_YEAR, "2024-01-01T00:00:01Z", False),
    ("less-equals-equal-epoch", "DateLessThanEquals", NEW_YEAR, NEW_YEAR_EPOCH, True),
    ("less-equals-after", "DateLessThanEquals", NEW_YEAR, "1704067201", False),
    ("greater-just-after-epoch", "DateGreaterThan", NEW_YEAR, "1704067201", True),
    ("greater-equal", "DateGreaterThan", NEW_YEAR, NEW_YEAR_EPOCH, False),
    ("greater-equals-equal", "DateGreaterThanEquals", NEW_YEAR_EPOCH, NEW_YEAR, True),
    ("greater-equals-before", "DateGreaterThanEquals", NEW_YEAR, "1704067199", False),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(DATE_ROWS))
def test_date_operators(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


# --- Bool, IP address and ARN ------------------------------------------------

BOOL_ROWS = [
    ("true-true", "Bool", "true", "true", True),
    ("true-upper-request", "Bool", "true", "TRUE", True),
    ("mixed-case-both", "Bool", "True", "tRuE", True),
    ("json-boolean", "Bool", True, "true", True),
    ("false-vs-true", "Bool", "false", "true", False),
    ("false-false", "Bool", "false", "False", True),
    ("unparsable-request", "Bool", "true", "yes", False),
    ("one-of-both", "Bool", ["true", "false"], "false", True),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(BOOL_ROWS))
def test_bool_operator(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


IP_ROWS = [
    ("v4-first-address", "IpAddress", "203.0.113.0/24", "203.0.113.0", True),
    ("v4-last-address", "IpAddress", "203.0.113.0/24", "203.0.113.255", True),
    ("v4-one-past", "IpAddress", "203.0.113.0/24", "203.0.114.0", False),
    ("v4-one-before", "IpAddress", "203.0.113.0/24", "203.0.112.255", False),
    ("v4-host-bits-ignored", "IpAddress", "10.0.0.1/8", "10.255.255.255", True),
    ("v4-single-address", "IpAddress", "203.0.113.7", "203.0.113.7", True),
    ("v4-single-address-next", "IpAddress", "203.0.113.7", "203.0.113.8", False),
    ("v6-first-address", "IpAddress", "2001:db8::/64", "2001:db8::", True),
    ("v6-last-address", "IpAddress", "2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff", True),
    ("v6-one-past", "IpAddress", "2001:db8::/64", "2001:db8:0:1::", False),
    ("v6-uppercase-policy", "IpAddress", "2001:DB8::/64", "2001:db8::1", True),
    ("v4-address-v6-network", "IpAddress", "::/0", "10.0.0.1", False),
    ("v6-address-v4-network", "IpAddress", "0.0.0.0/0", "::1", False),
    ("v4-mapped-v6-address", "IpAddress", "10.0.0.0/8", "::ffff:10.0.0.1", False),
    ("unparsable-request", "IpAddress", "0.0.0.0/0", "not-an-ip", False),
    ("cidr-as-request", "IpAddress", "10.0.0.0/8", "10.0.0.0/16", False),
    ("not-ip-one-matches", "NotIpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "192.168.1.1", False),
    ("not-ip-none-match", "NotIpAddress", ["10.0.0.0/8", "192.168.0.0/16"], "172.16.0.1", True),
    ("not-ip-unparsable", "NotIpAddress", "10.0.0.0/8", "not-an-ip", True),
    ("not-ip-other-family", "NotIpAddress", "10.0.0.0/8", "::1", True),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(IP_ROWS))
def test_ip_operators(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


ROLE_ADMIN = "arn:aws:iam::123456789012:role/admin"
# ArnLike compares the six ARN components one by one, so the first `*` below
# stays in the region component; StringLike lets it match
# `us-east-2:999999999999:store/abc`.
ARN_FIELDS_PATTERN = "arn:aws:someservice:*:111122223333:finance/*"
ARN_FIELDS_VALUE = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt"
# The same holds for a `*` inside a component.
ARN_INNER_STAR_PATTERN = "arn:aws:someservice:*-2:111122223333:finance/*"
ARN_INNER_STAR_VALUE = "arn:aws:someservice:us-east-2:999999999999:store/abc-2:111122223333:finance/doc.txt"

ARN_CONDITION_ROWS = [
    ("like-account-star", "ArnLike", "arn:aws:iam::*:role/admin", ROLE_ADMIN, True),
    ("equals-takes-wildcards", "ArnEquals", "arn:aws:iam::*:role/*", ROLE_ADMIN, True),
    ("like-star-stays-in-component", "ArnLike", ARN_FIELDS_PATTERN, ARN_FIELDS_VALUE, False),
    ("like-star-alone-matches-any", "ArnLike", "*", "not an arn", True),
    ("like-resource-star-crosses-colons", "ArnLike", "arn:aws:logs:*:*:log-group:*", "arn:aws:logs:r:1:log-group:a:log-stream:b", True),
    ("like-short-pattern-no-match", "ArnLike", "arn:aws:s3:*", "arn:aws:s3:::bucket", False),
    ("string-like-crosses-fields", "StringLike", ARN_FIELDS_PATTERN, ARN_FIELDS_VALUE, True),
    ("like-inner-star-stays-in-field", "ArnLike", ARN_INNER_STAR_PATTERN, ARN_INNER_STAR_VALUE, False),
    ("string-like-inner-star-crosses-fields", "StringLike", ARN_INNER_STAR_PATTERN, ARN_INNER_STAR_VALUE, True),
    ("like-case-sensitive", "ArnLike", "arn:aws:iam::*:role/Admin", ROLE_ADMIN, False),
    ("like-unparsable-request", "ArnLike", "arn:aws:iam::*:role/*", "not an arn", False),
    ("not-like-one-matches", "ArnNotLike", ["arn:aws:s3:::a*", "arn:aws:s3:::b*"], "arn:aws:s3:::bx", False),
    ("not-like-none-match", "ArnNotLike", ["arn:aws:s3:::a*", "arn:aws:s3:::b*"], "arn:aws:s3:::cx", True),
    ("not-equals-matches", "ArnNotEquals", "arn:aws:iam::*:role/admin", ROLE_ADMIN, False),
    ("not-equals-differs", "ArnNotEquals", "arn:aws:iam::*:role/other", ROLE_ADMIN, True),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(ARN_CONDITION_ROWS))
def test_arn_operators(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


# --- Missing keys, IfExists, set qualifiers and Null -------------------------

KEY_PRESENCE_ROWS = [
    ("positive-absent", "StringEquals", "a", ABSENT, False),
    ("negated-absent", "StringNotEquals", "a", ABSENT, True),
    ("negated-like-absent", "StringNotLike", "a*", ABSENT, True),
    ("negated-ip-absent", "NotIpAddress", "10.0.0.0/8", ABSENT, True),
    ("numeric-absent", "NumericLessThan", "10", ABSENT, False),
    ("empty-tuple-is-absent", "StringEquals", "a", (), False),
    ("negated-empty-tuple", "StringNotEquals", "a", (), True),
    ("if-exists-absent", "StringEqualsIfExists", "a", ABSENT, True),
    ("if-exists-empty-tuple", "StringEqualsIfExists", "a", (), True),
    ("negated-if-exists-absent", "StringNotEqualsIfExists", "a", ABSENT, True),
    ("numeric-if-exists-absent", "NumericLessThanIfExists", "10", ABSENT, True),
    ("if-exists-present-match", "StringEqualsIfExists", "a", "a", True),
    ("if-exists-present-mismatch", "StringEqualsIfExists", "a", "b", False),
    ("negated-if-exists-present", "StringNotEqualsIfExists", "a", "a", False),
    ("single-value-tuple", "StringEquals", "a", ("a",), True),
    ("multivalued-unqualified", "StringEquals", "a", ("a", "a"), False),
    ("multivalued-negated", "StringNotEquals", "a", ("b", "c"), False),
    ("multivalued-if-exists", "StringEqualsIfExists", "a", ("a", "b"), False),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(KEY_PRESENCE_ROWS))
def test_key_presence(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


SET_ROWS = [
    ("all-absent", "ForAllValues:StringEquals", ["a", "b"], ABSENT, True),
    ("all-if-exists-absent", "ForAllValues:StringEqualsIfExists", ["a", "b"], ABSENT, True),
    ("all-empty-tuple", "ForAllValues:StringEquals", ["a", "b"], (), True),
    ("all-one-value", "ForAllValues:StringEquals", ["a", "b"], ("a",), True),
    ("all-plain-string", "ForAllValues:StringEquals", ["a", "b"], "a", True),
    ("all-every-value-listed", "ForAllValues:StringEquals", ["a", "b"], ("a", "b"), True),
    ("all-one-value-unlisted", "ForAllValues:StringEquals", ["a", "b"], ("a", "c"), False),
    ("all-plain-string-unlisted", "ForAllValues:StringEquals", ["a", "b"], "c", False),
    ("all-like-prefix", "ForAllValues:StringLike", "Created*", ("CreatedBy", "CreatedAt"), True),
    ("all-negated-none-listed", "ForAllValues:StringNotEquals", ["a", "b"], ("c", "d"), True),
    ("all-negated-one-listed", "ForAllValues:StringNotEquals", ["a", "b"], ("c", "a"), False),
    ("all-negated-absent", "ForAllValues:StringNotEquals", ["a", "b"], ABSENT, True),
    ("any-absent", "ForAnyValue:StringEquals", ["a", "b"], ABSENT, False),
    ("any-if-exists-absent", "ForAnyValue:StringEqualsIfExists", ["a", "b"], ABSENT, True),
    ("any-empty-tuple", "ForAnyValue:StringEquals", ["a", "b"], (), False),
    ("any-negated-absent", "ForAnyValue:StringNotEquals", ["a", "b"], ABSENT, False),
    ("any-one-value-listed", "ForAnyValue:StringEquals", ["a", "b"], ("a",), True),
    ("any-second-value-listed", "ForAnyValue:StringEquals", ["a", "b"], ("c", "b"), True),
    ("any-none-listed", "ForAnyValue:StringEquals", ["a", "b"], ("c", "d"), False),
    ("any-plain-string", "ForAnyValue:StringEquals", ["a", "b"], "b", True),
    ("any-negated-one-unlisted", "ForAnyValue:StringNotEquals", ["a", "b"], ("a", "c"), True),
    ("any-negated-all-listed", "ForAnyValue:StringNotEquals", ["a", "b"], ("a", "b"), False),
    ("any-numeric", "ForAnyValue:NumericGreaterThan", "5", ("1", "9"), True),
    ("all-numeric", "ForAllValues:NumericGreaterThan", "5", ("1", "9"), False),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(SET_ROWS))
def test_set_qualifiers(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


NULL_ROWS = [
    ("true-absent", "Null", "true", ABSENT, True),
    ("true-present", "Null", "true", "x", False),
    ("true-empty-tuple", "Null", "true", (), True),
    ("true-empty-string", "Null", "true", "", False),
    ("false-absent", "Null", "false", ABSENT, False),
    ("false-present", "Null", "false", "x", True),
    ("false-multivalued", "Null", "false", ("x", "y"), True),
    ("json-boolean-true", "Null", True, ABSENT, True),
    ("both-absent", "Null", ["true", "false"], ABSENT, True),
    ("both-present", "Null", ["true", "false"], "x", True),
]


@pytest.mark.parametrize(CONDITION_PARAMETERS, **table(NULL_ROWS))
def test_null_operator(operator, policy_values, request_value, expected):
    assert check_condition(operator, policy_values, request_value) is expected


def test_condition_key_case_insensitive():
    statement = make_statement({"Condition": {"StringEquals": {"AWS:UserName": "alice"}}})
    request = Request("s3:GetObject", "arn:aws:s3:::b", context={"aws:username": "alice"})
    assert statement_matches(statement, request) is True


def test_condition_keys_combine_with_and():
    conditions = {"StringEquals": {"test:a": "1", "test:b": "2"}}
    statement = make_statement({"Condition": conditions})
    request = Request("s3:GetObject", "arn:aws:s3:::b", context={"test:a": "1", "test:b": "3"})
    assert statement_matches(statement, request) is False


def test_request_rejects_keys_differing_in_case():
    with pytest.raises(ValueError, match="name the same condition key"):
        Request("s3:GetObject", "arn:aws:s3:::b", context={"aws:username": "a", "AWS:UserName": "b"})


# --- Policy variables in conditions ------------------------------------------

USER = "aws:username"

VARIABLE_ROWS = [
    ("equals-present", "StringEquals", "${aws:username}", "alice", {USER: "alice"}, True),
    ("equals-other-user", "StringEquals", "${aws:username}", "bob", {USER: "alice"}, False),
    ("key-name-case", "StringEquals", "${AWS:UserName}", "alice", {"Aws:USERNAME": "alice"}, True),
    ("one-value-tuple", "StringEquals", "${aws:username}", "alice", {USER: ("alice",)}, True),
    ("absent-no-default", "StringEquals", "${aws:username}", "", {}, False),
    ("absent-literal-text", "StringEquals", "${aws:username}", "${aws:username}", {}, False),
    ("absent-negated", "StringNotEquals", "${aws:username}", "anyone", {}, True),
    ("absent-like", "StringLike", "*${aws:username}*", "anything", {}, False),
    ("absent-default", "StringEquals", "${aws:username, 'anonymous'}", "anonymous", {}, True),
    ("present-ignores-default", "StringEquals", "${aws:username, 'anonymous'}", "anonymous", {USER: "bob"}, False),
    ("multivalued-default", "StringEquals", "${aws:username, 'x'}", "x", {USER: ("a", "b")}, True),
    ("multivalued-no-default", "StringLike", "${aws:username}*", "a", {USER: ("a", "b")}, False),
    ("like-value-star-literal", "StringLike", "home/${aws:username}/*", "home/abc/x", {USER: "a*"}, False),
    ("like-value-star-itself", "StringLike", "home/${aws:username}/*", "home/a*/x", {USER: "a*"}, True),
    ("ignore-case-substituted", "StringEqualsIgnoreCase", "${aws:username}", "ALICE", {USER: "Alice"}, True),
    ("escape-star-literal", "StringLike", "a${*}", "a*", {}, True),
    ("escape-star-not-wildcard", "StringLike", "a${*}", "ab", {}, False),
    ("escape-question-literal", "StringLike", "a${?}", "a?", {}, True),
    ("escape-question-not-wildcard", "StringLike", "a${?}", "ab", {}, False),
    ("escape-dollar", "StringEquals", "${$}{x}", "${x}", {}, True),
    ("bool-substituted", "Bool", "${test:flag}", "TRUE", {"test:flag": "true"}, True),
    ("bool-not-boolean", "Bool", "${test:flag}", "true", {"test:flag": "yes"}, False),
    ("bool-unresolved", "Bool", "${test:flag}", "true", {}, False),
    ("arn-substituted", "ArnLike", "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::1:user/alice", {USER: "alice"}, True),
    ("arn-unresolved-negated", "ArnNotLike", "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::1:user/a", {}, True),
    ("binary-not-substituted", "BinaryEquals", "${aws:username}", "QUJD", {USER: "QUJD"}, False),
    ("binary-literal-text", "BinaryEquals", "${aws:username}", "${aws:username}", {USER: "QUJD"}, True),
]


@pytest.mark.parametrize(
    ("operator", "policy_values", "request_value", "context", "expected"), **table(VARIABLE_ROWS)
)
def test_condition_variables(operator, policy_values, request_value, context, expected):
    assert check_condition(operator, policy_values, request_value, context) is expected


VERSION_ROWS = [
    ("2008-equals-not-substituted", VERSION_2008, "${aws:username}", "alice", False),
    ("2008-equals-literal", VERSION_2008, "${aws:username}", "${aws:username}", True),
    ("2008-escape-is-glob", VERSION_2008, "${*}", "${anything}", True),
    ("no-version-literal", None, "${aws:username}", "${aws:username}", True),
    ("2012-substituted", VERSION_2012, "${aws:username}", "alice", True),
    ("2012-escape-is-literal", VERSION_2012, "${*}", "${anything}", False),
]


@pytest.mark.parametrize(("version", "policy_value", "request_value", "expected"), **table(VERSION_ROWS))
def test_version_controls_variables(version, policy_value, request_value, expected):
    result = check_condition("StringLike", policy_value, request_value, {USER: "alice"}, version)
    assert result is expected


# --- Action ------------------------------------------------------------------

ACTION_ROWS = [
    ("star-matches-all", "*", "s3:GetObject", True),
    ("exact", "s3:GetObject", "s3:GetObject", True),
    ("case-insensitive", "s3:GetObject", "S3:getobject", True),
    ("upper-pattern", "S3:GETOBJECT", "s3:GetObject", True),
    ("kelvin-sign-not-k", "kms:Decrypt", KELVIN_SIGN + "ms:Decrypt", False),
    ("prefix-star", "s3:Get*", "s3:GetObjectAcl", True),
    ("prefix-star-empty", "s3:Get*", "s3:Get", True),
    ("prefix-star-mismatch", "s3:Get*", "s3:PutObject", False),
    ("service-star", "s3:*", "ec2:RunInstances", False),
    ("inner-stars", "iam:*AccessKey*", "iam:CreateAccessKey", True),
    ("question-one-char", "s3:Get?bject", "s3:GetObject", True),
    ("question-not-two", "s3:Get?bject", "s3:GetObbject", False),
    ("question-not-zero", "s3:Get?bject", "s3:Getbject", False),
    ("dot-is-literal", "s3:Get.bject", "s3:GetObject", False),
    ("whole-name", "s3:Get", "s3:GetObject", False),
]


@pytest.mark.parametrize(("pattern", "action", "expected"), **table(ACTION_ROWS))
def test_action_matches(pattern, action, expected):
    assert action_matches(pattern, action) is expected


ASCII_LOWER_ROWS = [
    ("ascii-letters", "MiXeD-123", "mixed-123"),
    ("latin-1-kept", "\u00c4\u00d6", "\u00c4\u00d6"),
    ("kelvin-sign-kept", KELVIN_SIGN, KELVIN_SIGN),
    ("dotted-capital-i-kept", "\u0130", "\u0130"),
]


@pytest.mark.parametrize(("text", "expected"), **table(ASCII_LOWER_ROWS))
def test_ascii_lower(text, expected):
    assert ascii_lower(text) == expected


ACTION_ELEMENT_ROWS = [
    ("list-any", {"Action": ["ec2:*", "s3:Get*"]}, "s3:GetObject", True),
    ("list-none", {"Action": ["ec2:*", "s3:Put*"]}, "s3:GetObject", False),
    ("not-action-other-service", {"NotAction": "s3:*"}, "ec2:RunInstances", True),
    ("not-action-listed", {"NotAction": "s3:*"}, "S3:GetObject", False),
    ("not-action-list-one-listed", {"NotAction": ["ec2:*", "s3:Get*"]}, "s3:GetObject", False),
    ("not-action-list-none", {"NotAction": ["ec2:*", "s3:Put*"]}, "s3:GetObject", True),
]


@pytest.mark.parametrize(("elements", "action", "expected"), **table(ACTION_ELEMENT_ROWS))
def test_action_element(elements, action, expected):
    statement = parse_statement({"Resource": "*", **elements})
    assert statement_matches(statement, Request(action, "arn:aws:s3:::b")) is expected


# --- Resource and ARN matching -----------------------------------------------

ARN_ROWS = [
    ("star-any-value", "*", "anything:at:all", True),
    ("star-empty-value", "*", "", True),
    ("exact", "arn:aws:s3:::bucket", "arn:aws:s3:::bucket", True),
    ("whole-value", "arn:aws:s3:::b", "arn:aws:s3:::bb", False),
    ("case-sensitive", "arn:aws:s3:::Bucket", "arn:aws:s3:::bucket", False),
    ("dot-is-literal", "arn:aws:s3:::b.c", "arn:aws:s3:::bxc", False),
    ("resource-star-crosses-colon", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),
    ("resource-star-crosses-slash", "arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1/2/test/3/o.jpg", True),
    ("resource-star-crosses-newline", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x\ny", True),
    ("resource-question-not-colon", "arn:aws:s3:::b?", "arn:aws:s3:::b:", False),
    ("account-star-crosses-colon", "arn:aws:iam::*:role/x", "arn:aws:iam::123:456:role/x", True),
    ("account-star-matches", "arn:aws:iam::*:role/x", "arn:aws:iam::123456789012:role/x", True),
    ("service-star-crosses-colon", "arn:aws:*:us-east-1:1:thing", "arn:aws:s3:x:us-east-1:1:thing", True),
    ("service-star-matches", "arn:aws:*:us-east-1:1:thing", "arn:aws:s3:us-east-1:1:thing", True),
    ("region-star-crosses-colon", "arn:aws:ec2:*:1:instance/*", "arn:aws:ec2:us-east-1:x:1:instance/i", True),
    ("inner-star-stays-in-segment", "arn:aws:lambda:r:a:function:my*fn", "arn:aws:lambda:r:a:function:my:fn", False),
    ("inner-star-within-segment", "arn:aws:lambda:r:a:function:my*fn", "arn:aws:lambda:r:a:function:my-fn", True),
    ("star-before-slash-stays", "arn:aws:s3:::*/x", "arn:aws:s3:::a:b/x", False),
    ("star-before-slash-matches", "arn:aws:s3:::*/x", "arn:aws:s3:::a/b/x", True),
    ("service-question-no-colon", "arn:aws:s3?::b", "arn:aws:s3:::b", False),
    ("service-question-one-char", "arn:aws:s?:::b", "arn:aws:s3:::b", True),
    ("trailing-star-expands", "arn:aws:s3:*", "arn:aws:s3:::bucket/key", True),
    ("trailing-star-after-account", "arn:aws:iam::*", "arn:aws:iam::1:user/a:b", True),
    ("star-before-colon-crosses-colon", "arn:*:s3", "arn:aws:x:s3", True),
    ("inner-star-one-field", "arn:*:s3", "arn:aws:s3", True),
    ("trailing-question-stays", "arn:aws:s3:?", "arn:aws:s3::", False),
    ("trailing-question-one-char", "arn:aws:s3:?", "arn:aws:s3:x", True),
]


@pytest.mark.parametrize(("pattern_text", "value", "expected"), **table(ARN_ROWS))
def test_arn_matches(pattern_text, value, expected):
    pattern = parse_pattern(pattern_text, variables=True, wildcards=True)
    assert arn_matches(pattern, value, {}) is expected


# The variable below supplies three colons. Only the two literal colons count,
# so the `*` stays within one field.
COLON_VARIABLE_PATTERN = "arn:${test:middle}:*/x"

ARN_VARIABLE_ROWS = [
    ("substituted", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/f", {USER: "alice"}, True),
    ("other-user", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/f", {USER: "alice"}, False),
    ("unresolved", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/f", {}, False),
    ("default", "arn:aws:s3:::home/${aws:username, 'guest'}/*", "arn:aws:s3:::home/guest/f", {}, True),
    ("value-star-literal", "arn:aws:s3:::home/${aws:username}", "arn:aws:s3:::home/ab", {USER: "a*"}, False),
    ("variable-colons-ignored", COLON_VARIABLE_PATTERN, "arn:aws:s3:::a:b/x", {"test:middle": "aws:s3::"}, False),
    ("variable-colons-field", COLON_VARIABLE_PATTERN, "arn:aws:s3:::ab/x", {"test:middle": "aws:s3::"}, True),
]


@pytest.mark.parametrize(("pattern_text", "value", "context", "expected"), **table(ARN_VARIABLE_ROWS))
def test_arn_variables(pattern_text, value, context, expected):
    pattern = parse_pattern(pattern_text, variables=True, wildcards=True)
    assert arn_matches(pattern, value, context) is expected


BUCKET_HOME = "arn:aws:s3:::home/${aws:username}"

RESOURCE_ELEMENT_ROWS = [
    ("resource-list-any", {"Resource": ["arn:aws:s3:::a", "arn:aws:s3:::b/*"]}, "arn:aws:s3:::b/k", {}, VERSION_2012, True),
    ("resource-list-none", {"Resource": ["arn:aws:s3:::a", "arn:aws:s3:::b"]}, "arn:aws:s3:::c", {}, VERSION_2012, False),
    ("not-resource-other", {"NotResource": "arn:aws:s3:::secret/*"}, "arn:aws:s3:::public/x", {}, VERSION_2012, True),
    ("not-resource-listed", {"NotResource": "arn:aws:s3:::secret/*"}, "arn:aws:s3:::secret/x", {}, VERSION_2012, False),
    ("not-resource-list-one", {"NotResource": ["arn:aws:s3:::a", "arn:aws:s3:::b"]}, "arn:aws:s3:::b", {}, VERSION_2012, False),
    ("not-resource-unresolved", {"NotResource": BUCKET_HOME}, BUCKET_HOME, {}, VERSION_2012, True),
    ("variable-2012", {"Resource": BUCKET_HOME}, "arn:aws:s3:::home/alice", {USER: "alice"}, VERSION_2012, True),
    ("variable-2008-literal", {"Resource": BUCKET_HOME}, BUCKET_HOME, {USER: "alice"}, VERSION_2008, True),
    ("variable-2008-not-substituted", {"Resource": BUCKET_HOME}, "arn:aws:s3:::home/alice", {USER: "alice"}, VERSION_2008, False),
    ("no-resource-with-principal", {"Principal": "*"}, "arn:aws:s3:::anything", {}, VERSION_2012, True),
]


@pytest.mark.parametrize(
    ("elements", "resource", "context", "version", "expected"), **table(RESOURCE_ELEMENT_ROWS)
)
def test_resource_element(elements, resource, context, version, expected):
    statement = parse_statement({"Action": "*", **elements}, version)
    request = Request("s3:GetObject", resource, context=context)
    assert statement_matches(statement, request) is expected


# --- Principal ---------------------------------------------------------------

ROLE = "arn:aws:iam::123456789012:role/r"
ACCOUNT_ROOT = "arn:aws:iam::123456789012:root"

SESSION = "arn:aws:sts::123456789012:assumed-role/deploy/alice"
IAM_USER = "arn:aws:iam::123456789012:user/ops/bob"
PRINCIPAL_ROWS = [
    ("no-element-any", {}, "arn:aws:iam::1:user/a", True),
    ("no-element-none", {}, None, True),
    ("star-any", {"Principal": "*"}, ROLE, True),
    ("star-none", {"Principal": "*"}, None, True),
    ("star-anonymous", {"Principal": "*"}, "anonymous", True),
    ("aws-star-none", {"Principal": {"AWS": "*"}}, None, True),
    ("aws-star-in-list", {"Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}}, IAM_USER, True),
    ("account-id-vs-root-arn", {"Principal": {"AWS": "123456789012"}}, ACCOUNT_ROOT, True),
    ("account-id-covers-user", {"Principal": {"AWS": "123456789012"}}, IAM_USER, True),
    ("account-id-covers-role", {"Principal": {"AWS": "123456789012"}}, ROLE, True),
    ("root-arn-covers-session", {"Principal": {"AWS": ACCOUNT_ROOT}}, SESSION, True),
    ("account-other-account", {"Principal": {"AWS": "111122223333"}}, IAM_USER, False),
    ("account-not-anonymous", {"Principal": {"AWS": "123456789012"}}, "anonymous", False),
    ("role-exact", {"Principal": {"AWS": ROLE}}, ROLE, True),
    ("role-other", {"Principal": {"AWS": ROLE}}, ROLE + "2", False),
    ("role-covers-session", {"Principal": {"AWS": "arn:aws:iam::123456789012:role/ci/deploy"}}, SESSION, True),
    ("role-other-session", {"Principal": {"AWS": ROLE}}, SESSION, False),
    ("not-principal-role-not-session", {"NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/deploy"}}, SESSION, True),
    ("role-none", {"Principal": {"AWS": ROLE}}, None, False),
    ("aws-list-second", {"Principal": {"AWS": ["arn:aws:iam::1:root", ROLE]}}, ROLE, True),
    ("service", {"Principal": {"Service": "lambda.amazonaws.com"}}, "lambda.amazonaws.com", True),
    ("service-other", {"Principal": {"Service": "lambda.amazonaws.com"}}, "ec2.amazonaws.com", False),
    ("federated", {"Principal": {"Federated": "cognito-identity.amazonaws.com"}}, "federated:cognito-identity.amazonaws.com", True),
    ("federated-not-service", {"Principal": {"Federated": "cognito-identity.amazonaws.com"}}, "cognito-identity.amazonaws.com", False),
    ("canonical-user", {"Principal": {"CanonicalUser": "79a59df900b949e5"}}, "canonical-user:79a59df900b949e5", True),
    ("not-principal-listed", {"NotPrincipal": {"AWS": ROLE}}, ROLE, False),
    ("not-principal-other", {"NotPrincipal": {"AWS": ROLE}}, "arn:aws:iam::1:user/a", True),
    ("not-principal-none", {"NotPrincipal": {"AWS": ROLE}}, None, True),
    ("not-principal-account", {"NotPrincipal": {"AWS": "123456789012"}}, ACCOUNT_ROOT, False),
    ("not-principal-account-not-user", {"NotPrincipal": {"AWS": "123456789012"}}, IAM_USER, True),
    ("not-principal-star-none", {"NotPrincipal": "*"}, None, False),
]


@pytest.mark.parametrize(("elements", "principal", "expected"), **table(PRINCIPAL_ROWS))
def test_principal_element(elements, principal, expected):
    statement = make_statement(elements)
    request = Request("sts:AssumeRole", "arn:aws:iam::123456789012:role/target", principal)
    assert statement_matches(statement, request) is expected


# --- Decision ----------------------------------------------------------------

ALLOW_GET = {"Sid": "AllowGet", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
ALLOW_PUT = {"Sid": "AllowPut", "Effect": "Allow", "Action": "s3:Put*", "Resource": "*"}
ALLOW_ALL = {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"}
DENY_SECRET = {"Sid": "DenySecret", "Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::secret/*"}
DENY_HTTP = {
    "Sid": "DenyHttp",
    "Effect": "Deny",
    "Action": "*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}

DECISION_ROWS = [
    ("allow-matches", [ALLOW_GET], "arn:aws:s3:::public/x", {}, True, False, ["AllowGet"], []),
    ("implicit-deny", [ALLOW_PUT], "arn:aws:s3:::public/x", {}, False, False, [], []),
    ("deny-overrides-allow", [ALLOW_GET, DENY_SECRET], "arn:aws:s3:::secret/x", {}, False, True, ["AllowGet"], ["DenySecret"]),
    ("deny-does-not-match", [ALLOW_GET, DENY_SECRET], "arn:aws:s3:::public/x", {}, True, False, ["AllowGet"], []),
    ("deny-without-allow", [DENY_SECRET], "arn:aws:s3:::secret/x", {}, False, True, [], ["DenySecret"]),
    ("no-statement-matches", [DENY_SECRET], "arn:aws:s3:::public/x", {}, False, False, [], []),
    ("two-allows-listed", [ALLOW_GET, ALLOW_ALL], "arn:aws:s3:::public/x", {}, True, False, ["AllowGet", "AllowAll"], []),
    ("deny-condition-true", [ALLOW_ALL, DENY_HTTP], "arn:aws:s3:::x", {"aws:SecureTransport": "false"}, False, True, ["AllowAll"], ["DenyHttp"]),
    ("deny-condition-false", [ALLOW_ALL, DENY_HTTP], "arn:aws:s3:::x", {"aws:SecureTransport": "true"}, True, False, ["AllowAll"], []),
    ("deny-condition-key-absent", [ALLOW_ALL, DENY_HTTP], "arn:aws:s3:::x", {}, True, False, ["AllowAll"], []),
]


@pytest.mark.parametrize(
    ("statements", "resource", "context", "allowed", "explicit_deny", "allow_sids", "deny_sids"),
    **table(DECISION_ROWS),
)
def test_evaluate_decision(statements, resource, context, allowed, explicit_deny, allow_sids, deny_sids):
    policy = parse_policy_text(json.dumps({"Version": VERSION_2012, "Statement": statements}))
    decision = evaluate(policy, Request("s3:GetObject", resource, context=context))
    assert decision.allowed is allowed
    assert decision.explicit_deny is explicit_deny
    assert [s.sid for s in decision.allow_statements] == allow_sids
    assert [s.sid for s in decision.deny_statements] == deny_sids


def test_evaluator_imports_no_z3():
    code = "import sys, verifier.evaluate; sys.exit('z3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], check=False)
    assert result.returncode == 0
