"""Parse the text of a Resource, Action or condition value into tokens.

A pattern is a tuple of tokens: literal text (`str`), the wildcards `STAR` and
`QMARK`, and `Variable` for a policy variable such as `${aws:username}`.

Policy variables are substituted only in documents whose `Version` is
`2012-10-17`; under `2008-10-17` or with no `Version`, `${...}` is literal text
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html).
The escapes `${*}`, `${?}` and `${$}` stand for the literal characters, and
`${key, 'default'}` names a default used when the key is absent
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union


class _Wildcard:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol

    def __repr__(self) -> str:
        return self.symbol


STAR = _Wildcard("*")
QMARK = _Wildcard("?")


@dataclass(frozen=True)
class Variable:
    """A policy variable; `key` is the lowercased condition key name."""

    key: str
    default: str | None = None

    def __str__(self) -> str:
        if self.default is None:
            return "${" + self.key + "}"
        return "${" + self.key + ", '" + self.default.replace("'", "''") + "'}"


Token = Union[str, _Wildcard, Variable]
Pattern = tuple[Token, ...]

# `${key}` or `${key, 'default'}`; in a default, '' stands for one quote.
_VARIABLE = re.compile(r"\$\{\s*([^\s,'{}]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?\}")
_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}


def parse_pattern(text: str, *, variables: bool, wildcards: bool) -> Pattern:
    """Split `text` into tokens.

    `variables` turns on policy-variable substitution; `wildcards` makes `*`
    and `?` wildcards instead of literal characters. Malformed `${` sequences
    stay literal text, because IAM does not substitute them.
    """
    tokens: list[Token] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            tokens.append("".join(literal))
            literal.clear()

    position = 0
    while position < len(text):
        char = text[position]
        if variables and text.startswith("${", position):
            escape = text[position : position + 4]
            if escape in _ESCAPES:
                literal.append(_ESCAPES[escape])
                position += 4
                continue
            match = _VARIABLE.match(text, position)
            if match:
                flush()
                default = match.group(2)
                if default is not None:
                    default = default.replace("''", "'")
                tokens.append(Variable(match.group(1).lower(), default))
                position = match.end()
                continue
        if wildcards and char in "*?":
            flush()
            tokens.append(STAR if char == "*" else QMARK)
        else:
            literal.append(char)
        position += 1
    flush()
    return tuple(tokens)


def has_variables(pattern: Pattern) -> bool:
    return any(isinstance(token, Variable) for token in pattern)


def has_wildcards(pattern: Pattern) -> bool:
    return any(token is STAR or token is QMARK for token in pattern)


def pattern_text(pattern: Pattern) -> str:
    """Render tokens back to policy syntax (for messages and output)."""
    parts: list[str] = []
    for token in pattern:
        if isinstance(token, str):
            parts.append(token.replace("$", "${$}") if "${" in token else token)
        else:
            parts.append(str(token) if isinstance(token, Variable) else token.symbol)
    return "".join(parts)
