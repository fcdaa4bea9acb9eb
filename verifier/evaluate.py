"""Evaluation of one fully concrete request against one policy document.

This module is the reference semantics of iamverify: every counterexample that
the symbolic encoder finds is replayed through `evaluate`.
Each rule below cites the page of the IAM User Guide that it encodes, and a
comment marks each spot where those pages are silent and the project chose.
The module never imports z3.
"""

from __future__ import annotations

import re
from functools import lru_cache
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from operator import eq, ge, gt, le, lt

from verifier.policy.document import Condition, PolicyDocument, Principal, Statement
from verifier.policy.operators import Family, Operator, Qualifier
from verifier.policy.pattern import QMARK, STAR, Pattern, Token, Variable, parse_pattern
from verifier.policy.values import (
    parse_address,
    parse_bool,
    parse_date,
    parse_network,
    parse_number,
)

Context = Mapping[str, str | tuple[str, ...]]
"""Request context that maps each condition key to one value, or to a tuple
of values for a multivalued key."""


@dataclass(frozen=True)
class Request:
    """One concrete request: action, resource ARN, calling principal and context.

    Context keys are matched case-insensitively, so two keys that differ only
    in case raise ValueError.
    """

    action: str
    resource: str
    principal: str | None = None
    context: Context = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for key in self.context:
            folded = _fold_key(key)
            if folded in seen:
                raise ValueError(
                    f"context keys `{seen[folded]}` and `{key}` name the same condition key "
                    "because key names are case-insensitive. Keep only one of them."
                )
            seen[folded] = key


@dataclass(frozen=True)
class Decision:
    """Outcome of `evaluate`, with the statements that matched the request."""

    allowed: bool
    explicit_deny: bool
    allow_statements: tuple[Statement, ...]
    deny_statements: tuple[Statement, ...]


def evaluate(policy: PolicyDocument, request: Request) -> Decision:
    """Decide `request` against the single policy `policy`.

    The request is allowed when an Allow statement matches and no Deny
    statement does. Without a matching Allow it is implicitly denied. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    """
    allows = tuple(s for s in policy.allow_statements if statement_matches(s, request))
    denies = tuple(s for s in policy.deny_statements if statement_matches(s, request))
    return Decision(
        allowed=bool(allows) and not denies,
        explicit_deny=bool(denies),
        allow_statements=allows,
        deny_statements=denies,
    )


def statement_matches(statement: Statement, request: Request) -> bool:
    """Return whether action, resource, principal and every condition match."""
    return (
        _action_element_matches(statement, request.action)
        and _resource_element_matches(statement, request)
        and _principal_element_matches(statement, request.principal)
        and all(condition_matches(statement, c, request) for c in statement.conditions)
    )


# --- Action -----------------------------------------------------------------


def _action_element_matches(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any(action_matches(pattern, action) for pattern in statement.actions)
    if statement.not_actions is not None:
        return not any(action_matches(pattern, action) for pattern in statement.not_actions)
    raise ValueError(f"{statement.label} has neither `Action` nor `NotAction`")


def action_matches(pattern_text: str, action: str) -> bool:
    """Match an action against one `Action` pattern, ignoring ASCII case.

    `*` matches any sequence of characters, including the empty one and `:`,
    and `?` matches exactly one character. Action patterns take no policy
    variables. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    """
    if pattern_text == "*":
        return True
    tokens = parse_pattern(ascii_lower(pattern_text), variables=False, wildcards=True)
    return _glob_matches(tokens, ascii_lower(action), context={})


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(text: str) -> str:
    """Lowercase the letters A-Z and keep every other character as it is.

    This is the project's definition of case-insensitive comparison. The AWS
    pages do not say how non-ASCII letters compare, so here the Kelvin sign
    (U+212A) is not equal to `k`, unlike with `str.lower`.
    """
    return text.translate(_ASCII_LOWER)


# --- Resource ---------------------------------------------------------------


def _resource_element_matches(statement: Statement, request: Request) -> bool:
    """Match `Resource` (any pattern) or `NotResource` (no pattern).

    A statement with neither, as in trust and other resource-based policies,
    matches every resource. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    """
    patterns = statement.resource_patterns()
    if patterns is not None:
        return any(arn_matches(p, request.resource, request.context) for p in patterns)
    not_patterns = statement.resource_patterns(negated=True)
    if not_patterns is not None:
        return not any(arn_matches(p, request.resource, request.context) for p in not_patterns)
    return True


def arn_matches(pattern: tuple[Token, ...], value: str, context: Context) -> bool:
    """Match an ARN against a Resource or NotResource pattern.

    Matching is case-sensitive. Wildcards stay within one colon-separated
    segment. A `*` that ends a segment (the last token of the pattern, or
    followed by literal text starting with `:`) can expand beyond the colon
    boundaries, and `?` never matches a colon. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html

    A policy variable that cannot be resolved makes the pattern match nothing.
    """
    regex = _arn_regex(pattern, context, _resource_wildcard)
    return regex is not None and _full_match(regex, value)


def arn_condition_matches(pattern: tuple[Token, ...], value: str, context: Context) -> bool:
    """Match a value against an ArnEquals/ArnLike/ArnNotEquals/ArnNotLike pattern.

    The condition operators page documents that each of the six
    colon-delimited components of the ARN is checked separately, with `*`
    and `?` as wildcards
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN).
    So in the first five components wildcards match no colon, and in the
    sixth (the resource, which may itself contain colons) they match any
    character. The docs do not say what a pattern of fewer than six
    components matches. Here it matches only values with as many, except
    that the pattern `*` alone matches any value.
    """
    if pattern == (STAR,):
        return True
    regex = _arn_regex(pattern, context, _component_wildcard)
    return regex is not None and _full_match(regex, value)


WildcardRule = Callable[[Pattern, int, int], str]


def _resource_wildcard(pattern: Pattern, position: int, colons: int) -> str:
    if pattern[position] is QMARK:
        return "[^:]"
    following = pattern[position + 1] if position + 1 < len(pattern) else None
    ends_segment = following is None or (isinstance(following, str) and following.startswith(":"))
    return ".*" if ends_segment else "[^:]*"


def _component_wildcard(pattern: Pattern, position: int, colons: int) -> str:
    in_resource = colons >= 5
    if pattern[position] is QMARK:
        return "." if in_resource else "[^:]"
    return ".*" if in_resource else "[^:]*"


def _arn_regex(pattern: Pattern, context: Context, wildcard: WildcardRule) -> str | None:
    """Build the regex of an ARN pattern, or None for an unresolved variable.

    `wildcard` gives the regex of the wildcard at a position, from the number
    of literal colons before it. Colons inside a substituted value are literal
    characters: the segments are those of the pattern text.
    """
    parts: list[str] = []
    colons = 0
    for position, token in enumerate(pattern):
        if isinstance(token, str):
            parts.append(re.escape(token))
            colons += token.count(":")
        elif isinstance(token, Variable):
            value = _resolve_variable(token, context)
            if value is None:
                return None
            parts.append(re.escape(value))
        else:
            parts.append(wildcard(pattern, position, colons))
    return "".join(parts)


# --- Principal --------------------------------------------------------------

_ACCOUNT_ID = re.compile(r"[0-9]{12}")


# Unbounded repeats above which a pattern is refused: Python's regular
# expressions backtrack, and a Resource of 1,000 `*a?` groups took minutes.
# The encoder refuses patterns with more than 100 wildcards likewise.
MAX_REPEATS = 200


@lru_cache(maxsize=65536)
def _compiled(regex: str) -> re.Pattern[str]:
    # The `re` module keeps only 512 compiled patterns, fewer than a large
    # managed policy has, so the evaluator keeps its own cache.
    if len(re.findall(r"(?<!\\)[*+]", regex)) > MAX_REPEATS:
        from verifier.errors import UnsupportedFeatureError

        raise UnsupportedFeatureError(f"a pattern with more than {MAX_REPEATS} wildcards is not evaluated")
    return re.compile(regex, re.DOTALL)


def _full_match(regex: str, value: str) -> bool:
    return _compiled(regex).fullmatch(value) is not None


def _principal_element_matches(statement: Statement, principal: str | None) -> bool:
    """Match `Principal` or `NotPrincipal`. A statement with neither matches every principal."""
    if statement.principal is not None:
        return _principal_listed(statement.principal, principal, negated=False)
    if statement.not_principal is not None:
        return not _principal_listed(statement.not_principal, principal, negated=True)
    return True


_ROLE_ARN = re.compile(r"arn:([^:]+):iam::([0-9]{12}):role/(?:.*/)?([^/]+)")
_ROOT_ARN = re.compile(r"arn:([^:]+):iam::([0-9]{12}):root")


def _principal_listed(element: Principal, principal: str | None, negated: bool) -> bool:
    """Return whether `principal` is one of the principals an element names.

    A request principal is written as an ARN (`...:user/...`, `...:root`,
    an `assumed-role` or `federated-user` session), a service name such as
    `ec2.amazonaws.com`, `federated:PROVIDER`, `canonical-user:ID`, or
    `anonymous`. Rules, from the Principal element page
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
    `"*"` names everyone, anonymous callers included; an account ID or its
    `root` ARN names every principal of that account; a role ARN names the
    role and its assumed-role sessions, except in `NotPrincipal`, where the
    page says a role ARN does not cover the sessions. In `NotPrincipal` the
    docs do not say that an account covers its principals; here it names
    only the account's root principal.
    """
    if element.is_everyone() or "*" in element.aws:
        return True
    if principal is None:
        return False
    for name in element.aws:
        if _aws_principal_matches(name, principal, negated):
            return True
    if principal in element.service:
        return True
    if principal.startswith("federated:") and principal[len("federated:") :] in element.federated:
        return True
    return principal.startswith("canonical-user:") and principal[len("canonical-user:") :] in element.canonical_user


def _aws_principal_matches(name: str, principal: str, negated: bool) -> bool:
    account = name if _ACCOUNT_ID.fullmatch(name) else None
    root = _ROOT_ARN.fullmatch(name)
    if root:
        account = root.group(2)
    if account is not None:
        if negated:
            return principal == (name if root else f"arn:aws:iam::{account}:root")
        partition = re.escape(root.group(1)) if root else "[^:]+"
        return _full_match(f"arn:{partition}:(iam|sts)::{account}:.+", principal)
    # Only an ARN names one principal: a service name or a placeholder in
    # the AWS list matches no caller.
    if principal == name and name.startswith("arn:"):
        return True
    role = _ROLE_ARN.fullmatch(name)
    if role and not negated:
        partition, account, role_name = (re.escape(part) for part in role.groups())
        return _full_match(f"arn:{partition}:sts::{account}:assumed-role/{role_name}/[^/]+", principal)
    return False


# --- Condition --------------------------------------------------------------


def condition_matches(statement: Statement, condition: Condition, request: Request) -> bool:
    """Decide one (operator, key) entry of a statement's `Condition` block.

    Each request value is compared with the policy values, which are OR'ed.
    A negated operator such as `StringNotEquals` is true for a request value
    that matches none of them. `ForAllValues` requires every request value to
    match, `ForAnyValue` at least one. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
    """
    operator = condition.operator
    values = _context_values(request.context, condition.key)
    if operator.family is Family.NULL:
        return _null_matches(condition, key_present=bool(values))
    if not values:
        return _absent_key_matches(operator)

    if operator.qualifier is None:
        # The docs do not define an operator without a set qualifier on a
        # multivalued key, so a request with two or more values never matches.
        if len(values) != 1:
            return False
        return _request_value_matches(statement, condition, values[0], request.context)

    results = (
        _request_value_matches(statement, condition, value, request.context) for value in values
    )
    if operator.qualifier is Qualifier.FOR_ALL_VALUES:
        return all(results)
    return any(results)


def _absent_key_matches(operator: Operator) -> bool:
    """Decide a condition whose key is not in the request context.

    A positive operator is false and a negated one true, unless the operator
    ends in `IfExists`, which makes it true. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    `ForAllValues` is true for an empty set of request values and `ForAnyValue`
    false. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
    """
    if operator.qualifier is Qualifier.FOR_ALL_VALUES:
        return True
    if operator.qualifier is Qualifier.FOR_ANY_VALUE:
        # The docs do not combine ForAnyValue with IfExists, so the project
        # applies the usual IfExists rule: an absent key makes it true.
        return operator.if_exists
    return operator.if_exists or operator.negated


def _null_matches(condition: Condition, key_present: bool) -> bool:
    """Decide `Null`: the value `true` means the key is absent, `false` present.

    Several values are OR'ed like the values of any other operator. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
    """
    return any(parse_bool(value) == (not key_present) for value in condition.values)


def _request_value_matches(
    statement: Statement, condition: Condition, request_value: str, context: Context
) -> bool:
    """Compare one request value with all policy values of a condition."""
    operator = condition.operator
    any_match = any(
        _value_matches(statement, operator, request_value, policy_value, context)
        for policy_value in condition.values
    )
    return not any_match if operator.negated else any_match


def _value_matches(
    statement: Statement,
    operator: Operator,
    request_value: str,
    policy_value: str,
    context: Context,
) -> bool:
    """Apply the positive comparison of `operator` to one pair of values.

    A request value that does not parse as the operator's type never matches.
    Policy variables are substituted only in String, Arn and Bool values. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    """
    family = operator.family
    comparison = operator.base.comparison
    if family is Family.STRING:
        return _string_matches(statement, comparison, request_value, policy_value, context)
    if family is Family.ARN:
        pattern = statement.condition_pattern(policy_value, wildcards=True)
        return arn_condition_matches(pattern, request_value, context)
    if family is Family.BOOL:
        return _bool_matches(statement, request_value, policy_value, context)
    if family is Family.BINARY:
        # Both sides are compared as base64 text.
        return request_value == policy_value
    if family is Family.NUMERIC:
        return _ordered_matches(parse_number, comparison, request_value, policy_value)
    if family is Family.DATE:
        return _ordered_matches(parse_date, comparison, request_value, policy_value)
    if family is Family.IP:
        return _ip_matches(request_value, policy_value)
    raise ValueError(f"operator `{operator.text}` has no value comparison")


def _string_matches(
    statement: Statement,
    comparison: str,
    request_value: str,
    policy_value: str,
    context: Context,
) -> bool:
    """Compare strings: `like` globs case-sensitively, `equals` is exact, and
    `equals_ignore_case` compares after `ascii_lower`."""
    if comparison == "like":
        pattern = statement.condition_pattern(policy_value, wildcards=True)
        return _glob_matches(pattern, request_value, context)
    expected = _substitute(statement.condition_pattern(policy_value, wildcards=False), context)
    if expected is None:
        return False
    if comparison == "equals_ignore_case":
        return ascii_lower(request_value) == ascii_lower(expected)
    return request_value == expected


def _bool_matches(
    statement: Statement, request_value: str, policy_value: str, context: Context
) -> bool:
    expected_text = _substitute(statement.condition_pattern(policy_value, wildcards=False), context)
    if expected_text is None:
        return False
    actual = parse_bool(request_value)
    # A substituted value that is neither true nor false matches nothing. The
    # docs do not say what happens then.
    return actual is not None and actual == parse_bool(expected_text)


_ORDERINGS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "eq": eq,
    "lt": lt,
    "le": le,
    "gt": gt,
    "ge": ge,
}


def _ordered_matches(
    parse: Callable[[str], Fraction | None],
    comparison: str,
    request_value: str,
    policy_value: str,
) -> bool:
    """Compare numbers or dates exactly; `lt` means request < policy."""
    actual = parse(request_value)
    expected = parse(policy_value)
    if actual is None or expected is None:
        return False
    return _ORDERINGS[comparison](actual, expected)


def _ip_matches(request_value: str, policy_value: str) -> bool:
    """Return whether the request address lies in the policy CIDR block.

    An IPv4 address never lies in an IPv6 block, nor the other way round.
    """
    address = parse_address(request_value)
    network = parse_network(policy_value)
    if address is None or network is None:
        return False
    return address.version == network.version and address in network


# --- Context keys and policy variables ---------------------------------------


def _fold_key(key: str) -> str:
    # NOTE: key names fold with str.lower, not ascii_lower, because
    # Condition.key_name and Variable.key are already lowercased that way.
    # The two differ only for non-ASCII key names.
    return key.lower()


def _context_values(context: Context, key: str) -> tuple[str, ...]:
    """Return the values of a condition key, or () when the key is absent.

    Key names are case-insensitive, and an empty tuple counts as absent. See
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    """
    folded_key = _fold_key(key)
    for name, value in context.items():
        if _fold_key(name) == folded_key:
            return (value,) if isinstance(value, str) else tuple(value)
    return ()


def _resolve_variable(variable: Variable, context: Context) -> str | None:
    """Return the value a policy variable stands for, or None if it has none.

    A key with exactly one non-empty value gives that value. The variables
    page treats a key that is absent or has no value as null, and we read an
    empty string as "no value"; both give the default. The docs forbid
    multivalued keys as policy variables without saying what happens, so a
    multivalued key also falls back to the default.
    See https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    """
    values = _context_values(context, variable.key)
    if len(values) == 1 and values[0] != "":
        return values[0]
    return variable.default


def _substitute(pattern: Pattern, context: Context) -> str | None:
    """Join a pattern parsed without wildcards into text, or None if a
    variable in it is unresolved."""
    parts: list[str] = []
    for token in pattern:
        if isinstance(token, Variable):
            value = _resolve_variable(token, context)
            if value is None:
                return None
            parts.append(value)
        elif isinstance(token, str):
            parts.append(token)
        else:
            raise ValueError(f"unexpected wildcard {token!r} in a pattern parsed without wildcards")
    return "".join(parts)


def like_matches(pattern: str, value: str) -> bool:
    """Match `value` against a StringLike pattern without policy variables."""
    return _glob_matches(parse_pattern(pattern, variables=False, wildcards=True), value, {})


def _glob_matches(pattern: Pattern, value: str, context: Context) -> bool:
    """Match the whole `value` against a glob: `*` is any sequence, `?` any
    one character, and substituted variable values are literal text."""
    parts: list[str] = []
    for token in pattern:
        if token is STAR:
            parts.append(".*")
        elif token is QMARK:
            parts.append(".")
        elif isinstance(token, Variable):
            substituted = _resolve_variable(token, context)
            if substituted is None:
                return False
            parts.append(re.escape(substituted))
        else:
            parts.append(re.escape(token))
    return _full_match("".join(parts), value)
