"""Conjunction and disjunction of any number of z3 terms.

`z3.And()` with no arguments builds a zero-argument `and` that SMT-LIB
printers emit as a bare symbol, which cvc5 rejects; these helpers return the
constants instead.
"""

from __future__ import annotations

from typing import Iterable

import z3


def all_of(terms: Iterable[z3.BoolRef]) -> z3.BoolRef:
    items = list(terms)
    if not items:
        return z3.BoolVal(True)
    return items[0] if len(items) == 1 else z3.And(*items)


def any_of(terms: Iterable[z3.BoolRef]) -> z3.BoolRef:
    items = list(terms)
    if not items:
        return z3.BoolVal(False)
    return items[0] if len(items) == 1 else z3.Or(*items)
