"""z3 terms for matching a string against a compiled pattern.

Patterns without policy variables become z3 regular expressions. A pattern
with variables becomes a string equation when it has no wildcards, and a
regular expression around the variables' values (a non-constant
`str.to_re`, which z3 and cvc5 both accept) when it has.
"""

from __future__ import annotations

from functools import lru_cache

import z3

from verifier.encode.logic import all_of, any_of
from verifier.encode.logic import literal
from verifier.encode.glob import Compiled, Lit, Many, One, Var

_RE_SORT = z3.ReSort(z3.StringSort())


def _any_char() -> z3.ReRef:
    return z3.AllChar(_RE_SORT)


@lru_cache(maxsize=None)
def _char_class(excluded: frozenset[str]) -> z3.ReRef:
    if not excluded:
        return _any_char()
    banned = z3.Union(*[z3.Re(literal(char)) for char in sorted(excluded)]) if len(excluded) > 1 else z3.Re(literal(next(iter(excluded))))
    return z3.Intersect(_any_char(), z3.Complement(banned))


def _caseless(text: str) -> z3.ReRef:
    parts = []
    for char in text:
        lower, upper = char.lower(), char.upper()
        if char.isascii() and char.isalpha() and lower != upper:
            parts.append(z3.Union(z3.Re(literal(lower)), z3.Re(literal(upper))))
        else:
            parts.append(z3.Re(literal(char)))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


@lru_cache(maxsize=65536)
def to_regex(compiled: Compiled, ignore_case: bool = False) -> z3.ReRef:
    """Regular expression of a variable-free pattern."""
    parts: list[z3.ReRef] = []
    for element in compiled:
        if isinstance(element, Lit):
            parts.append(_caseless(element.text) if ignore_case else z3.Re(literal(element.text)))
        elif isinstance(element, One):
            parts.append(_char_class(element.excluded))
        elif isinstance(element, Many):
            parts.append(z3.Star(_char_class(element.excluded)))
        else:
            raise ValueError("to_regex needs a pattern without policy variables")
    if not parts:
        return z3.Re("")
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def match_regex(value: z3.SeqRef, compiled: Compiled, ignore_case: bool = False) -> z3.BoolRef:
    if all(isinstance(element, Lit) for element in compiled) and not ignore_case:
        return value == literal("".join(e.text for e in compiled))
    return z3.InRe(value, to_regex(compiled, ignore_case))


Piece = Lit | One | Many | z3.SeqRef


def match_pieces(value: z3.SeqRef, pieces: list[Piece]) -> z3.BoolRef:
    """Match `value` against literal text, wildcards and string terms.

    Without wildcards this is an equation between strings. With wildcards it
    is membership in a regular expression built around the string terms: a
    split into substrings (`str.substr` at computed offsets) was tried first
    and made both solvers time out on managed policies that the regular
    expression form settles in under a second.
    """
    if all(isinstance(piece, (z3.SeqRef, Lit)) for piece in pieces):
        terms = [piece if isinstance(piece, z3.SeqRef) else literal(piece.text) for piece in pieces]
        return value == (terms[0] if len(terms) == 1 else z3.Concat(*terms))
    return _match_nonground(value, pieces)


def _match_nonground(value: z3.SeqRef, pieces: list[Piece]) -> z3.BoolRef:
    """Membership in a regular expression built around string terms; exact,
    and both z3 and cvc5 accept a non-constant `str.to_re`."""
    parts: list[z3.ReRef] = []
    for piece in pieces:
        if isinstance(piece, z3.SeqRef):
            parts.append(z3.Re(piece))
        else:
            parts.append(to_regex((piece,)))
    return z3.InRe(value, parts[0] if len(parts) == 1 else z3.Concat(*parts))


def compiled_has_vars(compiled: Compiled) -> bool:
    return any(isinstance(element, Var) for element in compiled)
