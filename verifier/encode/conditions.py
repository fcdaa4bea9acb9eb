"""z3 formulas for the Condition element.

Rules encoded here, from the IAM User Guide:
- AND across operators and keys, OR across the values of one key, NOR for a
  negated operator with several values
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html).
- A key absent from the request makes a positive operator false and a
  negated operator true; `...IfExists` is true when the key is absent; `Null`
  tests presence
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
- `ForAllValues` is true for an absent key, `ForAnyValue` false
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
  With `IfExists` added, an absent key makes either qualifier true: the docs
  define `IfExists` as true for an absent key and say nothing more specific.

The concrete evaluator in `verifier.evaluate` implements the same rules
independently; tests compare the two.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import z3

from verifier.encode.logic import all_of, any_of, literal
from verifier.encode.glob import Compiled, Lit, Var, compile_arn_condition, compile_glob, compile_literal
from verifier.encode.request import Element, KeyModel, SymRequest
from verifier.encode.strings import Piece, match_pieces, match_regex
from verifier.errors import UnsupportedFeatureError
from verifier.keys import FAMILY_TYPES, KeyType
from verifier.policy.document import Condition, Statement
from verifier.policy.operators import Family, Qualifier
from verifier.policy.values import parse_bool, parse_date, parse_network, parse_number


def encode_conditions(statement: Statement, request: SymRequest) -> z3.BoolRef:
    return all_of([encode_condition(statement, c, request) for c in statement.conditions])


def encode_condition(statement: Statement, condition: Condition, request: SymRequest) -> z3.BoolRef:
    operator = condition.operator
    key = request.key(condition.key_name)

    if operator.family is Family.NULL:
        options = [z3.Not(key.present) if parse_bool(v) else key.present for v in condition.values]
        return any_of(options)

    _check_type(condition, key)

    def matches(element: Element) -> z3.BoolRef:
        hit = any_of([_compare(statement, condition, element, value, request) for value in condition.values])
        return z3.Not(hit) if operator.negated else hit

    if operator.qualifier is None:
        when_absent = z3.BoolVal(operator.if_exists or operator.negated)
        # The docs define no unqualified operator on a multivalued key; a
        # set of two or more values never matches one.
        when_present = z3.And(key.single(), matches(key.elements[0]))
    elif operator.qualifier is Qualifier.FOR_ALL_VALUES:
        when_absent = z3.BoolVal(True)
        when_present = all_of([z3.Implies(key.used(i), matches(e)) for i, e in enumerate(key.elements)])
    else:
        when_absent = z3.BoolVal(operator.if_exists)
        when_present = any_of([z3.And(key.used(i), matches(e)) for i, e in enumerate(key.elements)])
    return z3.If(key.present, when_present, when_absent)


def _check_type(condition: Condition, key: KeyModel) -> None:
    family = condition.operator.family
    expected = FAMILY_TYPES[family]
    if key.info.type is expected:
        return
    if key.info.type is KeyType.NUMERIC and family is Family.DATE:
        return  # aws:EpochTime, read as seconds by both operator families
    raise UnsupportedFeatureError(
        f"{condition.path}: key `{condition.key}` is used with {family.value} and "
        f"{key.info.type.value} operators"
    )


def _compare(
    statement: Statement, condition: Condition, element: Element, value: str, request: SymRequest
) -> z3.BoolRef:
    operator = condition.operator
    family = operator.family
    comparison = operator.base.comparison
    if family in (Family.STRING, Family.ARN, Family.BINARY):
        assert element.text is not None
        if family is Family.ARN:
            compiled = compile_arn_condition(statement.condition_pattern(value, wildcards=True))
        elif comparison == "like":
            compiled = compile_glob(statement.condition_pattern(value, wildcards=True))
        elif family is Family.BINARY:
            compiled = (Lit(value),)
        else:
            compiled = compile_literal(statement.condition_pattern(value, wildcards=False))
        return match_string(element.text, compiled, request, ignore_case=comparison == "equals_ignore_case", where=condition.path)
    if family in (Family.NUMERIC, Family.DATE):
        parsed = parse_number(value) if family is Family.NUMERIC else parse_date(value)
        assert parsed is not None
        assert element.number is not None
        assert element.parses is not None
        return z3.And(element.parses, _order(comparison, element.number, _real(parsed)))
    if family is Family.BOOL:
        flag = parse_bool(value)
        if flag is None:
            raise UnsupportedFeatureError(f"{condition.path}: a policy variable in a Bool value is not encoded")
        assert element.flag is not None and element.parses is not None
        return z3.And(element.parses, element.flag == z3.BoolVal(flag))
    if family is Family.IP:
        network = parse_network(value)
        assert network is not None
        assert element.address is not None
        assert element.is_v6 is not None
        assert element.parses is not None
        width = 32 if network.version == 4 else 128
        host_bits = width - network.prefixlen
        mask = ((1 << width) - 1) ^ ((1 << host_bits) - 1)
        in_range = (element.address & z3.BitVecVal(mask, 128)) == z3.BitVecVal(int(network.network_address), 128)
        version = element.is_v6 if network.version == 6 else z3.Not(element.is_v6)
        return z3.And(element.parses, version, in_range)
    raise AssertionError(f"unhandled operator family {family}")


def _order(comparison: str, left: z3.ArithRef, right: z3.ArithRef) -> z3.BoolRef:
    if comparison == "eq":
        return left == right
    if comparison == "lt":
        return left < right
    if comparison == "le":
        return left <= right
    if comparison == "gt":
        return left > right
    if comparison == "ge":
        return left >= right
    raise AssertionError(comparison)


# Digits above which a number in a condition is reported as unsupported:
# Python refuses to print integers of more than 4,300 digits, and z3 reads
# numbers from their decimal text.
MAX_NUMBER_DIGITS = 1000


def _real(value: Fraction) -> z3.ArithRef:
    if max(abs(value.numerator), value.denominator).bit_length() > MAX_NUMBER_DIGITS * 10 // 3:
        raise UnsupportedFeatureError(f"a number with more than {MAX_NUMBER_DIGITS} digits in a condition")
    return z3.Q(value.numerator, value.denominator) if value.denominator != 1 else z3.RealVal(value.numerator)


def match_string(
    value: z3.SeqRef, compiled: Compiled, request: SymRequest, *, ignore_case: bool = False, where: str = ""
) -> z3.BoolRef:
    """Match a string term against a pattern that may contain policy variables.

    A variable takes the value of its key when the key has exactly one
    value; otherwise its default, if it has one; otherwise the pattern
    matches nothing (see `verifier.evaluate` for the same rule).
    """
    variables = [element.variable for element in compiled if isinstance(element, Var)]
    if not variables:
        return match_regex(value, compiled, ignore_case)
    if ignore_case:
        raise UnsupportedFeatureError(f"{where}: a policy variable in a case-insensitive comparison is not encoded")

    unique = list(dict.fromkeys(variables))
    options: list[z3.BoolRef] = []
    for resolved_flags in itertools.product((True, False), repeat=len(unique)):
        guards: list[z3.BoolRef] = []
        substitution: dict = {}
        possible = True
        for variable, resolved in zip(unique, resolved_flags):
            key = request.key(variable.key)
            if key.info.type is not KeyType.STRING:
                raise UnsupportedFeatureError(
                    f"{where}: key `{variable.key}` is used as a policy variable and as a {key.info.type.value} value"
                )
            # An empty value counts as no value, as in `verifier.evaluate`.
            is_resolved = z3.And(key.present, key.single(), key.elements[0].text != literal(""))
            if resolved:
                guards.append(is_resolved)
                substitution[variable] = key.elements[0].text
            else:
                guards.append(z3.Not(is_resolved))
                if variable.default is None:
                    possible = False
                substitution[variable] = variable.default
        if not possible:
            continue
        pieces: list[Piece] = []
        for element in compiled:
            if isinstance(element, Var):
                replacement = substitution[element.variable]
                pieces.append(Lit(replacement) if isinstance(replacement, str) else replacement)
            else:
                pieces.append(element)
        options.append(all_of([*guards, match_pieces(value, pieces)]))
    return any_of(options)
