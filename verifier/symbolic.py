"""Decide one concrete request with the symbolic encoding.

Tests use this to compare the z3 encoding with the concrete evaluator on the
same request: both must reach the same decision.
"""

from __future__ import annotations

from dataclasses import replace

import z3

from verifier.encode.logic import any_of, literal
from verifier.encode.request import Element, KeyModel, SymRequest
from verifier.encode.statement import ANY_ACTION, ActionSlice, EncodedStatement, ascii_lower
from verifier.evaluate import Request
from verifier.keys import KeyType, analyze_keys
from verifier.policy.document import PolicyDocument
from verifier.policy.values import parse_address, parse_bool, parse_date, parse_number


def symbolic_allows(policy: PolicyDocument, request: Request) -> bool:
    """True if the encoding of `policy` allows `request`."""
    infos = analyze_keys([policy])
    context = {key.lower(): value for key, value in request.context.items()}
    for name, info in list(infos.items()):
        values = context.get(name)
        if isinstance(values, tuple) and len(values) > info.bound:
            infos[name] = replace(info, bound=len(values), multivalued=True)
    symbolic = SymRequest(infos)
    whole = ActionSlice(ANY_ACTION)
    allows = [EncodedStatement(s, symbolic).formula(whole) for s in policy.allow_statements]
    denies = [EncodedStatement(s, symbolic).formula(whole) for s in policy.deny_statements]
    decision = z3.And(any_of(allows), z3.Not(any_of(denies)))

    facts = [
        symbolic.action == literal(ascii_lower(request.action)),
        symbolic.resource == literal(request.resource),
        *symbolic.domain(),
    ]
    for name, model in symbolic.keys.items():
        facts.extend(_pin_key(model, context.get(name)))
    solver = z3.Solver()
    solver.add(*facts)
    solver.add(decision)
    return solver.check() == z3.sat


def _pin_key(model: KeyModel, value: str | tuple[str, ...] | None) -> list[z3.BoolRef]:
    if value is None:
        values: tuple[str, ...] = ()
    elif isinstance(value, tuple):
        values = value
    else:
        values = (value,)
    if not values:
        return [z3.Not(model.present)]
    facts: list[z3.BoolRef] = [model.present]
    if model.count is not None:
        facts.append(model.count == len(values))
    elif len(values) != 1:
        raise ValueError(f"key `{model.info.name}` is single-valued in the encoding but has {len(values)} values")
    for element, text in zip(model.elements, values):
        facts.extend(_pin_element(model.info.type, element, text))
    return facts


def _pin_element(key_type: KeyType, element: Element, text: str) -> list[z3.BoolRef]:
    if key_type is KeyType.STRING:
        return [element.text == literal(text)]
    if key_type in (KeyType.NUMERIC, KeyType.DATE):
        number = parse_number(text) if key_type is KeyType.NUMERIC else parse_date(text)
        if number is None:
            return [z3.Not(element.parses)]
        return [element.parses, element.number == z3.Q(number.numerator, number.denominator)]
    if key_type is KeyType.BOOL:
        flag = parse_bool(text)
        return [z3.Not(element.parses)] if flag is None else [element.parses, element.flag == flag]
    address = parse_address(text)
    if address is None:
        return [z3.Not(element.parses)]
    return [
        element.parses,
        element.is_v6 == (address.version == 6),
        element.address == z3.BitVecVal(int(address), 128),
    ]
