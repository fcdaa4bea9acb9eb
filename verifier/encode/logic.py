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


# z3 reads `\u{...}` and `\uXXXX` inside a string literal as escapes, and its
# alphabet ends at U+2FFFF. Policy text is therefore spelled with an escape
# for every backslash and every character outside printable ASCII.
MAX_CHAR = 0x2FFFF
# Maximum length of a string constant that the encoder builds. z3 5.4.1
# took 1.8 s and 1.6 GB of memory to assert one pattern of 1,000,000
# characters, and 15 s and 6.4 GB for 3,000,000 (a 2-core Linux machine).
# At 100,000 the same assertion takes 0.04 s and 120 MB.
MAX_LITERAL_CHARS = 100_000


def literal(text: str) -> z3.SeqRef:
    """Return a z3 string constant equal to `text`.

    Raises UnsupportedFeatureError for text longer than MAX_LITERAL_CHARS.
    """
    if len(text) > MAX_LITERAL_CHARS:
        from verifier.errors import UnsupportedFeatureError

        raise UnsupportedFeatureError(
            f"a string of {len(text):,} characters is longer than the {MAX_LITERAL_CHARS:,} that the encoder supports"
        )
    return z3.StringVal(escape(text))


def escape(text: str) -> str:
    parts = []
    for char in text:
        if " " <= char <= "~" and char != "\\":
            parts.append(char)
        elif ord(char) > MAX_CHAR:
            from verifier.errors import UnsupportedFeatureError

            raise UnsupportedFeatureError(f"the character U+{ord(char):X} is beyond the solvers' alphabet")
        else:
            parts.append("\\u{%x}" % ord(char))
    return "".join(parts)
