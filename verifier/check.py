"""No-new-access checks between two policy versions.

`check(old, new)` decides whether some request is allowed by `new` and not by
`old`. Allowed means some Allow statement matches and no Deny statement
matches
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
The question splits exactly into one query per Allow statement A of `new` and
per action pattern p of A ("slice"): is there a request with an action
matching p that A allows, no Deny of `new` denies, and `old` does not allow?
The union of these queries is the whole question, so the answer is PROVED
only if every query is unsatisfiable. Per slice, statements that cannot
match any action of the slice are dropped, which is exact, and a slice is
proved without the solver when an identical-or-wider Allow statement of
`old` covers it and every Deny of `old` that touches it is also in `new`.

Two optional arguments narrow the question. `accepted`, an Allow-only
policy, adds to what `old` allows: a request that it allows is not new
access. `resource_globs` keeps only requests whose resource matches one of
the globs, where `*` matches any characters including `:` and `/`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from enum import Enum

import z3

from verifier.encode.logic import all_of, any_of, literal
from verifier.encode import glob
from verifier.encode.principal import principal_text, unmatched_principal_notes
from verifier.encode.request import SymRequest, named_partitions
from verifier.encode.statement import ANY_ACTION, ActionSlice, EncodedStatement, ascii_lower, compile_action, service_of
from verifier.encode.strings import match_regex, to_regex
from verifier.errors import InternalError, UnsupportedFeatureError
from verifier.evaluate import Request, evaluate, like_matches
from verifier.keys import KeyType, analyze_keys, statement_variables
from verifier.policy.document import Effect, PolicyDocument, Statement
from verifier.policy.pattern import parse_pattern
from verifier.policy.values import format_date, format_number
from verifier.solver import Deadline, SolveResult, Verdict, solve

logger = logging.getLogger(__name__)

# Seconds spent at most on making a counterexample readable.
READABLE_MODEL_SECONDS = 0.8


@dataclass
class CheckStats:
    slices: int = 0
    covered_syntactically: int = 0
    solver_calls: int = 0
    solver_seconds: float = 0.0


@dataclass
class CheckResult:
    verdict: Verdict
    reason: str | None = None
    counterexample: Request | None = None
    new_statements: tuple[Statement, ...] = ()
    old_statements: tuple[Statement, ...] = ()
    notes: list[str] = field(default_factory=list)
    stats: CheckStats = field(default_factory=CheckStats)


def check_no_new_access(
    old: PolicyDocument,
    new: PolicyDocument,
    timeout: float = 30.0,
    *,
    known_actions_only: bool = False,
    accepted: PolicyDocument | None = None,
    resource_globs: tuple[str, ...] = (),
) -> CheckResult:
    """Prove that `new` allows no request that `old` does not allow.

    With `known_actions_only`, only actions that the bundled Service
    Authorization Reference defines are considered. That is not sound for
    wildcards, which also grant actions AWS adds later. A request that the
    Allow-only policy `accepted` allows does not count as new access. With
    `resource_globs`, only requests whose resource matches one of them count.
    """
    deadline = Deadline(timeout)
    stats = CheckStats()
    try:
        problem = NoNewAccessProblem(old, new, accepted=accepted, resource_globs=resource_globs)
        result = _check(problem, deadline, stats, known_actions_only)
    except UnsupportedFeatureError as error:
        return CheckResult(Verdict.UNKNOWN, reason=f"unsupported: {error}", stats=stats)
    if known_actions_only and result.verdict is Verdict.PROVED:
        result.notes.append(KNOWN_ACTIONS_NOTE)
    result.notes += unmatched_principal_notes(new)
    if result.verdict is not Verdict.UNKNOWN and not resource_globs:
        result.notes += weakened_deny_notes(old, new, min(WEAKENED_DENY_SECONDS, deadline.remaining_ms() / 1000))
    return result


KNOWN_ACTIONS_NOTE = (
    "proved for the actions that the bundled AWS reference defines only (--known-actions-only); "
    "a wildcard may still grant actions that AWS adds later"
)

# Seconds spent at most on looking for a Deny that the new version dropped.
WEAKENED_DENY_SECONDS = 5.0
# Every note of `weakened_deny_notes` starts with one of these, which
# reports use to show such a note as a warning.
WEAKENED_DENY_OPENINGS = ("the new version denies less:", "a Deny statement changed")


def is_weakened_deny_note(note: str) -> bool:
    return note.startswith(WEAKENED_DENY_OPENINGS)


def weakened_deny_notes(old: PolicyDocument, new: PolicyDocument, timeout: float) -> list[str]:
    """Name a request that a Deny of `old` denies and no Deny of `new` does.

    One policy's verdict cannot show this: the policy's own Allow statements
    may not reach the request, but identity policies or other grants that a
    bucket or key policy's Deny used to block now get through. The Deny
    statements of each version are read as Allow statements, and the
    no-new-access question between them finds such a request.
    """
    new_shapes = {_shape(s) for s in new.deny_statements}
    if all(_shape(s) in new_shapes for s in old.deny_statements) or timeout <= 0:
        return []

    def as_allows(policy: PolicyDocument) -> PolicyDocument:
        statements = tuple(s.model_copy(update={"effect": Effect.ALLOW}) for s in policy.deny_statements)
        return policy.model_copy(update={"statements": statements})

    try:
        result = _check(NoNewAccessProblem(as_allows(new), as_allows(old)), Deadline(timeout), CheckStats(), False)
    except UnsupportedFeatureError:
        return ["a Deny statement changed and could not be compared: the new version may deny less"]
    if result.verdict is Verdict.UNKNOWN:
        return [
            f"a Deny statement changed and the comparison ended without an answer ({result.reason}): "
            "the new version may deny less"
        ]
    if result.verdict is Verdict.PROVED or result.counterexample is None:
        return []
    request = result.counterexample
    labels = ", ".join(s.label for s in result.new_statements)
    caller = f" by `{request.principal}`" if request.principal else ""
    context = ", ".join(f"{key} = {value if isinstance(value, str) else list(value)}" for key, value in request.context.items())
    when = f" with {context}" if context else ""
    return [
        f"the new version denies less: {labels} of the old version denied `{request.action}` on "
        f"`{request.resource}`{caller}{when} and no Deny of the new version does, so other policies that allow it "
        "are no longer blocked"
    ]


class _StatementIndex:
    """Statements indexed by the actions they name, so that finding the
    statements relevant to a slice does not scan policies of thousands of
    statements."""

    def __init__(self, statements: list[EncodedStatement]) -> None:
        self.statements = statements
        self.by_literal: dict[str, list[int]] = {}
        self.by_service: dict[str | None, list[int]] = {}
        self.wildcard_by_service: dict[str | None, list[int]] = {}
        self.negated: list[int] = []
        for position, statement in enumerate(statements):
            if statement.negated_action:
                self.negated.append(position)
                continue
            for pattern in statement.action_patterns:
                service = service_of(pattern)
                self.by_service.setdefault(service, []).append(position)
                if glob.is_literal(pattern):
                    self.by_literal.setdefault(glob.literal_text(pattern), []).append(position)
                else:
                    self.wildcard_by_service.setdefault(service, []).append(position)
            if statement.unclear_actions:
                self.by_service.setdefault(None, []).append(position)
                self.wildcard_by_service.setdefault(None, []).append(position)

    def relevant(self, action_slice: ActionSlice) -> list[EncodedStatement]:
        """Statements that may match an action of the slice, in policy order."""
        concrete = action_slice.concrete
        service = service_of(action_slice.pattern)
        if concrete is not None and service is not None:
            positions = [
                *self.by_literal.get(concrete, ()),
                *self.wildcard_by_service.get(service, ()),
                *self.wildcard_by_service.get(None, ()),
                *self.negated,
            ]
        elif service is not None:
            positions = [*self.by_service.get(service, ()), *self.by_service.get(None, ()), *self.negated]
        else:
            positions = list(range(len(self.statements)))
        unique = sorted(set(positions))
        return [self.statements[p] for p in unique if self.statements[p].may_match(action_slice)]


class NoNewAccessProblem:
    """An encoded pair of policies and its slice queries. A query decides
    whether a request in a slice of a new Allow statement is allowed by
    `new` and not by `old`."""

    def __init__(
        self,
        old: PolicyDocument,
        new: PolicyDocument,
        *,
        accepted: PolicyDocument | None = None,
        resource_globs: tuple[str, ...] = (),
    ) -> None:
        if accepted is not None and accepted.deny_statements:
            raise ValueError("an accepted policy must contain only Allow statements")
        self.old, self.new, self.accepted = old, new, accepted
        self.resource_globs = resource_globs
        policies = [old, new] if accepted is None else [old, new, accepted]
        self.request = SymRequest(analyze_keys(policies))
        self.request.uses_principal = any(policy.names_principals for policy in policies)
        self.request.partitions = named_partitions(policies)
        self.display_names = _display_names(*policies)
        self.new_allows = [EncodedStatement(s, self.request) for s in new.allow_statements]
        self.old_allows = [EncodedStatement(s, self.request) for s in old.allow_statements]
        self.accepted_allows = [EncodedStatement(s, self.request) for s in accepted.allow_statements] if accepted else []
        self.old_denies = [EncodedStatement(s, self.request) for s in old.deny_statements]
        self.new_denies = [EncodedStatement(s, self.request) for s in new.deny_statements]
        new_deny_shapes = {_shape(s) for s in new.deny_statements}
        self.changed_old_denies = {id(d) for d in self.old_denies if _shape(d.statement) not in new_deny_shapes}
        self.variable_keys = sorted(
            {v.key for policy in policies for s in policy.statements for v in statement_variables(s)}
        )
        self._old_allow_index = _StatementIndex(self.old_allows)
        self._accepted_allow_index = _StatementIndex(self.accepted_allows)
        self._old_deny_index = _StatementIndex(self.old_denies)
        self._new_deny_index = _StatementIndex(self.new_denies)

    def relevant(self, action_slice: ActionSlice) -> tuple[list[EncodedStatement], ...]:
        """Return the new Deny, old Allow and old Deny statements that may
        match an action of the slice."""
        return (
            self._new_deny_index.relevant(action_slice),
            self._old_allow_index.relevant(action_slice),
            self._old_deny_index.relevant(action_slice),
        )

    def group_actions(self, allow: EncodedStatement, names: list[str]) -> tuple[list[list[str]], list[str]]:
        """Group lowercase action names whose one-action queries for `allow`
        differ only in the action.

        In a one-action slice every action test is decided without the
        solver, and no other part of a query mentions the action. So the
        query of an action depends on it only through the statements that
        match it, and actions matched by the same statements are all
        counterexamples or none is. Names that `allow` does not match are
        dropped. Returns the groups and the names whose statements have an
        action with white space, which `query` rejects as unsupported.
        """
        groups: dict[tuple[tuple[int, ...], ...], list[str]] = {}
        unsupported: list[str] = []
        for name in names:
            action_slice = one_action_slice(name)
            try:
                if not allow.may_match(action_slice):
                    continue
                parts = (*self.relevant(action_slice), self._accepted_allow_index.relevant(action_slice))
                key = tuple(tuple(id(s) for s in part) for part in parts)
            except UnsupportedFeatureError:
                unsupported.append(name)
                continue
            groups.setdefault(key, []).append(name)
        return list(groups.values()), unsupported

    def assertions(self, allow: EncodedStatement, action_slice: ActionSlice) -> list[z3.BoolRef] | None:
        """Return the slice query as z3 assertions, or None when an old
        statement covers the slice without the solver."""
        relevant_new_denies, relevant_old_allows, relevant_old_denies = self.relevant(action_slice)
        if _covered(allow, action_slice, relevant_old_allows, relevant_old_denies, self.changed_old_denies):
            return None
        return [
            _in_slice(self.request, action_slice),
            allow.formula(action_slice),
            *[z3.Not(d.formula(action_slice)) for d in relevant_new_denies],
            any_of(
                [
                    all_of([z3.Not(b.formula(action_slice)) for b in relevant_old_allows]),
                    *[d.formula(action_slice) for d in relevant_old_denies],
                ]
            ),
            *[z3.Not(a.formula(action_slice)) for a in self._accepted_allow_index.relevant(action_slice)],
            *self._resource_filter(),
            *self.request.domain(),
        ]

    def _resource_filter(self) -> list[z3.BoolRef]:
        if not self.resource_globs:
            return []
        compiled = [glob.compile_glob(parse_pattern(text, variables=False, wildcards=True)) for text in self.resource_globs]
        return [any_of([match_regex(self.request.resource, pattern) for pattern in compiled])]

    def is_new_access(self, request: Request) -> bool:
        """Decide concretely whether `request` answers the question: `new`
        allows it, `old` and `accepted` do not, and its resource matches
        one of `resource_globs` when they are given."""
        if not evaluate(self.new, request).allowed or evaluate(self.old, request).allowed:
            return False
        if self.accepted is not None and evaluate(self.accepted, request).allowed:
            return False
        return not self.resource_globs or any(like_matches(text, request.resource) for text in self.resource_globs)

    def query(
        self, allow: EncodedStatement, action_slice: ActionSlice, deadline: Deadline, stats: CheckStats
    ) -> tuple[SolveResult | None, list[z3.BoolRef]]:
        """Solve one slice; the result is None when the slice is covered
        without the solver. Also returns the assertions, for a second solve."""
        stats.slices += 1
        assertions = self.assertions(allow, action_slice)
        if assertions is None:
            stats.covered_syntactically += 1
            return None, []
        return self.solve(assertions, deadline, stats), assertions

    def solve(self, assertions: list[z3.BoolRef], deadline: Deadline, stats: CheckStats) -> SolveResult:
        """Solve a query of this problem, once per form of the principal when
        a statement names principals. On a model, `assertions` is extended
        with the facts of the form it found."""
        cases = self.request.principal_cases()
        if not cases:
            return _solve_with_hints(assertions, self.request, self.variable_keys, deadline, stats)
        return solve_principal_cases(assertions, cases, self.request, self.variable_keys, deadline, stats)


def solve_principal_cases(
    assertions: list[z3.BoolRef],
    cases: list[tuple[int, list[z3.BoolRef]]],
    request: SymRequest,
    variable_keys: list[str],
    deadline: Deadline,
    stats: CheckStats,
) -> SolveResult:
    """Solve once per form of the principal. The query is satisfiable when
    one case is; a satisfiable case's facts are added to `assertions`, so
    that later solves for a readable model keep them."""
    unknown: SolveResult | None = None
    for _, facts in cases:
        trial = assertions + facts
        result = _solve_with_hints(trial, request, variable_keys, deadline, stats)
        if result.status == z3.sat:
            assertions[:] = trial
            return result
        if result.status == z3.unknown:
            unknown = result
            if deadline.expired():
                break
    return unknown or SolveResult(z3.unsat, None, None, 0.0)


def _check(problem: NoNewAccessProblem, deadline: Deadline, stats: CheckStats, known_actions_only: bool) -> CheckResult:
    request = problem.request
    unknown_reasons: list[str] = []
    # A counterexample whose action no service defines. The search goes on
    # for one with a defined action in the other slices, and this one is
    # reported only when none has.
    unnamed: Request | None = None
    naming_complete = True

    for encoded in problem.new_allows:
        slices = _known_action_slices(encoded) if known_actions_only else _slices(encoded)
        for action_slice in slices:
            if deadline.expired():
                if unnamed is not None:
                    return _confirmed(problem, unnamed, stats, [UNNAMED_ACTION_NOTE])
                return CheckResult(Verdict.UNKNOWN, reason="timed out", stats=stats)
            if unnamed is not None and not _defined_actions(action_slice):
                continue
            result, assertions = problem.query(encoded, action_slice, deadline, stats)
            if result is None:
                continue
            if result.status == z3.sat:
                model, naming = _readable_model(problem, encoded, action_slice, assertions, deadline, stats)
                counterexample = extract_request(model or result.model, request, problem.display_names)
                counterexample = _realistic_resource(problem, _with_canonical_action(counterexample))
                if naming is Naming.DEFINED:
                    return _confirmed(problem, counterexample, stats, [])
                if unnamed is None:
                    unnamed = counterexample
                naming_complete = naming_complete and naming is Naming.NONE_DEFINED
                continue
            if result.status == z3.unknown:
                label = encoded.statement.label
                unknown_reasons.append(f"{label}, actions `{_slice_text(action_slice)}`: {result.reason}")
                if result.reason == "timed out":
                    break
    if unnamed is not None:
        complete = naming_complete and not unknown_reasons
        return _confirmed(problem, unnamed, stats, [UNKNOWN_ACTION_NOTE if complete else UNNAMED_ACTION_NOTE])
    if unknown_reasons:
        return CheckResult(Verdict.UNKNOWN, reason="; ".join(unknown_reasons[:3]), stats=stats)
    return CheckResult(Verdict.PROVED, stats=stats)


# Seconds for the attempt with fixed policy-variable values (see below).
HINT_SECONDS = 2.0


def _solve_with_hints(
    assertions: list[z3.BoolRef], request: SymRequest, variable_keys: list[str], deadline: Deadline, stats: CheckStats
) -> SolveResult:
    """Solve a slice, first with every key used as a policy variable fixed to
    a short distinct value.

    Word equations around policy variables can make both solvers time out
    on queries whose counterexamples are simple. The first attempt only
    narrows the request space, so a model it finds is a real counterexample
    (and is replayed like any other); when it finds none, the full query
    decides.
    """
    hints: list[z3.BoolRef] = []
    for index, name in enumerate(variable_keys):
        key = request.keys.get(name)
        if key is None or key.elements[0].text is None:
            continue
        hints.append(z3.And(key.present, key.single(), key.elements[0].text == literal(f"v{index + 1}")))
    if hints:
        hinted = solve(assertions + hints, Deadline(min(HINT_SECONDS, deadline.remaining_ms() / 1000)), request.variables())
        stats.solver_calls += 1
        stats.solver_seconds += hinted.seconds
        if hinted.status == z3.sat:
            assertions.extend(hints)
            return hinted
    result = solve(assertions, deadline, request.variables())
    stats.solver_calls += 1
    stats.solver_seconds += result.seconds
    return result


def _known_action_slices(statement: EncodedStatement) -> list[ActionSlice]:
    """Return one concrete slice per action of the bundled reference that
    the statement's slices contain."""
    from verifier.catalog import default_catalog

    catalog = default_catalog()
    names: dict[str, None] = {}
    for action_slice in _slices(statement):
        for name in catalog.actions_matching(_slice_text(action_slice)):
            names[ascii_lower(name)] = None
    return [ActionSlice(compile_action(name)) for name in names]


def one_action_slice(name: str) -> ActionSlice:
    """Return the slice of one action name, such as `s3:getobject`, without
    parsing it when it contains no wildcard."""
    if "*" in name or "?" in name or not name:
        return ActionSlice(compile_action(name))
    return ActionSlice((glob.Lit(ascii_lower(name)),))


def _slices(statement: EncodedStatement) -> list[ActionSlice]:
    if statement.negated_action:
        return [ActionSlice(ANY_ACTION)]
    # A name with white space gets the slice of its trimmed reading; solving
    # that slice reports it as unsupported unless an old statement covers
    # both readings.
    patterns = list(dict.fromkeys([*statement.action_patterns, *statement.unclear_actions.values()]))
    if ANY_ACTION in patterns:
        return [ActionSlice(ANY_ACTION)]
    return [ActionSlice(p) for p in patterns]


def _slice_text(action_slice: ActionSlice) -> str:
    parts = []
    for element in action_slice.pattern:
        if isinstance(element, glob.Lit):
            parts.append(element.text)
        elif isinstance(element, glob.Many):
            parts.append("*")
        else:
            parts.append("?")
    return "".join(parts)


def _in_slice(request: SymRequest, action_slice: ActionSlice) -> z3.BoolRef:
    concrete = action_slice.concrete
    if concrete is not None:
        return request.action == literal(concrete)
    if action_slice.pattern == ANY_ACTION:
        return z3.BoolVal(True)
    return z3.InRe(request.action, to_regex(action_slice.pattern))


def _shape(statement: Statement) -> str:
    """Statement content without its position and Sid, for identity tests."""
    return statement.model_dump_json(exclude={"index": True, "sid": True, "line": True, "conditions": {"__all__": {"path"}}})


def _covered(
    allow: EncodedStatement,
    action_slice: ActionSlice,
    old_allows: list[EncodedStatement],
    old_denies: list[EncodedStatement],
    changed_old_denies: set[int],
) -> bool:
    """Decide a slice without the solver when an old Allow statement is at
    least as wide as `allow` on it and `new` keeps every old Deny touching it.
    Returns False when unsure; the solver then decides."""
    if any(id(d) in changed_old_denies for d in old_denies):
        return False
    return any(_wider(old, allow, action_slice) for old in old_allows)


def _wider(old: EncodedStatement, new: EncodedStatement, action_slice: ActionSlice) -> bool:
    if old.negated_action:
        return False
    if not any(glob.includes(p, action_slice.pattern) for p in old.action_patterns_touching(action_slice)):
        return False
    key = id(new)
    if key not in old.wider_than:
        old.wider_than[key] = _rest_wider(old, new)
    return old.wider_than[key]


def _rest_wider(old: EncodedStatement, new: EncodedStatement) -> bool:
    """True if `old` is at least as wide as `new` in every element but the action."""
    old_s, new_s = old.statement, new.statement
    if (old_s.principal, old_s.not_principal) != (new_s.principal, new_s.not_principal):
        return False
    if old_s.substitutes_variables != new_s.substitutes_variables:
        return False
    old_conditions = {(c.operator.text, c.key_name, c.values) for c in old_s.conditions}
    new_conditions = {(c.operator.text, c.key_name, c.values) for c in new_s.conditions}
    if not old_conditions <= new_conditions:
        return False
    return _resources_wider(old, new)


def _resources_wider(old: EncodedStatement, new: EncodedStatement) -> bool:
    old_patterns, new_patterns = old.resource_patterns, new.resource_patterns
    if old_patterns is None:
        return old.statement.not_resources is None and old.statement.resources is None
    if new_patterns is None:
        return False
    if old.statement.resources is None or new.statement.resources is None:
        # NotResource on either side: accept only identical lists.
        return old.statement.not_resources == new.statement.not_resources and old.statement.resources == new.statement.resources
    for inner in new_patterns:
        if not any(_pattern_includes(outer, inner) for outer in old_patterns):
            return False
    return True


def _pattern_includes(outer: glob.Compiled, inner: glob.Compiled) -> bool:
    if outer == inner:
        return True
    if glob.has_var(outer) or glob.has_var(inner):
        return False
    return glob.includes(outer, inner)


# Most candidate actions offered to the solver in one regular expression.
# Slices with more, and union queries that time out, are searched one group
# of actions at a time (`NoNewAccessProblem.group_actions`).
MAX_CANDIDATE_ACTIONS = 2000
UNKNOWN_ACTION_NOTE = (
    "no action that AWS defines today fits this difference; the counterexample "
    "uses a name that only a wildcard matches, which also grants actions AWS adds later"
)
UNNAMED_ACTION_NOTE = (
    "no action that AWS defines today was found for this difference before the time "
    "limit; the counterexample uses a name that only a wildcard matches"
)


class Naming(Enum):
    """Outcome of the search for a counterexample with a defined action."""

    DEFINED = "defined"  # the model's action is one the bundled reference defines
    NONE_DEFINED = "none defined"  # the solver showed that no defined action fits the slice
    UNDECIDED = "undecided"  # the search ran out of time or met an unsupported construct


def _readable_model(
    problem: NoNewAccessProblem,
    allow: EncodedStatement,
    action_slice: ActionSlice,
    assertions: list[z3.BoolRef],
    deadline: Deadline,
    stats: CheckStats,
) -> tuple[z3.ModelRef | None, Naming]:
    """Solve again for a counterexample that reads well.

    Tiers, first success wins: an action that the bundled Service
    Authorization Reference defines (`_defined_action_model`); an action
    made of letters, digits and hyphens; any printable ASCII. Each tier also
    requires strings without white space. The resource is made readable
    afterwards, without the solver (`_realistic_resource`). Returns the
    model, None when no tier succeeds, and the outcome of the search for a
    defined action.
    """
    request = problem.request
    budget = Deadline(min(READABLE_MODEL_SECONDS, deadline.remaining_ms() / 1000))
    no_spaces = _printable_strings(request)
    names = _defined_actions(action_slice)
    naming = Naming.NONE_DEFINED
    if names:
        known, known_assertions, known_extra, naming = _defined_action_model(
            problem, allow, assertions, names, budget, deadline, stats
        )
        if known is not None:
            readable = _solve_readable(known_assertions, known_extra + no_spaces, budget, request)
            return (readable.model if readable.status == z3.sat else known), Naming.DEFINED
    word = z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("-"))
    action_shape = z3.Concat(z3.Plus(word), z3.Re(":"), z3.Plus(word))
    strings = [request.resource] + [e.text for key in request.keys.values() for e in key.elements if e.text is not None]
    tiers = [
        [z3.InRe(request.action, action_shape)] + no_spaces,
        [z3.InRe(s, z3.Star(z3.Range(" ", "~"))) for s in [request.action, *strings]],
    ]
    for extra in tiers:
        if budget.expired():
            break
        result = _solve_readable(assertions, extra, budget, request)
        if result.status == z3.sat:
            return result.model, naming
    return None, naming


def _printable_strings(request: SymRequest) -> list[z3.BoolRef]:
    """Constraints that keep the resource, the context strings and the
    principal free of white space and control characters."""
    strings = [request.resource]
    for key in request.keys.values():
        strings += [e.text for e in key.elements if e.text is not None]
    constraints = [z3.InRe(s, z3.Star(z3.Range("!", "~"))) for s in strings]
    if request.uses_principal:
        constraints += request.principal_model.readable_facts()
    return constraints


def _defined_action_model(
    problem: NoNewAccessProblem,
    allow: EncodedStatement,
    assertions: list[z3.BoolRef],
    names: list[str],
    budget: Deadline,
    deadline: Deadline,
    stats: CheckStats,
) -> tuple[z3.ModelRef | None, list[z3.BoolRef], list[z3.BoolRef], Naming]:
    """Find a model of the slice query whose action is one of `names`.

    One query with all names as a regular-expression union comes first,
    within the readability budget. When it times out, or when there are too
    many names for one union, the names are searched group by group
    (`NoNewAccessProblem.group_actions`). Each group gets one query under
    the check's own deadline, so a slow union query does not hide a defined
    action. Returns the model, the query it satisfies, and the constraint
    that puts a defined action in it, if that is not part of the query.
    The two are kept apart because `_solve_readable` replays cvc5 models in
    z3 against the query only, and z3 can take minutes to evaluate a union
    of many names.
    """
    request = problem.request
    if len(names) <= MAX_CANDIDATE_ACTIONS:
        options = [z3.Re(literal(ascii_lower(name))) for name in names]
        union = z3.InRe(request.action, options[0] if len(options) == 1 else z3.Union(*options))
        result = _solve_readable(assertions, [union], budget, request)
        if result.status == z3.sat:
            return result.model, assertions, [union], Naming.DEFINED
        if result.status == z3.unsat:
            return None, [], [], Naming.NONE_DEFINED

    groups, unsupported = problem.group_actions(allow, [ascii_lower(name) for name in names])
    undecided = bool(unsupported)
    for group in groups:
        if deadline.expired():
            return None, [], [], Naming.UNDECIDED
        try:
            group_assertions = problem.assertions(allow, one_action_slice(group[0]))
        except UnsupportedFeatureError:
            undecided = True
            continue
        if group_assertions is None:
            continue
        result = problem.solve(group_assertions, deadline, stats)
        if result.status == z3.sat:
            return result.model, group_assertions, [], Naming.DEFINED
        undecided = undecided or result.status == z3.unknown
    return None, [], [], Naming.UNDECIDED if undecided else Naming.NONE_DEFINED


def _solve_readable(
    assertions: list[z3.BoolRef], extra: list[z3.BoolRef], budget: Deadline, request: SymRequest
) -> SolveResult:
    # A cvc5 model is checked in z3 against the original assertions only:
    # evaluating the added ARN-format and character-class expressions in
    # z3 5.4.1 took 55 s on a managed pair. The added constraints shape the
    # counterexample, not the verdict, and the concrete evaluator replays the
    # result anyway. z3 does not get these queries at all: on one managed
    # pair it ran 26 s past a 150 ms timeout and ignored an interrupt. Each
    # tier gets at most a third of the budget.
    tier = Deadline(min(budget.remaining_ms(), READABLE_MODEL_SECONDS * 1000 / 3) / 1000)
    return solve(assertions + extra, tier, request.variables(), z3_first_ms=0, z3_last=False, verified=assertions)


def _defined_actions(action_slice: ActionSlice) -> list[str]:
    """Return the canonical names of the bundled reference's actions in the slice."""
    from verifier.catalog import default_catalog

    return default_catalog().actions_matching(_slice_text(action_slice))


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


_FORMAT_VALUES = {"Partition": "aws", "Region": "us-east-1", "Account": "123456789012"}


def _realistic_resource(problem: NoNewAccessProblem, request: Request) -> Request:
    """Swap the solver's resource for a readable one when the concrete
    evaluator confirms that the swap keeps the request a counterexample.

    Candidates are the new policy's Resource patterns with wildcards filled
    in, then the ARN formats of the action from the bundled reference.
    """
    from verifier.catalog import default_catalog

    candidates: list[str] = []
    # Text that a resource glob requires, such as `prod` of `*prod*`, fills
    # the first wildcard of a Resource pattern.
    fillers = [max(re.split(r"[*?]", text), key=len) for text in problem.resource_globs]
    for statement in problem.new.allow_statements:
        for text in statement.resources or ():
            if text.startswith("arn:") and "${" not in text:
                candidates += [text.replace("*", filler, 1).replace("*", "example").replace("?", "x") for filler in fillers if filler]
                candidates.append(text.replace("*", "example").replace("?", "x"))
    candidates += [text.replace("*", "example").replace("?", "x") for text in problem.resource_globs]
    action = default_catalog().action(request.action)
    for resource_type in action.resource_types if action else ():
        for arn_format in resource_type.resource_type.arn_formats:
            candidates.append(_PLACEHOLDER.sub(lambda m: _FORMAT_VALUES.get(m.group(1), "example"), arn_format))
    if action is not None and not action.resource_types:
        candidates.insert(0, "*")
    if not request.resource:
        # An empty resource reads as a missing value; any ARN of the
        # action's service, or `*`, reads better when it still fits.
        service = request.action.split(":", 1)[0]
        candidates += [f"arn:aws:{service}:us-east-1:123456789012:example", f"arn:aws:{service}:::example", "*"]
    for candidate in candidates:
        if candidate == request.resource:
            return request
        trial = Request(action=request.action, resource=candidate, principal=request.principal, context=request.context)
        if problem.is_new_access(trial):
            return trial
    return request


def _with_canonical_action(request: Request) -> Request:
    """Spell the action as the reference does (`s3:GetObject`), when known."""
    from verifier.catalog import default_catalog

    action = default_catalog().action(request.action)
    if action is None:
        return request
    return Request(action=action.name, resource=request.resource, principal=request.principal, context=request.context)


def _display_names(*policies: PolicyDocument) -> dict[str, str]:
    names: dict[str, str] = {}
    for policy in policies:
        for statement in policy.statements:
            for condition in statement.conditions:
                names.setdefault(condition.key_name, condition.key)
    return names


_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]+)\}")


def _decode(value: z3.SeqRef) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value.as_string())


def extract_request(model: z3.ModelRef, request: SymRequest, display_names: dict[str, str]) -> Request:
    """Turn a z3 model into a concrete request."""
    value = lambda term: model.eval(term, model_completion=True)  # noqa: E731
    context: dict[str, str | tuple[str, ...]] = {}
    for name, key in request.keys.items():
        if not z3.is_true(value(key.present)):
            continue
        count = value(key.count).as_long() if key.count is not None else 1
        rendered = [_render(value, key.info.type, element) for element in key.elements[:count]]
        shown = display_names.get(name, name)
        context[shown] = tuple(rendered) if key.info.multivalued else rendered[0]
    return Request(
        action=_decode(value(request.action)),
        resource=_decode(value(request.resource)),
        principal=principal_text(model, request.principal_model, _decode) if request.uses_principal else None,
        context=context,
    )


def _render(value, key_type: KeyType, element) -> str:
    from fractions import Fraction

    if key_type is KeyType.STRING:
        return _decode(value(element.text))
    if not z3.is_true(value(element.parses)):
        return {KeyType.NUMERIC: "not-a-number", KeyType.DATE: "not-a-date", KeyType.BOOL: "not-a-boolean", KeyType.IP: "not-an-address"}[key_type]
    if key_type in (KeyType.NUMERIC, KeyType.DATE):
        number = value(element.number)
        fraction = Fraction(number.numerator_as_long(), number.denominator_as_long())
        return format_number(fraction) if key_type is KeyType.NUMERIC else format_date(fraction)
    if key_type is KeyType.BOOL:
        return "true" if z3.is_true(value(element.flag)) else "false"
    import ipaddress

    address = value(element.address).as_long()
    if z3.is_true(value(element.is_v6)):
        return str(ipaddress.IPv6Address(address))
    return str(ipaddress.IPv4Address(address))


def _confirmed(problem: NoNewAccessProblem, counterexample: Request, stats: CheckStats, notes: list[str]) -> CheckResult:
    """Replay a counterexample through the concrete evaluator before output."""
    new_decision = evaluate(problem.new, counterexample)
    old_decision = evaluate(problem.old, counterexample)
    if not problem.is_new_access(counterexample):
        raise InternalError(
            "the counterexample failed replay through the concrete evaluator "
            f"(new allows: {new_decision.allowed}, old allows: {old_decision.allowed}): {counterexample}"
        )
    return CheckResult(
        Verdict.REFUTED,
        counterexample=counterexample,
        new_statements=new_decision.allow_statements,
        old_statements=old_decision.deny_statements,
        notes=notes,
        stats=stats,
    )
