"""Wildcard patterns as sequences of character classes, for z3 and for
quick syntactic tests.

A compiled pattern is a tuple of elements: `Lit(text)`, `One(excluded)` for a
single character not in `excluded`, `Many(excluded)` for any run of such
characters, and `Var(variable)` for a policy variable. The same compiled form
feeds the z3 regular expressions and the small automaton below, which decides
inclusion and intersection of two variable-free patterns without a solver.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from verifier.policy.pattern import QMARK, STAR, Pattern, Variable

COLON = frozenset(":")
NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lit:
    text: str


@dataclass(frozen=True)
class One:
    excluded: frozenset[str]


@dataclass(frozen=True)
class Many:
    excluded: frozenset[str]


@dataclass(frozen=True)
class Var:
    variable: Variable


Element = Lit | One | Many | Var
Compiled = tuple[Element, ...]


def compile_glob(pattern: Pattern) -> Compiled:
    """`*` and `?` match any characters, as in Action and StringLike."""
    elements: list[Element] = []
    for token in pattern:
        if token is STAR:
            elements.append(Many(NOTHING))
        elif token is QMARK:
            elements.append(One(NOTHING))
        elif isinstance(token, Variable):
            elements.append(Var(token))
        else:
            elements.append(Lit(token))
    return _merge(elements)


def compile_literal(pattern: Pattern) -> Compiled:
    """Wildcards are not special, as in StringEquals."""
    elements: list[Element] = []
    for token in pattern:
        if isinstance(token, Variable):
            elements.append(Var(token))
        elif isinstance(token, str):
            elements.append(Lit(token))
        else:
            elements.append(Lit(token.symbol))
    return _merge(elements)


def compile_arn(pattern: Pattern) -> Compiled:
    """Compile a Resource or Arn* pattern.

    The Resource element page documents that wildcards stay within one
    colon-separated ARN segment, and that a `*` that is the last character of
    a segment can expand beyond the colon boundaries
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
    So a `*` followed by `:` or ending the pattern matches any characters;
    every other `*`, and every `?`, matches no colon. Segments are those of
    the pattern text: a colon inside a variable's value is a plain character.
    """
    elements: list[Element] = []
    for index, token in enumerate(pattern):
        if token is STAR:
            following = pattern[index + 1] if index + 1 < len(pattern) else None
            ends_segment = following is None or (isinstance(following, str) and following.startswith(":"))
            elements.append(Many(NOTHING if ends_segment else COLON))
        elif token is QMARK:
            elements.append(One(COLON))
        elif isinstance(token, Variable):
            elements.append(Var(token))
        else:
            elements.append(Lit(token))
    return _merge(elements)


def compile_arn_condition(pattern: Pattern) -> Compiled:
    """Compile an Arn* condition value: each of the six colon-delimited ARN
    components is matched separately, as the condition operators page
    documents, so wildcards before the fifth literal colon match no colon and
    wildcards in the resource component match any character. `verifier.evaluate`
    documents the same rule for the concrete side."""
    if pattern == (STAR,):
        return (Many(NOTHING),)
    elements: list[Element] = []
    colons = 0
    for token in pattern:
        in_resource = colons >= 5
        if token is STAR:
            elements.append(Many(NOTHING if in_resource else COLON))
        elif token is QMARK:
            elements.append(One(NOTHING if in_resource else COLON))
        elif isinstance(token, Variable):
            elements.append(Var(token))
        else:
            elements.append(Lit(token))
            colons += token.count(":")
    return _merge(elements)


# Wildcards (`*` and `?`) above which one pattern is reported as unsupported.
# The maximum in one string of the AWS managed policies and the other corpus
# policies is 11. Thousands made the solvers run past their time limits, and
# Python's regular expressions backtracked for minutes in the evaluator.
MAX_WILDCARDS = 100


def _merge(elements: list[Element]) -> Compiled:
    if sum(1 for element in elements if isinstance(element, (One, Many))) > MAX_WILDCARDS:
        from verifier.errors import UnsupportedFeatureError

        raise UnsupportedFeatureError(f"a pattern with more than {MAX_WILDCARDS} wildcards")
    merged: list[Element] = []
    for element in elements:
        if isinstance(element, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(merged[-1].text + element.text)
        elif isinstance(element, Lit) and not element.text:
            continue
        else:
            merged.append(element)
    return tuple(merged)


def has_var(compiled: Compiled) -> bool:
    return any(isinstance(element, Var) for element in compiled)


def is_literal(compiled: Compiled) -> bool:
    return all(isinstance(element, Lit) for element in compiled)


def literal_text(compiled: Compiled) -> str:
    return "".join(element.text for element in compiled if isinstance(element, Lit))


# --- A small automaton over compiled patterns without variables. ---
# A state is a frozenset of positions in the element sequence; a position p
# means "elements before p are consumed". Literal text is expanded to single
# characters first.


def _expand(compiled: Compiled) -> tuple[Element, ...]:
    out: list[Element] = []
    for element in compiled:
        if isinstance(element, Lit):
            out.extend(Lit(char) for char in element.text)
        elif isinstance(element, Var):
            raise ValueError("patterns with policy variables have no automaton")
        else:
            out.append(element)
    return tuple(out)


def _closure(elements: tuple[Element, ...], positions: frozenset[int]) -> frozenset[int]:
    result = set(positions)
    stack = list(positions)
    while stack:
        position = stack.pop()
        if position < len(elements) and isinstance(elements[position], Many):
            if position + 1 not in result:
                result.add(position + 1)
                stack.append(position + 1)
    return frozenset(result)


def _step(elements: tuple[Element, ...], positions: frozenset[int], char: str) -> frozenset[int]:
    following: set[int] = set()
    for position in positions:
        if position >= len(elements):
            continue
        element = elements[position]
        if isinstance(element, Lit):
            if element.text == char:
                following.add(position + 1)
        elif isinstance(element, One):
            if char not in element.excluded:
                following.add(position + 1)
        elif isinstance(element, Many):
            if char not in element.excluded:
                following.add(position)
    return _closure(elements, frozenset(following))


def _alphabet(*patterns: tuple[Element, ...]) -> list[str]:
    chars: set[str] = set()
    for elements in patterns:
        for element in elements:
            if isinstance(element, Lit):
                chars.add(element.text)
            elif isinstance(element, (One, Many)):
                chars.update(element.excluded)
    # One character that no pattern names stands for every other character.
    other = "\u00a4"
    while other in chars:
        other = chr(ord(other) + 1)
    return sorted(chars) + [other]


# Budget of the exact automaton search: at most SEARCH_LIMIT states, and only
# for patterns of at most SEARCH_MAX_LENGTH characters together. Past it, the
# answer is the conservative one (may intersect, not known to include). Every
# caller treats those answers as "ask the solver", so a cut costs time, not
# soundness.
SEARCH_LIMIT = 300
SEARCH_MAX_LENGTH = 48


@lru_cache(maxsize=65536)
def intersects(first: Compiled, second: Compiled) -> bool:
    """False only if no string matches both variable-free patterns."""
    if first == second:
        return True
    if _ends_conflict(first, second):
        return False
    a, b = _expand(first), _expand(second)
    found = _search(a, b, lambda accept_a, accept_b: accept_a and accept_b)
    return True if found is None else found


@lru_cache(maxsize=65536)
def includes(outer: Compiled, inner: Compiled) -> bool:
    """True only if every string matching `inner` also matches `outer`."""
    if outer == inner or outer == (Many(NOTHING),):
        return True
    a, b = _expand(inner), _expand(outer)
    if _covers(b, a):
        return True
    if _ends_conflict(outer, inner):
        return False  # no string of `inner` matches `outer` at all
    found = _search(a, b, lambda accept_inner, accept_outer: accept_inner and not accept_outer)
    return found is False


def _ends_conflict(first: Compiled, second: Compiled) -> bool:
    """True when the literal prefixes or suffixes of two patterns disagree."""
    for forward in (True, False):
        x, y = _literal_end(first, forward), _literal_end(second, forward)
        size = min(len(x), len(y))
        if (x[:size] != y[:size]) if forward else (x[len(x) - size :] != y[len(y) - size :]):
            return True
    return False


def _literal_end(compiled: Compiled, forward: bool) -> str:
    elements = compiled if forward else tuple(reversed(compiled))
    first = elements[0] if elements else None
    return first.text if isinstance(first, Lit) else ""


def _covers(outer: tuple[Element, ...], inner: tuple[Element, ...]) -> bool:
    """Match `outer` against `inner` read as a pattern: a sufficient test of
    inclusion in time proportional to the product of the lengths.

    The match runs as a set of positions in `outer`, advanced once per
    element of `inner`, so that its depth does not grow with the pattern
    (a recursive form overflowed Python's stack on a 500-character ARN).
    """

    def closure(positions: set[int]) -> set[int]:
        # A `Many` may match nothing, so the position after it is reached too.
        pending = list(positions)
        while pending:
            i = pending.pop()
            if i < len(outer) and isinstance(outer[i], Many) and i + 1 not in positions:
                positions.add(i + 1)
                pending.append(i + 1)
        return positions

    positions = closure({0})
    for piece in inner:
        following: set[int] = set()
        for i in positions:
            if i == len(outer):
                continue
            element = outer[i]
            if isinstance(element, Many):
                if _absorbs(element, piece):
                    following.add(i)
            elif isinstance(element, Lit):
                if isinstance(piece, Lit) and piece.text == element.text:
                    following.add(i + 1)
            elif isinstance(piece, (Lit, One)) and _absorbs(element, piece):
                following.add(i + 1)
        if not following:
            return False
        positions = closure(following)
    return len(outer) in positions


def _absorbs(outer: Element, piece: Element) -> bool:
    """True if every string `piece` stands for is allowed by `outer`'s class."""
    excluded = outer.excluded  # type: ignore[union-attr]
    if isinstance(piece, Lit):
        return piece.text not in excluded
    return excluded <= piece.excluded  # type: ignore[union-attr]


def _search(a: tuple[Element, ...], b: tuple[Element, ...], goal) -> bool | None:
    """Breadth-first search of the product automaton for a state meeting
    `goal`; None when the patterns or the search exceed the budget."""
    if len(a) + len(b) > SEARCH_MAX_LENGTH:
        return None
    alphabet = _alphabet(a, b)
    start = (_closure(a, frozenset({0})), _closure(b, frozenset({0})))
    seen = {start}
    queue = deque([start])
    while queue:
        state_a, state_b = queue.popleft()
        if goal(len(a) in state_a, len(b) in state_b):
            return True
        if not state_a:
            continue
        for char in alphabet:
            following = (_step(a, state_a, char), _step(b, state_b, char))
            if following not in seen:
                seen.add(following)
                queue.append(following)
                if len(seen) > SEARCH_LIMIT:
                    return None
    return False


def matches(compiled: Compiled, text: str) -> bool:
    """Match a variable-free pattern against concrete text."""
    return _text_regex(compiled).fullmatch(text) is not None


@lru_cache(maxsize=8192)
def _text_regex(compiled: Compiled) -> re.Pattern[str]:
    """Translate a variable-free pattern into a Python regular expression.

    `matches` runs once per statement and catalog action when a policy of
    thousands of action patterns is listed. In a profile of the listing for
    ReadOnlyAccess v139->v140, `re` took about a tenth of the time per call
    that stepping the automaton above took.
    """
    parts: list[str] = []
    for element in compiled:
        if isinstance(element, Lit):
            parts.append(re.escape(element.text))
            continue
        if isinstance(element, Var):
            raise ValueError("patterns with policy variables have no regular expression")
        if element.excluded:
            character = "[^" + "".join(re.escape(c) for c in sorted(element.excluded)) + "]"
        else:
            character = "."
        parts.append(character if isinstance(element, One) else character + "*")
    return re.compile("".join(parts), re.DOTALL)
