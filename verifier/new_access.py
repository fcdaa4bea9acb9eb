"""List every defined AWS action that a new policy version newly allows.

For each Allow statement of the new version and each action of the bundled
Service Authorization Reference that the statement's action patterns match,
the slice query of `verifier.check` decides whether some request with that
action is allowed by the new version and not by the old one. Actions that
no service defines are not listed; `check` reports them separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3

from verifier.check import CheckStats, NoNewAccessProblem, _slice_text, _slices, extract_request
from verifier.encode.statement import ActionSlice, ascii_lower, compile_action
from verifier.errors import InternalError, UnsupportedFeatureError
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
    question as in `check_no_new_access`."""
    from verifier.catalog import default_catalog

    catalog = default_catalog()
    deadline = Deadline(timeout)
    stats = CheckStats()
    problem = NoNewAccessProblem(old, new, accepted=accepted, resource_globs=resource_globs)
    found: dict[str, NewAccess] = {}
    undecided: list[str] = []
    for allow in problem.new_allows:
        names: dict[str, None] = {}
        for action_slice in _slices(allow):
            for name in catalog.actions_matching(_slice_text(action_slice)):
                names[name] = None
        for name in names:
            if deadline.expired():
                return NewAccessListing(_sorted(found), undecided, complete=False)
            concrete = ActionSlice(compile_action(ascii_lower(name)))
            try:
                result, _ = problem.query(allow, concrete, deadline, stats)
            except UnsupportedFeatureError:
                undecided.append(name)
                continue
            if result is None or result.status == z3.unsat:
                continue
            if result.status == z3.unknown:
                undecided.append(name)
                continue
            _replay(problem, result.model, name)
            entry = found.get(name)
            if entry is None:
                action = catalog.action(name)
                entry = NewAccess(name, name.split(":", 1)[0], action.access_level if action else None)
                found[name] = entry
            entry.statements.append(allow.statement)
    return NewAccessListing(_sorted(found), sorted(set(undecided)), complete=True)


def _replay(problem: NoNewAccessProblem, model: z3.ModelRef, name: str) -> None:
    """Confirm a listed action with a concrete request, as for counterexamples."""
    request = extract_request(model, problem.request, problem.display_names)
    if not problem.is_new_access(request):
        raise InternalError(f"the witness of new access for `{name}` failed replay: {request}")


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


def listing_text(listing: NewAccessListing) -> list[str]:
    """Text lines of the listing, grouped by service and access level."""
    if not listing.entries and not listing.undecided:
        return ["  no action that AWS defines is newly allowed"]
    lines = [f"  newly allowed actions ({len(listing.entries)}):"]
    group: tuple[str, str | None] | None = None
    for entry in listing.entries:
        if (entry.service, entry.access_level) != group:
            group = (entry.service, entry.access_level)
            lines.append(f"    {entry.service} ({entry.access_level or 'unknown access level'}):")
        where = ", ".join(_resources(entry.statements))
        conditional = " with conditions" if any(s.conditions for s in entry.statements) else ""
        lines.append(f"      {entry.action} on {where}{conditional}")
    if listing.undecided:
        lines.append(f"  undecided (no answer in time or unsupported): {', '.join(listing.undecided)}")
    if not listing.complete:
        lines.append("  the listing is incomplete: the time limit ran out")
    return lines
