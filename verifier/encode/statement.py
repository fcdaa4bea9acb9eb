"""z3 formulas for whole statements.

A statement matches when its action, resource, principal and condition
elements all match
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).
Action patterns are compiled once per statement; the action part of the
formula depends on the slice of the action space being solved (see
`ActionSlice`), the rest does not and is cached.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Iterator

import z3

from verifier.encode.logic import all_of, any_of
from verifier.encode import glob
from verifier.encode.conditions import encode_conditions, match_string
from verifier.encode.glob import Compiled, Many, NOTHING, compile_arn, compile_glob
from verifier.encode.request import SymRequest
from verifier.encode.strings import match_regex
from verifier.errors import UnsupportedFeatureError
from verifier.policy.document import Statement
from verifier.policy.pattern import parse_pattern

ANY_ACTION: Compiled = (Many(NOTHING),)


def ascii_lower(text: str) -> str:
    return text.translate(_LOWER)


_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def compile_action(text: str) -> Compiled:
    return compile_glob(parse_pattern(ascii_lower(text), variables=False, wildcards=True))


def service_of(pattern: Compiled) -> str | None:
    """Return the service prefix of an action pattern, or None when a
    wildcard comes before the first colon (as in `*`)."""
    first = pattern[0] if pattern else None
    if isinstance(first, glob.Lit) and ":" in first.text:
        return first.text.split(":", 1)[0]
    return None


@dataclass(frozen=True)
class ActionSlice:
    """The part of the action space one query covers: the actions matching
    `pattern` (lowercase). A slice without wildcards is one concrete action,
    and every action test against it is decided without the solver."""

    pattern: Compiled

    @property
    def concrete(self) -> str | None:
        return glob.literal_text(self.pattern) if glob.is_literal(self.pattern) else None


class EncodedStatement:
    """A statement together with its compiled patterns and cached formulas."""

    def __init__(self, statement: Statement, request: SymRequest) -> None:
        self.statement = statement
        self.request = request
        texts = statement.actions if statement.actions is not None else statement.not_actions
        self.negated_action = statement.actions is None
        self.action_patterns: tuple[Compiled, ...] = tuple(
            compile_action(t) for t in texts or () if not any(c.isspace() for c in t)
        )
        # Names with white space, such as `amplifybackend: *` in an AWS managed
        # policy: IAM does not document whether it trims them, so a slice
        # that either reading could touch is reported as unsupported.
        self.unclear_actions = {
            t: compile_action("".join(t.split())) for t in texts or () if any(c.isspace() for c in t)
        }
        # Index by service prefix, so that large statements are searched fast.
        self._literals: dict[str, Compiled] = {}
        self._literals_by_service: dict[str, list[Compiled]] = {}
        self._wildcards_by_service: dict[str | None, list[Compiled]] = {}
        for pattern in self.action_patterns:
            service = service_of(pattern)
            if glob.is_literal(pattern):
                self._literals[glob.literal_text(pattern)] = pattern
                self._literals_by_service.setdefault(service or "", []).append(pattern)
            else:
                self._wildcards_by_service.setdefault(service, []).append(pattern)
        self._touching: dict[ActionSlice, list[Compiled]] = {}
        # Results of the syntactic width test against other statements, by id.
        self.wider_than: dict[int, bool] = {}

    def action_patterns_touching(self, action_slice: ActionSlice) -> list[Compiled]:
        """Return the statement's action patterns that share an action with the slice."""
        for text, trimmed in self.unclear_actions.items():
            if glob.intersects(trimmed, action_slice.pattern):
                raise UnsupportedFeatureError(
                    f"{self.statement.path}: action `{text}` contains white space, and IAM does not document how such a name matches"
                )
        cached = self._touching.get(action_slice)
        if cached is None:
            cached = self._find_touching(action_slice)
            self._touching[action_slice] = cached
        return cached

    def _find_touching(self, action_slice: ActionSlice) -> list[Compiled]:
        concrete = action_slice.concrete
        service = service_of(action_slice.pattern)
        if service is None:
            literals = list(self._literals.values())
            wildcards = [p for group in self._wildcards_by_service.values() for p in group]
        else:
            literals = self._literals_by_service.get(service, [])
            wildcards = self._wildcards_by_service.get(service, []) + self._wildcards_by_service.get(None, [])
        if concrete is not None:
            found = [self._literals[concrete]] if concrete in self._literals else []
            return found + [p for p in wildcards if glob.matches(p, concrete)]
        found = [p for p in literals if glob.matches(action_slice.pattern, glob.literal_text(p))]
        return found + [p for p in wildcards if glob.intersects(p, action_slice.pattern)]

    def may_match(self, action_slice: ActionSlice) -> bool:
        """False when no action of the slice can match the statement."""
        touching = self.action_patterns_touching(action_slice)
        if not self.negated_action:
            return bool(touching)
        # NotAction excludes the whole slice only when a pattern covers it.
        return not any(glob.includes(p, action_slice.pattern) for p in touching)

    def action_formula(self, action_slice: ActionSlice) -> z3.BoolRef:
        touching = self.action_patterns_touching(action_slice)
        if action_slice.concrete is not None:
            hit = z3.BoolVal(bool(touching))
        elif not touching:
            hit = z3.BoolVal(False)
        elif any(glob.includes(p, action_slice.pattern) for p in touching):
            hit = z3.BoolVal(True)
        else:
            hit = any_of([match_regex(self.request.action, p) for p in touching])
        return z3.Not(hit) if self.negated_action else hit

    @cached_property
    def rest_formula(self) -> z3.BoolRef:
        """Resource, principal and conditions: everything but the action."""
        with self._located_errors():
            return z3.And(self._resource_formula(), self._principal_formula(), encode_conditions(self.statement, self.request))

    def formula(self, action_slice: ActionSlice) -> z3.BoolRef:
        with self._located_errors():
            action = self.action_formula(action_slice)
        return z3.And(action, self.rest_formula)

    @contextmanager
    def _located_errors(self) -> Iterator[None]:
        """Prefix the statement's path to an UnsupportedFeatureError that
        names no place in the statement."""
        try:
            yield
        except UnsupportedFeatureError as error:
            if str(error).startswith(self.statement.path):
                raise
            raise UnsupportedFeatureError(f"{self.statement.path}: {error}") from error

    @cached_property
    def resource_patterns(self) -> tuple[Compiled, ...] | None:
        negated = self.statement.resources is None
        patterns = self.statement.resource_patterns(negated=negated)
        if patterns is None:
            return None
        return tuple(compile_arn(p) for p in patterns)

    def _resource_formula(self) -> z3.BoolRef:
        patterns = self.resource_patterns
        if patterns is None:
            # No Resource element: the policy is attached to the resource.
            return z3.BoolVal(True)
        where = f"{self.statement.path}.Resource"
        hit = any_of([match_string(self.request.resource, p, self.request, where=where) for p in patterns])
        return z3.Not(hit) if self.statement.resources is None else hit

    def _principal_formula(self) -> z3.BoolRef:
        statement = self.statement
        if statement.principal is not None:
            return self.request.principal_model.listed(statement.principal, negated=False)
        if statement.not_principal is not None:
            return z3.Not(self.request.principal_model.listed(statement.not_principal, negated=True))
        return z3.BoolVal(True)
