"""Condition operator names: family, negation, `IfExists` and set qualifiers.

Operator list and missing-key rules follow the IAM User Guide page "IAM JSON
policy elements: Condition operators"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Family(str, Enum):
    """Value type that an operator compares."""

    STRING = "string"
    NUMERIC = "numeric"
    DATE = "date"
    BOOL = "bool"
    BINARY = "binary"
    IP = "ip"
    ARN = "arn"
    NULL = "null"


class Qualifier(str, Enum):
    """Set operator prefix for multivalued keys."""

    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


@dataclass(frozen=True)
class BaseOperator:
    """An operator without prefix and suffix, such as `StringNotLike`."""

    name: str
    family: Family
    negated: bool
    # The comparison the operator applies to one value: equals, like,
    # equals_ignore_case, lt, le, gt, ge, in_cidr, null.
    comparison: str


_BASE_OPERATORS = [
    BaseOperator("StringEquals", Family.STRING, False, "equals"),
    BaseOperator("StringNotEquals", Family.STRING, True, "equals"),
    BaseOperator("StringEqualsIgnoreCase", Family.STRING, False, "equals_ignore_case"),
    BaseOperator("StringNotEqualsIgnoreCase", Family.STRING, True, "equals_ignore_case"),
    BaseOperator("StringLike", Family.STRING, False, "like"),
    BaseOperator("StringNotLike", Family.STRING, True, "like"),
    BaseOperator("NumericEquals", Family.NUMERIC, False, "eq"),
    BaseOperator("NumericNotEquals", Family.NUMERIC, True, "eq"),
    BaseOperator("NumericLessThan", Family.NUMERIC, False, "lt"),
    BaseOperator("NumericLessThanEquals", Family.NUMERIC, False, "le"),
    BaseOperator("NumericGreaterThan", Family.NUMERIC, False, "gt"),
    BaseOperator("NumericGreaterThanEquals", Family.NUMERIC, False, "ge"),
    BaseOperator("DateEquals", Family.DATE, False, "eq"),
    BaseOperator("DateNotEquals", Family.DATE, True, "eq"),
    BaseOperator("DateLessThan", Family.DATE, False, "lt"),
    BaseOperator("DateLessThanEquals", Family.DATE, False, "le"),
    BaseOperator("DateGreaterThan", Family.DATE, False, "gt"),
    BaseOperator("DateGreaterThanEquals", Family.DATE, False, "ge"),
    BaseOperator("Bool", Family.BOOL, False, "eq"),
    BaseOperator("BinaryEquals", Family.BINARY, False, "equals"),
    BaseOperator("IpAddress", Family.IP, False, "in_cidr"),
    BaseOperator("NotIpAddress", Family.IP, True, "in_cidr"),
    # ArnEquals and ArnLike both match each ARN component with wildcards, as
    # the Condition operators page documents.
    BaseOperator("ArnEquals", Family.ARN, False, "like"),
    BaseOperator("ArnLike", Family.ARN, False, "like"),
    BaseOperator("ArnNotEquals", Family.ARN, True, "like"),
    BaseOperator("ArnNotLike", Family.ARN, True, "like"),
    BaseOperator("Null", Family.NULL, False, "null"),
]

BASE_OPERATORS: dict[str, BaseOperator] = {op.name: op for op in _BASE_OPERATORS}


@dataclass(frozen=True)
class Operator:
    """A full condition operator as written, e.g. `ForAnyValue:StringLikeIfExists`."""

    text: str
    base: BaseOperator
    if_exists: bool
    qualifier: Qualifier | None

    @property
    def family(self) -> Family:
        return self.base.family

    @property
    def negated(self) -> bool:
        return self.base.negated


class OperatorSyntaxError(ValueError):
    """The text is not a valid condition operator; the message says why."""


def parse_operator(text: str) -> Operator:
    """Parse an operator name, raising OperatorSyntaxError with a hint."""
    rest = text
    qualifier: Qualifier | None = None
    if ":" in rest:
        prefix, rest = rest.split(":", 1)
        try:
            qualifier = Qualifier(prefix)
        except ValueError:
            raise OperatorSyntaxError(
                f"unknown set qualifier `{prefix}`; expected `ForAllValues` or `ForAnyValue`"
            ) from None
    if_exists = False
    if rest.endswith("IfExists"):
        if_exists = True
        rest = rest[: -len("IfExists")]
    base = BASE_OPERATORS.get(rest)
    if base is None:
        hint = _closest_operator(rest)
        suggestion = f"; did you mean `{hint}`?" if hint else ""
        raise OperatorSyntaxError(f"unknown condition operator `{text}`{suggestion}")
    if base.family is Family.NULL and (if_exists or qualifier):
        raise OperatorSyntaxError(
            f"`Null` takes neither a set qualifier nor `IfExists`, got `{text}`"
        )
    return Operator(text=text, base=base, if_exists=if_exists, qualifier=qualifier)


def _closest_operator(name: str) -> str | None:
    lowered = name.lower()
    for candidate in BASE_OPERATORS:
        if candidate.lower() == lowered:
            return candidate
    import difflib

    matches = difflib.get_close_matches(name, list(BASE_OPERATORS), n=1, cutoff=0.75)
    return matches[0] if matches else None
