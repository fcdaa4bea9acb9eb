"""Compare the concrete evaluator with an independent one, @cloud-copilot/iam-simulate.

The independent evaluator (the oracle) is @cloud-copilot/iam-simulate 0.1.173,
run as one Node process through `tools/oracle/run.mjs`. Hypothesis draws a
policy (Version 2012-10-17) and a batch of requests on the edges of that
policy: values that almost match, absent keys, the first and last address of
a CIDR block and one instant written as several equal dates. `evaluate` and
the oracle must return the same decision (Allowed, ImplicitlyDenied or
ExplicitlyDenied) for every request.

The two evaluators read some inputs differently on purpose. Each such
divergence has a named test below that records both decisions, and the random
test keeps its inputs away from them, as the comments at each vocabulary and
at the resource guard explain.

Needs `node` and `npm ci --prefix tools/oracle`. Without them the tests are
skipped, or fail when the environment variable CI is set.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import oracle_client
from verifier.evaluate import Decision, Request, arn_condition_matches, arn_matches, evaluate
from verifier.policy.document import PolicyDocument
from verifier.policy.parse import parse_policy_text

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"

# 300 policies with 25 requests each give 7,500 requests, of which the
# resource guard drops about 2%. The CI run needs 5,000 comparisons.
POLICY_EXAMPLES = 300
REQUESTS_PER_POLICY = 25
MIN_COMPARISONS = 5_000
# Each run must also reach these outcomes this often. In eight runs of this
# file, 490 to 1,150 requests were allowed, 510 to 1,510 explicitly denied,
# and in 170 to 510 a Deny overrode a matching Allow.
MIN_PER_OUTCOME = 50

RESOURCE = "arn:aws:s3:::bucket/key"
ACTION = "s3:GetObject"


@pytest.fixture(scope="session")
def oracle() -> Iterator[oracle_client.Oracle]:
    """Start one oracle process for the whole test session."""
    missing = oracle_client.missing_requirement()
    if missing is not None:
        message = f"the IAM oracle cannot run: {missing}. Run `{oracle_client.INSTALL_COMMAND}` first."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with oracle_client.Oracle() as process:
        yield process


# --- Vocabulary: actions ----------------------------------------------------
# Wildcards appear only in the action name, because the oracle reads none in
# the service prefix. It builds a regular expression from the action name
# without escaping it, so names contain letters only.

ACTION_PATTERNS = (
    "s3:GetObject",
    "s3:Get*",
    "s3:*Object",
    "s3:?etObject",
    "S3:getobject",
    "s3:*",
    "ec2:Describe*",
    "ec2:*",
    "iam:*Role*",
    "iam:PassRole",
    "sqs:Send?essage",
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
    "ec2:DescribeInstances",
    "ec2:RunInstances",
    "iam:PassRole",
    "iam:GetRole",
    "sqs:SendMessage",
    "sqs:SendXessage",
    "sqs:Sendessage",
    "lambda:InvokeFunction",
)
ACTION_STAR_FILLERS = ("", "Object", "Acl", "x", "Role")
ACTION_QMARK_FILLERS = ("G", "g", "x", "", "xy")

# --- Vocabulary: resources --------------------------------------------------
# Every policy ARN has six fields. Its partition, region and account fields
# contain lowercase letters, digits, `-` and wildcards only, because the oracle
# reads those fields as case-insensitive regular expressions. Outside S3, the
# resource part starts with a literal resource-type word, because the oracle
# compares the text before the first `/` or `:` of the resource part as
# literal text. Variables appear only in the resource part. Requests on which
# the two evaluators' rules for wildcards and colons differ are dropped by
# `resource_readings_differ`.

PARTITION_PATTERNS = ("aws", "aws", "*", "aw?")
REGION_PATTERNS = ("us-east-1", "us-east-1", "*", "us-*-1", "us-east-?")
ACCOUNT_PATTERNS = ("111122223333", "111122223333", "*", "1111*", "11112222333?")
# (service, resource-type word, separator after it)
TYPED_RESOURCES = (
    ("iam", "role", "/"),
    ("iam", "user", "/"),
    ("ec2", "instance", "/"),
    ("lambda", "function", ":"),
)
RESOURCE_PIECES = (
    "a",
    "b",
    "/",
    ":",
    "*",
    "?",
    "${aws:username}",
    "${aws:PrincipalTag/team, 'd'}",
    "${test:var}",
)
# A resource part without `/` or `:`, as in an SQS queue ARN, has no
# resource-type word for the oracle, so wildcards may appear anywhere in it.
UNTYPED_PIECES = ("q", "a", "*", "?")
FIXED_RESOURCE_PATTERNS = (
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/a*",
    "arn:aws:s3:::b?cket/*",
    "arn:aws:s3:::*/x",
    "arn:aws:s3:::home/${aws:username}/*",
    "arn:aws:s3:::home/${aws:PrincipalTag/team, 'd'}/*",
    "arn:aws:iam::*:role/x",
    "arn:aws:iam::111122223333:user/${aws:username}",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:sqs:us-east-1:111122223333:queue?",
    "arn:aws:lambda:us-east-1:111122223333:function:my*fn",
    "arn:aws:lambda:*:111122223333:function:f:*",
)
# Fillers for wildcards. The first five ARN fields get no colon, so that a
# filled pattern keeps the field layout of its pattern.
PREFIX_STAR_FILLERS = ("", "a", "us-east-1", "111122223333", "x-y")
PREFIX_QMARK_FILLERS = ("a", "1", "s", "")
RESOURCE_STAR_FILLERS = ("", "a", "b", "/", ":", "a/b", "a:b")
RESOURCE_QMARK_FILLERS = ("a", "b", "/", ":", "", "ab")
RANDOM_RESOURCE_PREFIXES = ("arn:aws:s3:::", "arn:aws:iam::111122223333:", "arn:aws:sqs:us-east-1:111122223333:")

# --- Vocabulary: condition keys ---------------------------------------------
# Each key has one value type, so that a key never meets two value formats.
# Dates in ISO 8601 and dates in epoch seconds get different keys, because
# the oracle compares epoch values in seconds with ISO values in milliseconds.

KEY_TYPES = {
    "test:str": "string",
    "aws:TagKeys": "multi",
    "test:tags": "multi",
    "aws:username": "variable",
    "test:var": "variable",
    "aws:PrincipalTag/team": "variable",
    "aws:SourceArn": "arn",
    "aws:PrincipalArn": "arn",
    "test:bin": "binary",
    "aws:MultiFactorAuthAge": "number",
    "test:num": "number",
    "aws:CurrentTime": "iso_date",
    "test:date": "iso_date",
    "aws:EpochTime": "epoch",
    "aws:SecureTransport": "bool",
    "test:flag": "bool",
    "aws:SourceIp": "ip",
    "test:ip": "ip",
}
CANONICAL_KEYS = {key.lower(): key for key in KEY_TYPES}

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
# Operator families that each key type is compared with.
TYPE_FAMILIES = {
    "string": ("string",),
    "multi": ("string",),
    "variable": ("string",),
    "arn": ("arn", "arn", "string"),
    "binary": ("binary",),
    "number": ("numeric",),
    "iso_date": ("date",),
    "epoch": ("numeric", "date"),
    "bool": ("bool",),
    "ip": ("ip",),
}

# Policy variables, with and without a default. Defaults are written as
# `${key, 'value'}` with one space after the comma, the form the IAM
# variables page shows and the only one the oracle reads as a default.
STRING_POLICY_VALUES = (
    "a",
    "A",
    "ab",
    "",
    "a*",
    "*",
    "a?",
    "?",
    "a.b",
    "a+b",
    "[a]",
    "\u00e9",
    "${aws:username}",
    "x${aws:username}",
    "${aws:PrincipalTag/team, 'd'}",
    "team-${test:var}",
    "${*}",
    "a${?}",
)
# No cased non-ASCII letter other than lowercase é: the oracle folds the case
# of non-ASCII letters in IgnoreCase operators (see the named test).
STRING_REQUEST_VALUES = (
    "a",
    "A",
    "ab",
    "",
    "a*",
    "*",
    "a?",
    "b",
    "aa",
    "aXb",
    "a.b",
    "a+b",
    "[a]",
    "\u00e9",
    "d",
    "xd",
    "alice",
    "xalice",
    "team-v",
    "${aws:username}",
)
# Values of keys that policies use as variables: never empty, never
# multivalued, and without `*` or `?`, so that a request resource filled with
# them contains no wildcard (the oracle reads `*` in a request resource as a
# wildcard request).
VARIABLE_VALUES = ("alice", "bob", "d", "A", "a/b", "x.y", "a+b", "v", "${aws:username}")
ARN_PATTERNS = (
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::home/${aws:PrincipalTag/team, 'd'}/*",
    "arn:aws:iam::111122223333:user/${aws:username}",
    "arn:aws:iam::*:role/*",
    "arn:aws:*:*:111122223333:*",
    "arn:aws:sqs:us-east-?:111122223333:queue?",
    "arn:aws:lambda:us-east-1:111122223333:function:f*",
    "arn:aws:lambda:*:*:function:*:1",
    "arn:aws:iam::111122223333:role/x",
)
# Request ARNs always have six fields: the oracle never matches a shorter
# value, not even with ArnNotLike.
ARN_REQUEST_VALUES = (
    "arn:aws:s3:::bucket/a",
    "arn:aws:s3:::home/d/x",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:role/x",
    "arn:aws:iam::444455556666:role/x",
    "arn:aws:sqs:us-east-1:111122223333:queue1",
    "arn:aws:lambda:us-east-1:111122223333:function:f:1",
)
BINARY_VALUES = ("QUJD", "qujd")
BINARY_REQUEST_VALUES = ("QUJD", "qujd", "QUJE")
# Plain decimal numbers only: the oracle reads `10abc` as 10 and `1e3` as 1.
NUMBER_POLICY_VALUES: tuple[Any, ...] = ("10", "10.0", "0", "-1", "9.999", "3600", "0.5", 10)
NUMBER_REQUEST_VALUES = ("0", "10", "10.0", "9.999", "10.001", "-1", "3600", "3601", "0.5", "0.50", "-0.5")
# Whole epoch seconds only: the oracle cannot parse a fractional epoch value
# such as `1704067200.5`.
EPOCH_POLICY_VALUES: tuple[Any, ...] = ("1704067200", "1704067199", "1704067201", "0", 1704067200)
EPOCH_REQUEST_VALUES = ("1704067200", "1704067199", "1704067201", "0", "1800000000")
# 2024-01-01T00:00:00Z is written four ways. Fractions have at most three
# digits, the precision of JavaScript dates.
ISO_POLICY_VALUES = (
    "2024-01-01T00:00:00Z",
    "2024-01-01",
    "2023-12-31T23:59:59Z",
    "2024-01-01T01:00:00+01:00",
    "2024-01-01T00:00:00.500Z",
)
ISO_REQUEST_VALUES = (
    "2024-01-01T00:00:00Z",
    "2024-01-01",
    "2024-01-01T01:00:00+01:00",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:01Z",
    "2023-12-31T23:59:59Z",
    "2023-12-31T23:59:59.999Z",
    "2024-01-01T00:00:00.500Z",
    "2024-06-30T12:00:00Z",
)
BOOL_POLICY_VALUES: tuple[Any, ...] = ("true", "false", "TRUE", True, False, "${test:flag}")
BOOL_REQUEST_VALUES = ("true", "false", "TRUE", "False", "yes")
# No IPv4 block of length 0 (the oracle matches only 0.0.0.0 with it), no
# IPv6 address without a prefix length (the oracle compares it as text) and
# no IPv6 address with an embedded IPv4 address (the oracle misreads it).
IP_POLICY_VALUES = (
    "10.0.0.0/8",
    "10.0.0.1/8",
    "10.0.0.1",
    "203.0.113.0/25",
    "192.0.2.5/32",
    "128.0.0.0/1",
    "2001:db8::/32",
    "2001:DB8::/64",
    "2001:db8::1/128",
    "::/0",
)
IP_REQUEST_VALUES = (
    "10.0.0.0",
    "10.0.0.1",
    "10.255.255.255",
    "9.255.255.255",
    "11.0.0.0",
    "203.0.113.0",
    "203.0.113.127",
    "203.0.113.128",
    "192.0.2.5",
    "192.0.2.4",
    "127.255.255.255",
    "128.0.0.0",
    "0.0.0.0",
    "255.255.255.255",
    "2001:db8::",
    "2001:db8::1",
    "2001:DB8::2",
    "2001:db8:0:0:ffff:ffff:ffff:ffff",
    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    "2001:db9::",
    "::1",
    "::",
)
STRING_STAR_FILLERS = ("", "a", "b", "ab", "\u00e9", "x.y")
STRING_QMARK_FILLERS = ("a", "b", "", "ab", "?")

RANDOM_RESOURCE_PARTS = st.text(alphabet="ab:/", max_size=6)

_TOKEN = re.compile(r"\$\{[^}]*\}|\*|\?|[^*?$]+|\$")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}


# --- Policy strategies -------------------------------------------------------


@functools.lru_cache(maxsize=None)
def sampled(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """Return one `sampled_from` strategy per tuple of options.

    Building a strategy costs more than drawing from it, and the functions
    below draw about 30 times per request.
    """
    return st.sampled_from(options)


def pick(draw: st.DrawFn, options: tuple[Any, ...] | list[Any]) -> Any:
    return draw(sampled(tuple(options)))


def one_or_list(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(elements, st.lists(elements, min_size=1, max_size=3))


def joined_pieces(pieces: tuple[str, ...], min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.lists(sampled(pieces), min_size=min_size, max_size=max_size).map("".join)


@st.composite
def resource_patterns(draw: st.DrawFn) -> str:
    kind = pick(draw, ("s3", "typed", "untyped", "fixed", "fixed"))
    if kind == "fixed":
        return pick(draw, FIXED_RESOURCE_PATTERNS)
    partition = pick(draw, PARTITION_PATTERNS)
    if kind == "s3":
        path = draw(joined_pieces(RESOURCE_PIECES, 1, 5))
        return f"arn:{partition}:s3:::{path}"
    account = pick(draw, ACCOUNT_PATTERNS)
    if kind == "untyped":
        region = pick(draw, REGION_PATTERNS)
        return f"arn:{partition}:sqs:{region}:{account}:" + draw(joined_pieces(UNTYPED_PIECES, 1, 4))
    service, resource_type, separator = pick(draw, TYPED_RESOURCES)
    region = "" if service == "iam" else pick(draw, REGION_PATTERNS)
    rest = draw(joined_pieces(RESOURCE_PIECES, 0, 4))
    return f"arn:{partition}:{service}:{region}:{account}:{resource_type}{separator}{rest}"


def policy_values(key_type: str, family: str, operator: str) -> tuple[Any, ...]:
    if family == "string" and key_type == "arn":
        return ARN_PATTERNS
    if family == "string":
        if "Like" in operator:
            return STRING_POLICY_VALUES
        # The oracle reads `${*}` and `${?}` as literal text outside the
        # Like operators (see the named test).
        return tuple(v for v in STRING_POLICY_VALUES if "${*}" not in v and "${?}" not in v)
    if family == "numeric":
        return EPOCH_POLICY_VALUES if key_type == "epoch" else NUMBER_POLICY_VALUES
    if family == "date":
        return EPOCH_POLICY_VALUES if key_type == "epoch" else ISO_POLICY_VALUES
    if operator == "NotIpAddress":
        # The oracle never lets an IPv6 address pass NotIpAddress with a
        # single IPv4 address (see the named test).
        return tuple(v for v in IP_POLICY_VALUES if "/" in v)
    return {
        "arn": ARN_PATTERNS,
        "binary": BINARY_VALUES,
        "bool": BOOL_POLICY_VALUES,
        "ip": IP_POLICY_VALUES,
    }[family]


@st.composite
def condition_entries(draw: st.DrawFn) -> tuple[str, str, Any]:
    """Draw one (operator, key, values) entry of a Condition block."""
    key = pick(draw, tuple(KEY_TYPES))
    key_type = KEY_TYPES[key]
    if pick(draw, range(10)) == 0:
        return "Null", key, draw(one_or_list(sampled(("true", "false", True))))

    family = pick(draw, TYPE_FAMILIES[key_type])
    base = pick(draw, OPERATORS[family])
    qualifier = pick(draw, ("", "", "ForAllValues:", "ForAnyValue:"))
    # No IfExists after a set qualifier: the oracle ignores it there.
    if_exists = qualifier == "" and pick(draw, (True, False))
    operator = qualifier + base + ("IfExists" if if_exists else "")
    return operator, key, draw(one_or_list(sampled(policy_values(key_type, family, base))))


@st.composite
def condition_blocks(draw: st.DrawFn, max_entries: int) -> dict[str, dict[str, Any]]:
    block: dict[str, dict[str, Any]] = {}
    for operator, key, values in draw(st.lists(condition_entries(), max_size=max_entries)):
        block.setdefault(operator, {})[key] = values
    return block


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": pick(draw, ("Allow", "Allow", "Deny"))}
    action_element = pick(draw, ("Action", "Action", "NotAction"))
    statement[action_element] = draw(one_or_list(sampled(ACTION_PATTERNS)))
    resource_element = pick(draw, ("Resource", "Resource", "NotResource"))
    statement[resource_element] = draw(one_or_list(resource_patterns()))
    block = draw(condition_blocks(max_entries=3))
    if block:
        statement["Condition"] = block
    return statement


@st.composite
def policy_documents(draw: st.DrawFn) -> dict[str, Any]:
    drawn = draw(st.lists(statements(), min_size=1, max_size=4))
    allows = [statement for statement in drawn if statement["Effect"] == "Allow"]
    if allows and pick(draw, (True, False)):
        # A Deny with the Action and Resource of an Allow but its own
        # conditions often matches the same requests, so Deny overrides Allow.
        allow = allows[pick(draw, range(len(allows)))]
        deny = {element: value for element, value in allow.items() if element != "Condition"}
        deny["Effect"] = "Deny"
        block = draw(condition_blocks(max_entries=2))
        if block:
            deny["Condition"] = block
        drawn.append(deny)
    return {"Version": VERSION_2012, "Statement": drawn}


# --- Request strategies ------------------------------------------------------


@dataclass
class Vocabulary:
    """Patterns, condition values and key uses of one policy document."""

    action_patterns: list[str] = field(default_factory=list)
    resource_patterns: list[str] = field(default_factory=list)
    # Lowercased key name -> policy values of the conditions on that key.
    key_values: dict[str, list[str]] = field(default_factory=dict)
    # Lowercased names of keys compared by an operator without a set
    # qualifier. They get one value, because the oracle never matches such an
    # operator on a list, while `evaluate` reads a one-element list as a value.
    single_keys: set[str] = field(default_factory=set)
    # Lowercased names of the keys that policy variables name.
    variable_keys: set[str] = field(default_factory=set)
    # Variable keys without a default in a negated operator or a NotResource
    # element. Requests always carry them (see the named tests of unresolved
    # variables).
    required_keys: set[str] = field(default_factory=set)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def value_text(value: Any) -> str:
    """Return the text of a JSON condition value, as the policy parser reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def variables_in(text: str) -> list[tuple[str, bool]]:
    """Return (lowercased key, has default) for each policy variable in `text`."""
    found = []
    for inner in _VARIABLE.findall(text):
        if inner in ("*", "?", "$"):
            continue
        key, _, default = inner.partition(", ")
        found.append((key.strip().lower(), bool(default)))
    return found


def vocabulary_of(document: dict[str, Any]) -> Vocabulary:
    vocabulary = Vocabulary()
    for statement in document["Statement"]:
        vocabulary.action_patterns += as_list(statement.get("Action", statement.get("NotAction")))
        for element in ("Resource", "NotResource"):
            for pattern in as_list(statement.get(element, [])):
                vocabulary.resource_patterns.append(pattern)
                note_variables(vocabulary, pattern, negated=element == "NotResource")
        for operator, block in statement.get("Condition", {}).items():
            negated = "Not" in operator
            for key, values in block.items():
                texts = [value_text(v) for v in as_list(values)]
                # The values of a Null condition are no values of its key: a
                # `false` drawn for a numeric key would be an unparsable value
                # (see the named test of unparsable values).
                vocabulary.key_values.setdefault(key.lower(), []).extend(texts if operator != "Null" else [])
                if ":" not in operator and operator != "Null":
                    vocabulary.single_keys.add(key.lower())
                for text in texts:
                    note_variables(vocabulary, text, negated)
    return vocabulary


def note_variables(vocabulary: Vocabulary, text: str, negated: bool) -> None:
    for key, has_default in variables_in(text):
        vocabulary.variable_keys.add(key)
        vocabulary.key_values.setdefault(key, [])
        if negated and not has_default:
            vocabulary.required_keys.add(key)


def resolved_variable(inner: str, context: dict[str, Any]) -> str | None:
    """Return the request value of a variable's key, or its default."""
    key, _, default = inner.partition(", ")
    for name, value in context.items():
        if name.lower() == key.strip().lower() and isinstance(value, str) and value:
            return value
    return default[1:-1] if default else None


def ascii_swapcase(text: str) -> str:
    """Swap the case of ASCII letters only (see the named test of non-ASCII case)."""
    return "".join(char.swapcase() if char.isascii() else char for char in text)


def fill(
    draw: st.DrawFn,
    pattern: str,
    context: dict[str, Any],
    star: tuple[tuple[str, ...], tuple[str, ...]],
    qmark: tuple[tuple[str, ...], tuple[str, ...]],
) -> str:
    """Replace the wildcards and policy variables of `pattern` with text.

    `star` and `qmark` give the fillers before and after the fifth colon of
    the pattern. A variable mostly becomes the value it resolves to in
    `context`.
    """
    parts: list[str] = []
    colons = 0
    for token in _TOKEN.findall(pattern):
        part = 1 if colons >= 5 else 0
        if token == "*":
            parts.append(pick(draw, star[part]))
        elif token == "?":
            parts.append(pick(draw, qmark[part]))
        elif token in _ESCAPES:
            parts.append(_ESCAPES[token])
        elif token.startswith("${") and token.endswith("}"):
            resolved = resolved_variable(token[2:-1], context)
            if resolved is None or pick(draw, (True, False, False, False)):
                parts.append(pick(draw, VARIABLE_VALUES))
            else:
                parts.append(resolved)
        else:
            parts.append(token)
            colons += token.count(":")
    return "".join(parts)


def almost(draw: st.DrawFn, text: str, start: int = 0) -> str:
    """Often return `text` unchanged, else change its end or the case of text[start:]."""
    change = pick(draw, ("none", "none", "none", "drop_last", "append", "swap_case"))
    if change == "drop_last" and len(text) > start:
        return text[:-1]
    if change == "append":
        return text + pick(draw, ("a", "/", ":"))
    if change == "swap_case":
        return text[:start] + ascii_swapcase(text[start:])
    return text


def fill_string(draw: st.DrawFn, pattern: str, context: dict[str, Any]) -> str:
    fillers_star = (STRING_STAR_FILLERS, STRING_STAR_FILLERS)
    fillers_qmark = (STRING_QMARK_FILLERS, STRING_QMARK_FILLERS)
    return almost(draw, fill(draw, pattern, context, fillers_star, fillers_qmark))


def fill_arn(draw: st.DrawFn, pattern: str, context: dict[str, Any]) -> str:
    """Fill an ARN pattern, then change only its resource part.

    The fillers of the first five fields contain no colon, so the filled ARN
    keeps the five fields of the pattern, and the change keeps them too.
    """
    text = fill(
        draw,
        pattern,
        context,
        (PREFIX_STAR_FILLERS, RESOURCE_STAR_FILLERS),
        (PREFIX_QMARK_FILLERS, RESOURCE_QMARK_FILLERS),
    )
    resource_part_start = len(":".join(text.split(":", 5)[:5])) + 1
    return almost(draw, text, resource_part_start)


TYPED_REQUEST_VALUES = {
    "binary": BINARY_REQUEST_VALUES,
    "number": NUMBER_REQUEST_VALUES,
    "iso_date": ISO_REQUEST_VALUES,
    "epoch": EPOCH_REQUEST_VALUES,
    "bool": BOOL_REQUEST_VALUES,
    "ip": IP_REQUEST_VALUES,
}


def scalar_value(draw: st.DrawFn, key: str, vocabulary: Vocabulary, context: dict[str, Any]) -> str:
    """Draw one request value for `key`, often filled from the policy's values for it."""
    key_type = KEY_TYPES[CANONICAL_KEYS[key]]
    policy_texts = vocabulary.key_values.get(key, [])
    from_policy = bool(policy_texts) and pick(draw, (True, False))
    if key_type in ("string", "multi", "variable"):
        pool = VARIABLE_VALUES if key_type == "variable" else STRING_REQUEST_VALUES
        value = fill_string(draw, pick(draw, policy_texts), context) if from_policy else pick(draw, pool)
        if key_type == "variable" and (value == "" or "*" in value or "?" in value):
            value = pick(draw, VARIABLE_VALUES)
        return value
    if key_type == "arn":
        value = fill_arn(draw, pick(draw, policy_texts), context) if from_policy else ""
        # A value with fewer than six fields is no ARN for the oracle.
        return value if value.count(":") >= 5 else pick(draw, ARN_REQUEST_VALUES)
    if from_policy and key_type in ("number", "iso_date", "epoch", "binary"):
        # A request value equal to a policy value tests the edge of each
        # ordering. IP and Bool policy values are no valid request values.
        return pick(draw, policy_texts)
    return pick(draw, TYPED_REQUEST_VALUES[key_type])


def context_for(draw: st.DrawFn, vocabulary: Vocabulary) -> dict[str, Any]:
    context: dict[str, Any] = {}
    # Variable keys first, so that the values of other keys can be filled
    # from patterns that use them.
    ordered = sorted(vocabulary.key_values, key=lambda k: (k not in vocabulary.variable_keys, k))
    for key in ordered:
        if key not in vocabulary.required_keys and pick(draw, (True, False, False, False)):
            continue  # the key is absent from the request
        canonical = CANONICAL_KEYS[key]
        name = pick(draw, (canonical, canonical.lower(), canonical.upper()))
        multivalued = key not in vocabulary.single_keys and key not in vocabulary.variable_keys
        # No empty list: `evaluate` reads it as an absent key, the oracle as
        # a present key without values (see the named test).
        if multivalued and pick(draw, (True, False)):
            count = pick(draw, (1, 2, 3))
            context[name] = tuple(scalar_value(draw, key, vocabulary, context) for _ in range(count))
        else:
            context[name] = scalar_value(draw, key, vocabulary, context)
    return context


def request_for(draw: st.DrawFn, vocabulary: Vocabulary) -> Request:
    """Draw one request on the edges of the policy that `vocabulary` describes."""
    context = context_for(draw, vocabulary)

    action = pick(draw, REQUEST_ACTIONS)
    if pick(draw, (True, False)):
        pattern = pick(draw, vocabulary.action_patterns)
        action = almost(draw, fill(draw, pattern, context, (ACTION_STAR_FILLERS,) * 2, (ACTION_QMARK_FILLERS,) * 2))
    if action.count(":") != 1 or action.endswith(":"):
        action = pick(draw, REQUEST_ACTIONS)

    arn_patterns = [p for p in vocabulary.resource_patterns if p != "*"]
    kind = pick(draw, ("fixed", "random", "policy", "policy", "policy"))
    if kind == "policy" and arn_patterns:
        resource = fill_arn(draw, pick(draw, arn_patterns), context)
    elif kind == "random":
        resource = pick(draw, RANDOM_RESOURCE_PREFIXES) + draw(RANDOM_RESOURCE_PARTS)
    else:
        resource = pick(draw, ARN_REQUEST_VALUES)
    # The oracle reads `*` in a request resource as a wildcard request.
    resource = resource.replace("*", "x").replace("?", "x")
    return Request(action=action, resource=resource, context=context)


@st.composite
def request_batches(draw: st.DrawFn, vocabulary: Vocabulary) -> list[Request]:
    return [request_for(draw, vocabulary) for _ in range(REQUESTS_PER_POLICY)]


# --- Comparison --------------------------------------------------------------


def parse(document: dict[str, Any]) -> PolicyDocument:
    return parse_policy_text(json.dumps(document))


def decision_name(decision: Decision) -> str:
    if decision.allowed:
        return "Allowed"
    return "ExplicitlyDenied" if decision.explicit_deny else "ImplicitlyDenied"


def resource_readings_differ(policy: PolicyDocument, request: Request) -> bool:
    """Return whether two readings of colons in Resource patterns decide `request` differently.

    `arn_matches` lets a `*` that ends an ARN field span colons, and keeps
    other wildcards of the resource part within colons. `arn_condition_matches`
    matches the first five fields separately and lets wildcards in the
    resource part match colons, which is how the oracle reads every Resource.
    Both rules have named tests.
    """
    for statement in policy.statements:
        for negated in (False, True):
            for pattern in statement.resource_patterns(negated=negated) or ():
                ours = arn_matches(pattern, request.resource, request.context)
                if ours != arn_condition_matches(pattern, request.resource, request.context):
                    return True
    return False


def describe(request: Request) -> str:
    return f"action={request.action!r} resource={request.resource!r} context={dict(request.context)!r}"


def test_evaluator_agrees_with_oracle(oracle: oracle_client.Oracle) -> None:
    counts: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    overridden: Counter[str] = Counter()

    @settings(
        max_examples=POLICY_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def compare(data: st.DataObject) -> None:
        document = data.draw(policy_documents(), label="policy")
        note(f"policy as JSON: {json.dumps(document)}")
        policy = parse(document)
        vocabulary = vocabulary_of(document)
        drawn = data.draw(request_batches(vocabulary), label="requests")
        requests = [r for r in drawn if not resource_readings_differ(policy, r)]
        dropped["resource guard"] += len(drawn) - len(requests)

        responses = oracle.decide(document, requests)
        for request, response in zip(requests, responses, strict=True):
            assert response["error"] is None, f"oracle error {response['error']} for {describe(request)}"
            decision = evaluate(policy, request)
            ours = decision_name(decision)
            theirs = response["decision"]
            assert ours == theirs, f"evaluate: {ours}, oracle: {theirs} for {describe(request)}"
            counts[ours] += 1
            if decision.allow_statements and decision.deny_statements:
                overridden["Allow overridden by Deny"] += 1

    compare()

    comparisons = sum(counts.values())
    print(f"\n{comparisons} comparisons: {dict(counts | overridden)}, requests dropped: {dict(dropped)}")
    assert comparisons >= MIN_COMPARISONS
    assert counts["Allowed"] >= MIN_PER_OUTCOME
    assert counts["ExplicitlyDenied"] >= MIN_PER_OUTCOME
    assert overridden["Allow overridden by Deny"] >= MIN_PER_OUTCOME


# --- Named divergences -------------------------------------------------------
# Each test records one input on which the two evaluators differ on purpose.
# `evaluate` returns the decision that the AWS documentation describes. Where
# the AWS pages are silent, it follows the rule that verifier/evaluate.py
# documents. The oracle returns another decision, and the random test keeps
# away from these inputs.


def allow_statement(**elements: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": ACTION, "Resource": RESOURCE, **elements}


def not_resource_statement(pattern: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": ACTION, "NotResource": pattern}


def context_request(context: dict[str, Any], resource: str = RESOURCE) -> Request:
    return Request(ACTION, resource, context=context)


def both_allow(
    oracle: oracle_client.Oracle,
    statement: dict[str, Any],
    request: Request,
    version: str = VERSION_2012,
) -> tuple[bool, bool]:
    """Return whether `evaluate` and the oracle allow `request` under a one-statement policy."""
    document = {"Version": version, "Statement": [statement]}
    ours = evaluate(parse(document), request).allowed
    [response] = oracle.decide(document, [request])
    assert response["error"] is None, response["error"]
    return ours, response["decision"] == "Allowed"


def test_mixed_date_formats(oracle: oracle_client.Oracle) -> None:
    # Date values may be ISO 8601 or epoch time, both naming an instant: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
    statement = allow_statement(Condition={"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}})
    request = context_request({"aws:CurrentTime": "1717200000"})  # 2024-06-01T00:00:00Z

    ours, theirs = both_allow(oracle, statement, request)

    assert ours is True
    # The oracle compares epoch seconds with ISO dates in milliseconds.
    assert theirs is False


def test_wildcard_and_line_break(oracle: oracle_client.Oracle) -> None:
    # In StringLike, `*` matches any run of characters: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    statement = allow_statement(Condition={"StringLike": {"test:str": "a*"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:str": "a\nb"}))

    assert ours is True
    assert theirs is False


def test_question_mark_and_non_bmp_character(oracle: oracle_client.Oracle) -> None:
    # In StringLike, `?` matches one character: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    statement = allow_statement(Condition={"StringLike": {"test:str": "?"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:str": "\U0001f600"}))

    assert ours is True
    # The oracle counts UTF-16 code units, two for this emoji.
    assert theirs is False


def test_regex_punctuation_in_arn_prefix(oracle: oracle_client.Oracle) -> None:
    # Only `*` and `?` are wildcards in the segments of a Resource ARN: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
    statement = allow_statement(Resource="arn:aws:ec2:us.east-1:111122223333:instance/i-1")
    request = Request(ACTION, "arn:aws:ec2:us-east-1:111122223333:instance/i-1")

    ours, theirs = both_allow(oracle, statement, request)

    assert ours is False
    # The oracle reads `.` in the region field as a regular expression.
    assert theirs is True


def test_case_of_arn_prefix(oracle: oracle_client.Oracle) -> None:
    # The AWS pages name only the IAM user name as case-sensitive, and arn_matches documents case-sensitive matching of the whole ARN: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    statement = allow_statement(Resource="arn:aws:ec2:us-east-1:111122223333:instance/i-1")
    request = Request(ACTION, "arn:aws:EC2:US-EAST-1:111122223333:instance/i-1")

    ours, theirs = both_allow(oracle, statement, request)

    assert ours is False
    # The oracle compares the partition, service, region and account fields ignoring case.
    assert theirs is True


def test_if_exists_under_set_qualifier(oracle: oracle_client.Oracle) -> None:
    # With IfExists, a condition on an absent key is true: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
    statement = allow_statement(Condition={"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}})

    ours, theirs = both_allow(oracle, statement, context_request({}))

    assert ours is True
    # The oracle ignores IfExists after ForAnyValue and ForAllValues.
    assert theirs is False


def test_lenient_number(oracle: oracle_client.Oracle) -> None:
    # Numeric operators compare integers or decimals: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    statement = allow_statement(Condition={"NumericEquals": {"test:num": "10"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:num": "10abc"}))

    assert ours is False
    # The oracle reads the leading digits of `10abc` as 10.
    assert theirs is True


def test_star_ending_arn_prefix_field(oracle: oracle_client.Oracle) -> None:
    # A `*` that is the last character of an ARN segment can match beyond the colon: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
    statement = allow_statement(Resource="arn:aws:ec2:*:111122223333:instance/i-1")
    request = Request(ACTION, "arn:aws:ec2:us-east-1:x:111122223333:instance/i-1")

    ours, theirs = both_allow(oracle, statement, request)

    assert ours is True
    # The oracle matches each of the first five fields separately.
    assert theirs is False


def test_empty_variable_value(oracle: oracle_client.Oracle) -> None:
    # A default applies when the variable's key has no value, and a default is any quoted text: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-default-values
    with_default = allow_statement(Condition={"StringEquals": {"test:str": "x${aws:username, 'd'}"}})
    empty_value = context_request({"aws:username": "", "test:str": "xd"})
    empty_default = allow_statement(Condition={"StringEquals": {"test:str": "x${aws:username, ''}"}})
    absent_key = context_request({"test:str": "x"})

    ours_empty_value, theirs_empty_value = both_allow(oracle, with_default, empty_value)
    ours_empty_default, theirs_empty_default = both_allow(oracle, empty_default, absent_key)

    # An empty request value counts as no value in both evaluators.
    assert ours_empty_value is True
    assert theirs_empty_value is True
    assert ours_empty_default is True
    # The oracle ignores an empty default.
    assert theirs_empty_default is False


def test_plain_operator_on_one_element_list(oracle: oracle_client.Oracle) -> None:
    # The AWS pages leave a plain operator on a multivalued key undefined, and condition_matches documents reading one value as that value: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    statement = allow_statement(Condition={"StringEquals": {"test:str": "a"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:str": ("a",)}))

    assert ours is True
    # The oracle never matches a plain operator on a list.
    assert theirs is False


# --- Further divergences found by the random test or by reading the oracle ---


def test_ipv4_block_of_length_zero(oracle: oracle_client.Oracle) -> None:
    # IP address values use the standard CIDR format: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
    statement = allow_statement(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})

    ours, theirs = both_allow(oracle, statement, context_request({"aws:SourceIp": "203.0.113.7"}))

    assert ours is True
    # The oracle shifts a 32-bit mask by 32, which JavaScript reads as 0, so
    # the block contains only 0.0.0.0.
    assert theirs is False


def test_not_ip_address_with_single_ipv4_address(oracle: oracle_client.Oracle) -> None:
    # An address without a prefix length is a /32 block: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
    single = allow_statement(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.1"}})
    block = allow_statement(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.1/32"}})
    request = context_request({"aws:SourceIp": "2001:db8::1"})

    ours, theirs = both_allow(oracle, single, request)
    _, theirs_block = both_allow(oracle, block, request)

    assert ours is True
    # The oracle lets an IPv6 address pass NotIpAddress with a /32 block but
    # not with the same address written without a prefix length.
    assert theirs_block is True
    assert theirs is False


def test_unresolved_variable_in_negated_operator(oracle: oracle_client.Oracle) -> None:
    # `_resolve_variable` reads a variable without a value as null, as the variables page does, so a negated operator matches. The 2023 copy of the page calls such a statement invalid instead: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value
    statement = allow_statement(Condition={"StringNotEquals": {"test:str": "${aws:username}"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:str": "x"}))

    assert ours is True
    # The oracle makes every comparison with an unresolved variable false.
    assert theirs is False


def test_unresolved_variable_in_not_resource(oracle: oracle_client.Oracle) -> None:
    # A Resource or NotResource entry with a variable that has no value matches no resource: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-no-value
    statement = not_resource_statement("arn:aws:s3:::bucket/${aws:username}")

    ours, theirs = both_allow(oracle, statement, context_request({}))

    assert ours is True
    assert theirs is False


def test_resource_part_wildcards_and_colons(oracle: oracle_client.Oracle) -> None:
    # Wildcards apply within the colon-separated segments of an ARN, and only a segment's last `*` crosses a colon: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
    question_mark = allow_statement(Resource="arn:aws:s3:::bucket/a?b")
    inner_star = allow_statement(Resource="arn:aws:s3:::bucket/a*b")

    ours_question_mark, theirs_question_mark = both_allow(oracle, question_mark, Request(ACTION, "arn:aws:s3:::bucket/a:b"))
    ours_inner_star, theirs_inner_star = both_allow(oracle, inner_star, Request(ACTION, "arn:aws:s3:::bucket/a:x:b"))

    assert ours_question_mark is False
    assert ours_inner_star is False
    # The oracle lets every wildcard of the resource part match a colon.
    assert theirs_question_mark is True
    assert theirs_inner_star is True


def test_variables_under_version_2008(oracle: oracle_client.Oracle) -> None:
    # Without Version 2012-10-17, `${aws:username}` is literal text: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-using-variables
    statement = allow_statement(Resource="arn:aws:s3:::bucket/${aws:username}")
    request = Request(ACTION, "arn:aws:s3:::bucket/${aws:username}")

    ours, theirs = both_allow(oracle, statement, request, version=VERSION_2008)

    assert ours is True
    # The oracle substitutes variables whatever the Version.
    assert theirs is False


def test_escape_outside_like_operator(oracle: oracle_client.Oracle) -> None:
    # `${*}`, `${?}` and `${$}` may appear in any string that takes policy variables: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
    statement = allow_statement(Condition={"StringEquals": {"test:str": "a${?}"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:str": "a?"}))

    assert ours is True
    # The oracle keeps `${?}` as five literal characters outside StringLike.
    assert theirs is False


def test_non_ascii_letters_ignore_case(oracle: oracle_client.Oracle) -> None:
    # The AWS pages do not say how non-ASCII letters compare, and ascii_lower documents folding A-Z only: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    statement = allow_statement(Condition={"StringEqualsIgnoreCase": {"test:str": "\u00e9"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:str": "\u00c9"}))

    assert ours is False
    assert theirs is True


def test_arn_like_lone_star(oracle: oracle_client.Oracle) -> None:
    # The AWS pages do not say what a pattern with fewer than six ARN components matches, and arn_condition_matches documents that `*` alone matches any value: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    statement = allow_statement(Condition={"ArnLike": {"aws:SourceArn": "*"}})
    request = context_request({"aws:SourceArn": "arn:aws:sqs:us-east-1:111122223333:queue1"})

    ours, theirs = both_allow(oracle, statement, request)

    assert ours is True
    # The oracle reads `*` as an invalid ARN.
    assert theirs is False


def test_wildcard_resource_type_word(oracle: oracle_client.Oracle) -> None:
    # Wildcards may appear anywhere within an ARN segment, and the pages give the resource-type word no other rule: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
    statement = allow_statement(Resource="arn:aws:iam::111122223333:*/alice")
    request = Request(ACTION, "arn:aws:iam::111122223333:user/alice")

    ours, theirs = both_allow(oracle, statement, request)

    assert ours is True
    # Outside S3, the oracle compares the text before the first `/` or `:` of
    # the resource part as literal text.
    assert theirs is False


def test_unparsable_value_under_negated_operator(oracle: oracle_client.Oracle) -> None:
    # The AWS pages do not say what an unparsable request value does, and _value_matches documents that it never matches, so a negated operator is true: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    statement = allow_statement(Condition={"NumericNotEquals": {"test:num": "1"}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:num": "ten"}))

    assert ours is True
    assert theirs is False


def test_unparsable_value_under_qualified_negated_operator(oracle: oracle_client.Oracle) -> None:
    # The AWS pages do not say what an unparsable request value does, and _value_matches documents that it equals no policy value, so ForAnyValue:NumericNotEquals holds for it: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    statement = allow_statement(Condition={"ForAnyValue:NumericNotEquals": {"test:num": ["10", "0"]}})

    ours, theirs = both_allow(oracle, statement, context_request({"test:num": "false"}))

    assert ours is True
    assert theirs is False


def test_empty_value_list(oracle: oracle_client.Oracle) -> None:
    # A key without values is absent for `_context_values`, and Null "true" means an absent key: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
    statement = allow_statement(Condition={"Null": {"aws:TagKeys": "true"}})

    ours, theirs = both_allow(oracle, statement, context_request({"aws:TagKeys": ()}))

    assert ours is True
    # The oracle reads an empty list as a present key.
    assert theirs is False


def test_request_resource_star_against_narrower_resource(oracle: oracle_client.Oracle) -> None:
    # An action without resource-level permissions is granted with `"Resource": "*"`, so `evaluate` matches the request resource `*` as literal text and a narrower pattern does not grant it: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html and https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html#actions_table
    action = "s3:ListAllMyBuckets"  # has no resource types
    narrower = {"Effect": "Allow", "Action": action, "Resource": "arn:aws:s3:::bucket/*"}
    every_resource = {"Effect": "Allow", "Action": action, "Resource": "*"}
    request = Request(action, "*")

    ours_narrower, theirs_narrower = both_allow(oracle, narrower, request)
    ours_every_resource, theirs_every_resource = both_allow(oracle, every_resource, request)

    assert ours_narrower is False
    # The oracle reads `*` in a request resource as a wildcard that matches any Resource pattern.
    assert theirs_narrower is True
    assert ours_every_resource is True
    assert theirs_every_resource is True
