"""Documented types of global condition keys, and how each key of a policy
pair is represented.

Types and multivalued keys follow "AWS global condition context keys"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from verifier.errors import UnsupportedFeatureError
from verifier.policy.document import PolicyDocument, Statement
from verifier.policy.operators import Family, Qualifier
from verifier.policy.pattern import Variable, parse_pattern


class KeyType(str, Enum):
    """Value type used to compare a key. ARN and binary values are strings."""

    STRING = "string"
    NUMERIC = "numeric"
    DATE = "date"
    BOOL = "bool"
    IP = "ip"


DOCUMENTED_TYPES: dict[str, KeyType] = {
    "aws:currenttime": KeyType.DATE,
    "aws:epochtime": KeyType.NUMERIC,
    "aws:tokenissuetime": KeyType.DATE,
    "aws:multifactorauthage": KeyType.NUMERIC,
    "aws:multifactorauthpresent": KeyType.BOOL,
    "aws:securetransport": KeyType.BOOL,
    "aws:viaawsservice": KeyType.BOOL,
    "aws:principalisawsservice": KeyType.BOOL,
    "aws:sourceip": KeyType.IP,
    "aws:vpcsourceip": KeyType.IP,
}

DOCUMENTED_MULTIVALUED = frozenset(
    {
        "aws:tagkeys",
        "aws:principalorgpaths",
        "aws:calledvia",
        "aws:principalservicenameslist",
    }
)

FAMILY_TYPES = {
    Family.STRING: KeyType.STRING,
    Family.ARN: KeyType.STRING,
    Family.BINARY: KeyType.STRING,
    Family.NUMERIC: KeyType.NUMERIC,
    Family.DATE: KeyType.DATE,
    Family.BOOL: KeyType.BOOL,
    Family.IP: KeyType.IP,
}

# `aws:EpochTime` is documented for both Date and Numeric operators; its
# value is a number of seconds, which both readings share.
_DATE_AND_NUMBER = frozenset({"aws:epochtime"})


@dataclass(frozen=True)
class KeyInfo:
    """Encoder representation of one condition key.

    `bound` is the number of set elements the encoding keeps for a
    multivalued key; `encodings/spec/multivalued-keys.md` shows why that
    many suffice. `well_typed` means every value of the key parses as its
    type, which holds for the documented global keys of that type.
    """

    name: str
    type: KeyType
    multivalued: bool
    bound: int
    well_typed: bool


def analyze_keys(policies: Iterable[PolicyDocument]) -> dict[str, KeyInfo]:
    families: dict[str, set[KeyType]] = {}
    set_conditions: dict[str, int] = {}
    plain_conditions: dict[str, int] = {}
    for policy in policies:
        for statement in policy.statements:
            for condition in statement.conditions:
                key = condition.key_name
                families.setdefault(key, set())
                if condition.operator.family is not Family.NULL:
                    families[key].add(FAMILY_TYPES[condition.operator.family])
                    if condition.operator.qualifier is None:
                        plain_conditions[key] = plain_conditions.get(key, 0) + 1
                    else:
                        set_conditions[key] = set_conditions.get(key, 0) + 1
            for variable in statement_variables(statement):
                families.setdefault(variable.key, set()).add(KeyType.STRING)
                # A variable needs exactly one value, like an unqualified operator.
                plain_conditions[variable.key] = plain_conditions.get(variable.key, 0) + 1

    result: dict[str, KeyInfo] = {}
    for key, types in families.items():
        key_type = _choose_type(key, types)
        service_type = _service_key_type(key)
        documented_multivalued = key in DOCUMENTED_MULTIVALUED or (service_type or "").startswith("ArrayOf")
        multivalued = documented_multivalued or key in set_conditions
        bound = 1
        if multivalued:
            # One element per set-qualified condition, plus one so that an
            # unqualified operator can see a set of two values.
            bound = max(1, set_conditions.get(key, 0)) + (1 if key in plain_conditions else 0)
        documented = documented_type(key)
        result[key] = KeyInfo(
            name=key,
            type=key_type,
            multivalued=multivalued,
            bound=bound,
            well_typed=documented is key_type,
        )
    return result


# Types of the Service Authorization Reference that fix how a value parses.
_SERVICE_TYPES = {
    "Numeric": KeyType.NUMERIC,
    "Date": KeyType.DATE,
    "Bool": KeyType.BOOL,
    "IPAddress": KeyType.IP,
}


def documented_type(key: str) -> KeyType | None:
    """Return the value type that AWS documents for a lowercase condition
    key, or None when the docs give none or only a string type."""
    service_type = _service_key_type(key)
    return DOCUMENTED_TYPES.get(key) or _SERVICE_TYPES.get((service_type or "").removeprefix("ArrayOf"))


def documented_single_valued(key: str) -> bool:
    """Return whether AWS documents a lowercase condition key as taking one value:
    a typed global key, or a service key whose type is not `ArrayOf...`."""
    if key in DOCUMENTED_TYPES:
        return True
    service_type = _service_key_type(key)
    return service_type is not None and not service_type.startswith("ArrayOf")


def _service_key_type(key: str) -> str | None:
    """Return the documented type of a service-specific key from the bundled
    reference, or None for global `aws:` keys and unknown keys."""
    if key.startswith("aws:"):
        return None
    from verifier.catalog import default_catalog

    return default_catalog().condition_key_type(key)


def _choose_type(key: str, types: set[KeyType]) -> KeyType:
    if not types:
        return DOCUMENTED_TYPES.get(key, KeyType.STRING)
    if len(types) == 1:
        return next(iter(types))
    if types == {KeyType.NUMERIC, KeyType.DATE} and key in _DATE_AND_NUMBER:
        return KeyType.NUMERIC
    names = " and ".join(sorted(t.value for t in types))
    raise UnsupportedFeatureError(
        f"condition key `{key}` is compared as {names} values; a key used with "
        "operators of different types (or as a policy variable and a typed value) is not encoded"
    )


def statement_variables(statement: Statement) -> Iterable[Variable]:
    """Yield the policy variables of a statement's resources and condition values."""
    if not statement.substitutes_variables:
        return
    texts: list[str] = list(statement.resources or ()) + list(statement.not_resources or ())
    for condition in statement.conditions:
        texts.extend(condition.values)
    for text in texts:
        if "${" not in text:
            continue
        for token in parse_pattern(text, variables=True, wildcards=False):
            if isinstance(token, Variable):
                yield token
