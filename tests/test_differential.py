"""Differential tests of the z3 encoding against the concrete evaluator.

Hypothesis generates small policies over a vocabulary chosen so that wildcards,
colons, policy variables and typed values often meet. It also generates
requests on the edges of those policies: values that almost match, absent
keys, the first and last address of a CIDR block, and one date written in ISO
and in epoch form. `symbolic_allows` and `evaluate` must decide every such
request the same way, and `check_no_new_access` must agree with the evaluator
on its verdicts.

The generated requests respect what the encoding assumes about real AWS
requests: documented typed keys (such as `aws:SourceIp`) get only values that
parse as their type, each key is compared by one operator family, and only keys
used with a set qualifier (or `aws:TagKeys`) get several values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from verifier.check import check_no_new_access
from verifier.errors import UnsupportedFeatureError
from verifier.evaluate import Request, evaluate
from verifier.keys import analyze_keys
from verifier.policy.document import PolicyDocument
from verifier.policy.parse import parse_policy_text
from verifier.solver import Verdict
from verifier.symbolic import symbolic_allows

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"

# 260 policies with 20 requests each give 5,200 comparisons. With these
# values the whole file ran in about 50 s on a 2-core machine.
POLICY_EXAMPLES = 260
REQUESTS_PER_POLICY = 20
PAIR_EXAMPLES = 120
REQUESTS_PER_PAIR = 50
CHECK_TIMEOUT_SECONDS = 10

SLOW_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}

# --- Vocabulary --------------------------------------------------------------

ACTION_PATTERNS = (
    "s3:GetObject",
    "s3:Get*",
    "s3:*Object",
    "s3:?etObject",
    "S3:getobject",
    "s3:*",
    "ec2:*",
    "iam:*Role*",
    "*",
)
REQUEST_ACTIONS = (
    "s3:GetObject",
    "S3:GETOBJECT",
    "s3:GetObjectAcl",
    "s3:Get",
    "s3:etObject",
    "s3:GGetObject",
    "s3:PutObject",
    "ec2:RunInstances",
    "iam:PassRole",
    "sqs:SendMessage",
)

# Pieces of generated ARN patterns: wildcards next to `:` and `/` and inside
# segments, and policy variables with and without a default.
ARN_PIECES = (
    "a",
    "b",
    ":",
    "/",
    "*",
    "?",
    "${aws:username}",
    "${aws:username, 'd'}",
    "${test:var}",
    "${*}",
    "\\u{61}",
)
REALISTIC_ARNS = (
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/a*",
    "arn:aws:s3:::b?cket/*",
    "arn:aws:s3:::*/x",
    "arn:aws:s3:::home/${aws:username}/*",
    "arn:aws:s3:::home/${aws:username, 'guest'}/*",
    "arn:aws:iam::*:role/x",
    "arn:aws:iam::1?:role/*",
    "arn:aws:*:us-east-1:*:thing",
    "arn:aws:lambda:r:a:function:my*fn",
    "arn:*:s3",
    "arn:aws:s3:*",
)
STAR_FILLERS = ("", "a", "b", ":", "/", "a:b", "a/b", ":a:")
QMARK_FILLERS = ("a", "b", ":", "/", "", "ab")
VARIABLE_FILLERS = ("a", "b", "d", "guest", "a:b", "\\u{61}", "${aws:username}")
ACTION_STAR_FILLERS = ("", "Object", "Acl", "o:b", "x")
ACTION_QMARK_FILLERS = ("G", "g", "", ":", "xy")

OPERATORS = {
    "string": (
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    ),
    "arn": ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"),
    "binary": ("BinaryEquals",),
    "numeric": (
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    ),
    "date": (
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
    ),
    "bool": ("Bool",),
    "ip": ("IpAddress", "NotIpAddress"),
}
# Condition keys by the operator family they are used with. String, Arn and
# Binary operators all compare text, so they may share a key.
KEYS = {
    "string": ("test:str", "aws:username", "aws:TagKeys", "aws:SourceArn"),
    "arn": ("aws:SourceArn", "test:arn"),
    "binary": ("test:bin",),
    "numeric": ("aws:MultiFactorAuthAge", "aws:EpochTime", "test:num"),
    "date": ("aws:CurrentTime", "aws:EpochTime", "test:date"),
    "bool": ("aws:SecureTransport", "test:flag"),
    "ip": ("aws:SourceIp", "test:ip"),
}
KEY_FAMILY = {key.lower(): family for family, keys in KEYS.items() for key in keys}
KEY_FAMILY.update({"aws:sourcearn": "string", "aws:epochtime": "numeric", "test:var": "string"})
TYPED_FAMILIES = ("numeric", "date", "bool", "ip")

# Documented global keys, for which the encoding assumes well-typed values.
DOCUMENTED_TYPED_KEYS = frozenset(
    {"aws:multifactorauthage", "aws:epochtime", "aws:currenttime", "aws:securetransport", "aws:sourceip"}
)
DOCUMENTED_MULTIVALUED_KEYS = frozenset({"aws:tagkeys"})

STRING_POLICY_VALUES = (
    "a",
    "A",
    "ab",
    "",
    "a*",
    "*",
    "a?",
    "?",
    "true",
    "\u00e9",
    "\\u{61}",
    "${aws:username}",
    "x${aws:username, 'd'}",
    "${*}",
)
NUMERIC_POLICY_VALUES = ("10", "10.0", "0", "-1", "1e1", "9.999", "3600", "1704067200")
DATE_POLICY_VALUES = ("2024-01-01T00:00:00Z", "1704067200", "2023-12-31T23:59:59Z", "1704067201", "2024-01-01")
BOOL_POLICY_VALUES: tuple[Any, ...] = ("true", "false", "TRUE", True, False)
IP_POLICY_VALUES = ("10.0.0.0/8", "10.0.0.1", "10.0.0.1/8", "203.0.113.0/25", "2001:db8::/32", "2001:DB8::/64", "::/0", "0.0.0.0/0")
BINARY_POLICY_VALUES = ("QUJD", "qujd")

# Request values. Documented typed keys get only the values below, which
# parse as their type. The undocumented test keys also get values that do not.
STRING_REQUEST_VALUES = (
    "a",
    "A",
    "ab",
    "",
    "a*",
    "b",
    "aa",
    "true",
    "d",
    "xd",
    "x",
    "guest",
    "\u00e9",
    "\u00c9",
    "a\nb",
    "\\u{61}",
    "${aws:username}",
    "${*}",
)
NUMERIC_REQUEST_VALUES = ("0", "10", "10.0", "9.999", "10.001", "-1", "1e1", "3600", "3601", "1704067200", "1704067199.5")
DATE_REQUEST_VALUES = (
    "2024-01-01T00:00:00Z",
    "1704067200",
    "2024-01-01T01:00:00+01:00",
    "2023-12-31T23:59:59Z",
    "1704067199",
    "1704067201",
    "2024-01-01T00:00:00.500000Z",
    "2024-01-01",
)
# `aws:EpochTime` takes both Numeric and Date operators, so its values are
# numbers that both read as seconds.
EPOCH_REQUEST_VALUES = ("0", "3600", "1704067199", "1704067200", "1704067200.5", "1704067201")
BOOL_REQUEST_VALUES = ("true", "false", "TRUE", "False")
IP_REQUEST_VALUES = (
    "10.0.0.0",
    "10.255.255.255",
    "9.255.255.255",
    "11.0.0.0",
    "10.0.0.1",
    "203.0.113.0",
    "203.0.113.127",
    "203.0.113.128",
    "2001:db8::",
    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    "2001:db9::",
    "::1",
    "::",
    "0.0.0.0",
    "255.255.255.255",
    "::ffff:10.0.0.1",
)
UNPARSEABLE_REQUEST_VALUES = ("", "ten", "yes", "not-an-ip", "10.0.0.0/8")
TYPED_REQUEST_VALUES = {
    "numeric": NUMERIC_REQUEST_VALUES,
    "date": DATE_REQUEST_VALUES,
    "bool": BOOL_REQUEST_VALUES,
    "ip": IP_REQUEST_VALUES,
}

_TOKEN = re.compile(r"\$\{[^}]*\}|\*|\?|[^*?$]+|\$")


# --- Policy strategies -------------------------------------------------------


def one_or_list(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(elements, st.lists(elements, min_size=1, max_size=3))


def arn_patterns() -> st.SearchStrategy[str]:
    built = st.lists(st.sampled_from(ARN_PIECES), max_size=6).map(lambda pieces: "arn:" + "".join(pieces))
    return st.one_of(built, st.sampled_from(REALISTIC_ARNS))


@st.composite
def condition_entries(draw: st.DrawFn) -> tuple[str, str, Any]:
    """Draw one (operator, key, values) entry of a Condition block."""
    family = draw(st.sampled_from(sorted(OPERATORS) + ["null"]))
    if family == "null":
        key = draw(st.sampled_from(sorted({k for keys in KEYS.values() for k in keys})))
        return "Null", key, draw(one_or_list(st.sampled_from(["true", "false", True])))

    base = draw(st.sampled_from(OPERATORS[family]))
    if_exists = draw(st.booleans())
    qualifier = draw(st.sampled_from(["", "", "ForAllValues:", "ForAnyValue:"]))
    operator = qualifier + base + ("IfExists" if if_exists else "")
    key = draw(st.sampled_from(KEYS[family]))

    if family == "string":
        values = STRING_POLICY_VALUES
        if "IgnoreCase" in base:
            # A policy variable in a case-insensitive comparison is not encoded.
            values = tuple(v for v in values if "${" not in v)
        value_strategy = st.sampled_from(values)
    elif family == "arn":
        value_strategy = arn_patterns()
    else:
        value_strategy = st.sampled_from(
            {
                "binary": BINARY_POLICY_VALUES,
                "numeric": NUMERIC_POLICY_VALUES,
                "date": DATE_POLICY_VALUES,
                "bool": BOOL_POLICY_VALUES,
                "ip": IP_POLICY_VALUES,
            }[family]
        )
    return operator, key, draw(one_or_list(value_strategy))


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    action_element = draw(st.sampled_from(["Action", "Action", "NotAction"]))
    statement[action_element] = draw(one_or_list(st.sampled_from(ACTION_PATTERNS)))
    resource_element = draw(st.sampled_from(["Resource", "Resource", "NotResource"]))
    statement[resource_element] = draw(one_or_list(arn_patterns()))
    entries = draw(st.lists(condition_entries(), max_size=3))
    if entries:
        block: dict[str, dict[str, Any]] = {}
        for operator, key, values in entries:
            block.setdefault(operator, {})[key] = values
        statement["Condition"] = block
    return statement


@st.composite
def policy_documents(draw: st.DrawFn, version: str | None = None) -> dict[str, Any]:
    if version is None:
        version = draw(st.sampled_from([VERSION_2012, VERSION_2012, VERSION_2008]))
    return {"Version": version, "Statement": draw(st.lists(statements(), min_size=1, max_size=4))}


@st.composite
def policy_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draw (old, new) documents, mostly with `new` an edit of `old`, so that
    both verdicts occur often."""
    old = draw(policy_documents())
    old_statements = old["Statement"]
    edit = draw(st.sampled_from(["add", "remove", "replace", "add_deny", "reorder", "unrelated"]))
    if edit == "unrelated":
        return old, draw(policy_documents(version=old["Version"]))
    new_statements = list(old_statements)
    if edit == "add":
        new_statements.append(draw(statements()))
    elif edit == "remove" and len(new_statements) > 1:
        new_statements.pop(draw(st.integers(0, len(new_statements) - 1)))
    elif edit == "replace":
        new_statements[draw(st.integers(0, len(new_statements) - 1))] = draw(statements())
    elif edit == "add_deny":
        new_statements.append({**draw(statements()), "Effect": "Deny"})
    else:
        new_statements = draw(st.permutations(new_statements))
    return old, {"Version": old["Version"], "Statement": new_statements}


# --- Request strategies ------------------------------------------------------


@dataclass
class Vocabulary:
    """Patterns, condition values and key uses of the policies that requests are drawn for."""

    action_patterns: list[str] = field(default_factory=list)
    resource_patterns: list[str] = field(default_factory=list)
    # Lowercased key name -> policy values of the conditions on that key.
    key_values: dict[str, list[str]] = field(default_factory=dict)
    # Lowercased names of keys used with ForAllValues or ForAnyValue.
    set_keys: set[str] = field(default_factory=set)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def vocabulary_of(documents: list[dict[str, Any]]) -> Vocabulary:
    vocabulary = Vocabulary()
    for document in documents:
        for statement in document["Statement"]:
            vocabulary.action_patterns += as_list(statement.get("Action", statement.get("NotAction")))
            resources = as_list(statement.get("Resource", statement.get("NotResource")))
            vocabulary.resource_patterns += resources
            values_seen = list(resources)
            for operator, block in statement.get("Condition", {}).items():
                for key, values in block.items():
                    texts = [str(v).lower() if isinstance(v, bool) else v for v in as_list(values)]
                    vocabulary.key_values.setdefault(key.lower(), []).extend(texts)
                    values_seen += texts
                    if operator.startswith("For"):
                        vocabulary.set_keys.add(key.lower())
            for text in values_seen:
                for variable in re.findall(r"\$\{([^},' ]+)", str(text)):
                    if variable not in ("*", "?", "$"):
                        vocabulary.key_values.setdefault(variable.lower(), [])
    return vocabulary


@st.composite
def filled(draw: st.DrawFn, pattern: str, star: tuple[str, ...], qmark: tuple[str, ...]) -> str:
    """Replace each wildcard and policy variable of `pattern` with text, then
    sometimes change the result slightly, to get values that almost match."""
    parts: list[str] = []
    for token in _TOKEN.findall(pattern):
        if token == "*":
            parts.append(draw(st.sampled_from(star)))
        elif token == "?":
            parts.append(draw(st.sampled_from(qmark)))
        elif token.startswith("${") and len(token) > 4:
            parts.append(draw(st.sampled_from(VARIABLE_FILLERS + (token,))))
        else:
            parts.append(token)
    text = "".join(parts)
    change = draw(st.sampled_from(["none", "none", "none", "drop_last", "append", "swap_case"]))
    if change == "drop_last":
        return text[:-1]
    if change == "append":
        return text + draw(st.sampled_from(["a", ":", "/"]))
    if change == "swap_case":
        return text.swapcase()
    return text


def key_value_strategy(key: str, vocabulary: Vocabulary) -> st.SearchStrategy[str]:
    family = KEY_FAMILY.get(key, "string")
    if key == "aws:epochtime":
        return st.sampled_from(EPOCH_REQUEST_VALUES)
    if family in TYPED_FAMILIES:
        values = TYPED_REQUEST_VALUES[family]
        if key not in DOCUMENTED_TYPED_KEYS:
            values = values + UNPARSEABLE_REQUEST_VALUES
        return st.sampled_from(values)
    policy_values = [v for v in vocabulary.key_values.get(key, []) if isinstance(v, str)]
    options = [st.sampled_from(STRING_REQUEST_VALUES)]
    if policy_values:
        options.append(
            st.sampled_from(policy_values).flatmap(lambda v: filled(v, STAR_FILLERS, QMARK_FILLERS))
        )
    if family == "arn" or key == "aws:sourcearn":
        options.append(st.sampled_from(REALISTIC_ARNS).flatmap(lambda v: filled(v, STAR_FILLERS, QMARK_FILLERS)))
    return st.one_of(options)


@st.composite
def requests_for(draw: st.DrawFn, vocabulary: Vocabulary) -> Request:
    action = draw(
        st.one_of(
            st.sampled_from(REQUEST_ACTIONS),
            st.sampled_from(vocabulary.action_patterns).flatmap(
                lambda p: filled(p, ACTION_STAR_FILLERS, ACTION_QMARK_FILLERS)
            ),
        )
    )
    resource = draw(
        st.one_of(
            st.sampled_from(vocabulary.resource_patterns).flatmap(lambda p: filled(p, STAR_FILLERS, QMARK_FILLERS)),
            st.text(alphabet="ab:/", max_size=6).map(lambda rest: "arn:" + rest),
        )
    )
    context: dict[str, str | tuple[str, ...]] = {}
    for key in sorted(vocabulary.key_values):
        if draw(st.integers(0, 3)) == 0:
            continue  # the key is absent from the request
        name = draw(st.sampled_from([key, key.upper()]))
        values = key_value_strategy(key, vocabulary)
        if key in vocabulary.set_keys or key in DOCUMENTED_MULTIVALUED_KEYS:
            context[name] = tuple(draw(st.lists(values, max_size=3)))
        else:
            context[name] = draw(values)
    return Request(action=action, resource=resource, context=context)


# --- Helpers -----------------------------------------------------------------


def parse(document: dict[str, Any]) -> PolicyDocument:
    return parse_policy_text(json.dumps(document))


def assume_encodable(*policies: PolicyDocument) -> None:
    """Skip policies that use one key with operators of different types."""
    try:
        analyze_keys(list(policies))
    except UnsupportedFeatureError as error:
        event(f"skipped: {error}")
        assume(False)


def describe(request: Request) -> str:
    return f"action={request.action!r} resource={request.resource!r} context={dict(request.context)!r}"


# --- Properties --------------------------------------------------------------


@settings(max_examples=POLICY_EXAMPLES, **SLOW_SETTINGS)
@given(st.data())
def test_encoding_agrees_with_evaluator(data: st.DataObject) -> None:
    document = data.draw(policy_documents(), label="policy")
    policy = parse(document)
    assume_encodable(policy)
    vocabulary = vocabulary_of([document])
    requests = data.draw(
        st.lists(requests_for(vocabulary), min_size=REQUESTS_PER_POLICY, max_size=REQUESTS_PER_POLICY),
        label="requests",
    )

    for request in requests:
        expected = evaluate(policy, request).allowed
        actual = symbolic_allows(policy, request)
        assert actual == expected, f"encoding allows={actual}, evaluator allows={expected} for {describe(request)}"


@settings(max_examples=PAIR_EXAMPLES, **SLOW_SETTINGS)
@given(st.data())
def test_check_verdict_agrees_with_evaluator(data: st.DataObject) -> None:
    old_document, new_document = data.draw(policy_pairs(), label="old and new")
    old, new = parse(old_document), parse(new_document)
    assume_encodable(old, new)
    # Requests are drawn before the check runs, so that the data drawn does not
    # depend on a verdict that a timeout can change.
    vocabulary = vocabulary_of([old_document, new_document])
    requests = data.draw(
        st.lists(requests_for(vocabulary), min_size=REQUESTS_PER_PAIR, max_size=REQUESTS_PER_PAIR),
        label="requests",
    )

    result = check_no_new_access(old, new, timeout=CHECK_TIMEOUT_SECONDS)
    event(f"verdict {result.verdict.value}")
    note(f"reason: {result.reason}")

    if result.verdict is Verdict.REFUTED:
        counterexample = result.counterexample
        assert counterexample is not None
        assert evaluate(new, counterexample).allowed, describe(counterexample)
        assert not evaluate(old, counterexample).allowed, describe(counterexample)
    elif result.verdict is Verdict.PROVED:
        for request in requests:
            if evaluate(new, request).allowed:
                assert evaluate(old, request).allowed, f"proved, but only new allows {describe(request)}"


# --- Backslashes and the solver alphabet -------------------------------------
# z3 reads `\u{61}` inside a string constant as the letter `a`, and its
# alphabet ends at U+2FFFF. The encoder must keep policy and request text as
# it is, or report a character it cannot represent as unsupported.

BACKSLASH_ESCAPE = "\\u{61}"  # seven characters, not the letter `a`
TAG_CHARACTER = "\U000e0067"  # TAG LATIN SMALL LETTER G, part of some flag emoji


def single_statement_policy(**elements: Any) -> PolicyDocument:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **elements}
    return parse({"Version": VERSION_2012, "Statement": [statement]})


def string_condition(operator: str, value: str) -> dict[str, Any]:
    return {"Condition": {operator: {"test:str": value}}}


# (id, statement elements, request that matches the literal text, request
# that would match if the text were read as an escape)
ESCAPE_CASES = [
    (
        "condition",
        string_condition("StringEquals", BACKSLASH_ESCAPE),
        Request("s3:GetObject", "arn:aws:s3:::b", context={"test:str": BACKSLASH_ESCAPE}),
        Request("s3:GetObject", "arn:aws:s3:::b", context={"test:str": "a"}),
    ),
    (
        "resource",
        {"Resource": "arn:aws:s3:::b/" + BACKSLASH_ESCAPE},
        Request("s3:GetObject", "arn:aws:s3:::b/" + BACKSLASH_ESCAPE),
        Request("s3:GetObject", "arn:aws:s3:::b/a"),
    ),
    (
        "action",
        {"Action": "s3:Get" + BACKSLASH_ESCAPE.replace("61", "6f") + "bject"},
        Request("s3:Get" + BACKSLASH_ESCAPE.replace("61", "6f") + "bject", "arn:aws:s3:::b"),
        Request("s3:GetObject", "arn:aws:s3:::b"),
    ),
]


@pytest.mark.parametrize(
    ("elements", "literal_request", "decoded_request"),
    [case[1:] for case in ESCAPE_CASES],
    ids=[case[0] for case in ESCAPE_CASES],
)
def test_backslash_escape_text_is_literal(elements, literal_request, decoded_request):
    policy = single_statement_policy(**elements)

    assert evaluate(policy, literal_request).allowed is True
    assert evaluate(policy, decoded_request).allowed is False
    assert symbolic_allows(policy, literal_request) is True
    assert symbolic_allows(policy, decoded_request) is False


def test_check_refutes_backslash_escape_resource():
    old = single_statement_policy(Resource="arn:aws:s3:::bucket/a")
    new = single_statement_policy(Resource="arn:aws:s3:::bucket/" + BACKSLASH_ESCAPE)

    result = check_no_new_access(old, new, timeout=CHECK_TIMEOUT_SECONDS)

    assert result.verdict is Verdict.REFUTED
    assert result.counterexample is not None
    assert result.counterexample.resource == "arn:aws:s3:::bucket/" + BACKSLASH_ESCAPE


def test_request_beyond_solver_alphabet():
    policy = single_statement_policy(**string_condition("StringLike", "?"))
    request = Request("s3:GetObject", "arn:aws:s3:::b", context={"test:str": TAG_CHARACTER})

    assert evaluate(policy, request).allowed is True
    # Reporting the character as unsupported is also correct, but a wrong decision is not.
    try:
        decision = symbolic_allows(policy, request)
    except UnsupportedFeatureError:
        return
    assert decision is True


def test_check_not_proved_beyond_solver_alphabet():
    # `new` allows the one-character value U+E0067, which `old` denies, so
    # UNKNOWN and REFUTED are both correct and PROVED is not.
    old = single_statement_policy(**string_condition("StringNotLike", "?"))
    new = single_statement_policy(**string_condition("StringEquals", TAG_CHARACTER))

    result = check_no_new_access(old, new, timeout=CHECK_TIMEOUT_SECONDS)

    assert result.verdict is not Verdict.PROVED
