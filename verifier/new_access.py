"""List every defined AWS action that a new policy version newly allows.

For each Allow statement of the new version and each action of the bundled
Service Authorization Reference that the statement's action patterns match,
the slice query of `verifier.check` decides whether some request with that
action is allowed by the new version and not by the old one. Actions that
no service defines are not listed; `check` reports them separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import z3

from verifier.check import CheckStats, NoNewAccessProblem, _slice_text, _slices, extract_request, one_action_slice
from verifier.encode.statement import ascii_lower
from verifier.errors import InternalError, UnsupportedFeatureError
from verifier.evaluate import Request, evaluate
from verifier.policy.document import PolicyDocument, Statement
from verifier.solver import Deadline


@dataclass
class NewAccess:
    """One defined action that the new version newly allows, with the
    statements that grant it."""

    action: str
    service: str
    access_level: str | None
    statements: list[Statement] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "access_level": self.access_level,
            "resources": _resources(self.statements),
            "conditions": [_conditions(s) for s in self.statements],
            "statements": [s.path for s in self.statements],
        }


@dataclass
class NewAccessListing:
    entries: list[NewAccess]
    # Actions whose query ended without a verdict (timeout or unsupported construct).
    undecided: list[str]
    complete: bool


def list_new_access(
    old: PolicyDocument,
    new: PolicyDocument,
    timeout: float = 30.0,
    *,
    accepted: PolicyDocument | None = None,
    resource_globs: tuple[str, ...] = (),
) -> NewAccessListing:
    """Find every defined action that `new` allows for some request that
    `old` does not allow. `accepted` and `resource_globs` narrow the
    question as in `check_no_new_access`.

    Actions whose one-action queries differ only in the action
    (`NoNewAccessProblem.group_actions`) share one solver query, and the
    request it finds is replayed for each of them with its own action.
    """
    from verifier.catalog import default_catalog

    catalog = default_catalog()
    deadline = Deadline(timeout)
    stats = CheckStats()
    problem = NoNewAccessProblem(old, new, accepted=accepted, resource_globs=resource_globs)
    replay = _Replay(problem)
    found: dict[str, NewAccess] = {}
    undecided: list[str] = []
    for allow in problem.new_allows:
        canonical: dict[str, str] = {}
        for action_slice in _slices(allow):
            for name in catalog.actions_matching(_slice_text(action_slice)):
                canonical[ascii_lower(name)] = name
        groups, unsupported = problem.group_actions(allow, list(canonical))
        undecided += [canonical[name] for name in unsupported]
        for group in groups:
            if deadline.expired():
                return NewAccessListing(_sorted(found), sorted(set(undecided)), complete=False)
            names = [canonical[name] for name in group]
            try:
                result, _ = problem.query(allow, one_action_slice(group[0]), deadline, stats)
            except UnsupportedFeatureError:
                undecided += names
                continue
            if result is None or result.status == z3.unsat:
                continue
            if result.status == z3.unknown:
                undecided += names
                continue
            witness = extract_request(result.model, problem.request, problem.display_names)
            for name in names:
                replay.confirm(witness, name)
                entry = found.get(name)
                if entry is None:
                    action = catalog.action(name)
                    entry = NewAccess(name, name.split(":", 1)[0], action.access_level if action else None)
                    found[name] = entry
                entry.statements.append(allow.statement)
    return NewAccessListing(_sorted(found), sorted(set(undecided)), complete=True)


class _Replay:
    """Confirm listed actions with concrete requests, as for counterexamples.

    Each replay evaluates only the statements whose Action element can match
    the action: a NotAction statement, or an Action pattern whose text up to
    its first wildcard starts the action, ignoring ASCII case. Every other
    statement cannot match, because `*` and `?` are the only special
    characters in action patterns, so the decision is the same as on the
    whole policy. For policies of thousands of patterns this skips most of
    the evaluator's work.
    """

    def __init__(self, problem: NoNewAccessProblem) -> None:
        self.problem = problem
        self.old_statements = _literal_prefixes(problem.old)
        self.new_statements = _literal_prefixes(problem.new)

    def confirm(self, witness: Request, name: str) -> None:
        request = replace(witness, action=name)
        new_allows = evaluate(_restricted(self.problem.new, self.new_statements, name), request).allowed
        old_allows = evaluate(_restricted(self.problem.old, self.old_statements, name), request).allowed
        # The accepted policy and the resource globs narrow the question as
        # in `NoNewAccessProblem.is_new_access`.
        narrowed = self.problem.accepted is not None or self.problem.resource_globs
        if not new_allows or old_allows or (narrowed and not self.problem.is_new_access(request)):
            raise InternalError(f"the witness of new access for `{name}` failed replay: {request}")


def _literal_prefixes(policy: PolicyDocument) -> list[tuple[Statement, tuple[str, ...] | None]]:
    """Pair each statement with the lowercase literal prefixes of its Action
    patterns, or None for a NotAction statement."""
    paired = []
    for statement in policy.statements:
        if statement.actions is None:
            paired.append((statement, None))
            continue
        prefixes = tuple(ascii_lower(re.split(r"[*?]", pattern, maxsplit=1)[0]) for pattern in statement.actions)
        paired.append((statement, prefixes))
    return paired


def _restricted(
    policy: PolicyDocument, statements: list[tuple[Statement, tuple[str, ...] | None]], name: str
) -> PolicyDocument:
    """Return the policy with only the statements, and in them only the
    Action patterns, that can match the action `name`."""
    lowered = ascii_lower(name)
    matching = []
    for statement, prefixes in statements:
        if prefixes is None:
            matching.append(statement)
            continue
        assert statement.actions is not None
        patterns = tuple(p for p, prefix in zip(statement.actions, prefixes) if lowered.startswith(prefix))
        if patterns:
            matching.append(statement.model_copy(update={"actions": patterns}))
    return policy.model_copy(update={"statements": tuple(matching)})


_LEVEL_ORDER = ["List", "Read", "Write", "Permissions management", "Tagging"]


def _sorted(found: dict[str, NewAccess]) -> list[NewAccess]:
    def order(entry: NewAccess) -> tuple[str, int, str]:
        level = _LEVEL_ORDER.index(entry.access_level) if entry.access_level in _LEVEL_ORDER else len(_LEVEL_ORDER)
        return (entry.service, level, entry.action)

    return sorted(found.values(), key=order)


def _resources(statements: list[Statement]) -> list[str]:
    patterns: dict[str, None] = {}
    for statement in statements:
        if statement.resources is not None:
            patterns.update(dict.fromkeys(statement.resources))
        elif statement.not_resources is not None:
            patterns.update(dict.fromkeys(f"NotResource {r}" for r in statement.not_resources))
        else:
            patterns["*"] = None
    return list(patterns)


def _conditions(statement: Statement) -> dict[str, dict[str, list[str]]]:
    block: dict[str, dict[str, list[str]]] = {}
    for condition in statement.conditions:
        block.setdefault(condition.operator.text, {})[condition.key] = list(condition.values)
    return block


# Actions listed one per line before the text listing counts them per
# service and access level instead (`Action: "*"` newly allows over 20,000).
MAX_LISTED_ACTIONS = 200


def listing_text(listing: NewAccessListing) -> list[str]:
    """Text lines of the listing, grouped by service and access level."""
    if not listing.entries and not listing.undecided:
        return ["  no action that AWS defines is newly allowed"]
    lines = [f"  newly allowed actions ({len(listing.entries)}):"]
    if len(listing.entries) > MAX_LISTED_ACTIONS:
        return lines + _counted_lines(listing)
    group: tuple[str, str | None] | None = None
    for entry in listing.entries:
        if (entry.service, entry.access_level) != group:
            group = (entry.service, entry.access_level)
            lines.append(f"    {entry.service} ({entry.access_level or 'unknown access level'}):")
        where = ", ".join(_resources(entry.statements))
        conditional = " with conditions" if any(s.conditions for s in entry.statements) else ""
        lines.append(f"      {entry.action} on {where}{conditional}")
    return lines + _listing_status(listing)


def _counted_lines(listing: NewAccessListing) -> list[str]:
    """Count the newly allowed actions per service and access level."""
    counts: dict[str, dict[str, int]] = {}
    for entry in listing.entries:
        levels = counts.setdefault(entry.service, {})
        level = entry.access_level or "unknown access level"
        levels[level] = levels.get(level, 0) + 1
    lines = [f"    more than {MAX_LISTED_ACTIONS}, so counted per service; --format json lists each action"]
    for service, levels in counts.items():
        detail = ", ".join(f"{level} {count}" for level, count in levels.items())
        lines.append(f"    {service}: {sum(levels.values())} ({detail})")
    return lines + _listing_status(listing)


def _listing_status(listing: NewAccessListing) -> list[str]:
    lines = []
    if listing.undecided:
        lines.append(f"  undecided (no answer in time or unsupported): {', '.join(listing.undecided)}")
    if not listing.complete:
        lines.append("  the listing is incomplete: the time limit ran out")
    return lines
