"""Describe every caller that a trust or resource policy lets in.

The description is a list of entries (a role, a user, an account, an
organization, a service, a federated provider, any AWS account, anyone) and
is built by repeated solving: find an allowed caller that no entry covers,
add the narrowest entry that the policy's own names give for it, and solve
again. When no uncovered caller is left, the solver has proved that the
entries cover every allowed caller. Each entry then lists, with their conditions, the Allow
statements that let in some of its callers and the Deny statements that
turn away some requests that those Allow statements grant them. One solver
query per statement and group decides each listing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3

from verifier.encode.logic import any_of, literal
from verifier.encode.principal import Kind, parse_principal
from verifier.encode.request import SymRequest, named_partitions
from verifier.errors import InternalError, UnsupportedFeatureError
from verifier.evaluate import Request, evaluate
from verifier.keys import analyze_keys
from verifier.policy.document import Effect, Principal, PolicyDocument, Statement
from verifier.prove import action_constraints, allowed_constraints, named_in, policy_kind, readable_model, statement_formulas
from verifier.solver import Deadline, solve
from verifier.zone import ACCOUNT_ID

# Entries found before the description counts as too long to be useful.
MAX_ENTRIES = 50


@dataclass
class Entry:
    """A group of callers: `scope` is one of role, user, principal,
    canonical-user, account, organization, any-account, service, any-service, federated,
    any-federated, anonymous; `name` identifies the group where the scope
    needs one."""

    scope: str
    name: str | None
    example: Request
    statements: tuple[Statement, ...] = ()
    # Deny statements that deny some request that `statements` allow to a
    # caller of the group.
    denials: tuple[Statement, ...] = ()
    # Statements for which the solver decided neither way, within the time
    # limit, whether they allow or deny some caller of the group.
    undecided: tuple[Statement, ...] = ()

    def text(self) -> str:
        names = {
            "role": f"sessions of role {self.name}",
            "user": f"IAM user {self.name}",
            "principal": f"principal {self.name}",
            "canonical-user": f"the account of S3 canonical user {self.name}",
            "account": f"any principal of account {self.name}",
            "organization": f"any principal of an account in organization {self.name}",
            "any-account": "any principal of any AWS account",
            "service": f"service {self.name}",
            "any-service": "any AWS service",
            "federated": f"identities from provider {self.name}",
            "any-federated": "identities from any federated provider",
            "anonymous": "anyone, including anonymous callers",
        }
        return names[self.scope]

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "name": self.name,
            "description": self.text(),
            "example_principal": self.example.principal,
            "statements": [_statement_json(s) for s in self.statements],
            "denied_by": [_statement_json(s) for s in self.denials],
            "undecided": [_statement_json(s) for s in self.undecided],
        }


def _statement_json(statement: Statement) -> dict[str, Any]:
    return {
        "index": statement.index,
        "sid": statement.sid,
        "path": statement.path,
        "line": statement.line,
        "principal": _principal_scope(statement),
        "conditions": _conditions(statement),
    }


@dataclass
class WhoCanResult:
    policy_kind: str
    complete: bool
    entries: list[Entry] = field(default_factory=list)
    reason: str | None = None


def who_can(policy: PolicyDocument, timeout: float = 30.0) -> WhoCanResult:
    """Describe every caller that `policy` allows, until the description is
    proved complete or the time runs out."""
    kind = policy_kind(policy)
    try:
        return _who_can(policy, kind, Deadline(timeout))
    except UnsupportedFeatureError as error:
        return WhoCanResult(kind, complete=False, reason=f"unsupported: {error}")


def _who_can(policy: PolicyDocument, kind: str, deadline: Deadline) -> WhoCanResult:
    from verifier.check import extract_request

    request = SymRequest(analyze_keys([policy]))
    request.uses_principal = True
    request.partitions = named_partitions([policy])
    base = allowed_constraints(policy, request, kind)
    named = _names(policy)
    kinds = (*Kind.ARN, Kind.FEDERATED) if kind == "trust" else Kind.ALL
    entries: list[Entry] = []
    while len(entries) < MAX_ENTRIES:
        found = None
        for principal_kind in kinds:
            if deadline.expired():
                return WhoCanResult(kind, complete=False, entries=entries, reason="timed out")
            uncovered = [z3.Not(_covers(entry, request)) for entry in entries]
            assertions = base + uncovered + request.domain() + request.principal_facts(principal_kind)
            result = solve(assertions, deadline, request.variables())
            if result.status == z3.unknown:
                return WhoCanResult(kind, complete=False, entries=entries, reason=f"callers of the form `{Kind.NAMES[principal_kind]}`: {result.reason}")
            if result.status == z3.sat:
                model = readable_model(assertions, request, policy, deadline) or result.model
                found = extract_request(model, request, {})
                break
        if found is None:
            _list_statements(entries, policy, request, kind, kinds, deadline)
            return WhoCanResult(kind, complete=True, entries=entries)
        entries.append(_entry_for(policy, found, named))
    _list_statements(entries, policy, request, kind, kinds, deadline)
    return WhoCanResult(kind, complete=False, entries=entries, reason=f"more than {MAX_ENTRIES} groups of callers")


def _list_statements(
    entries: list[Entry], policy: PolicyDocument, request: SymRequest, kind: str, kinds: tuple[int, ...], deadline: Deadline
) -> None:
    """Set the Allow statements that let in some caller of each entry, the
    Deny statements that turn away some of the requests they grant, and the
    statements the solver could not decide."""
    allows = statement_formulas(policy.allow_statements, request)
    denies = statement_formulas(policy.deny_statements, request)
    common = request.domain() + action_constraints(request, kind)
    some_allow = any_of([formula for _, formula in allows])
    no_deny = z3.Not(any_of([formula for _, formula in denies]))
    for entry in entries:
        group = _covers(entry, request)
        allowed: list[Statement] = []
        denied: list[Statement] = []
        undecided: list[Statement] = []
        for statement, formula in allows:
            # The statements that allow the entry's first caller need no query.
            if statement in entry.statements:
                allowed.append(statement)
                continue
            possible = _possible([group, formula, no_deny, *common], request, kinds, deadline)
            if possible is None:
                undecided.append(statement)
            elif possible:
                allowed.append(statement)
        for statement, formula in denies:
            possible = _possible([group, formula, some_allow, *common], request, kinds, deadline)
            if possible is None:
                undecided.append(statement)
            elif possible:
                denied.append(statement)
        entry.statements = tuple(allowed)
        entry.denials = tuple(denied)
        entry.undecided = tuple(sorted(undecided, key=lambda s: s.index))


def _possible(assertions: list[z3.BoolRef], request: SymRequest, kinds: tuple[int, ...], deadline: Deadline) -> bool | None:
    """Return whether some request satisfies `assertions`, solving once per
    principal form. Return None when no form is satisfiable and the solver
    left at least one form undecided."""
    decided = True
    for principal_kind in kinds:
        result = solve(assertions + request.principal_facts(principal_kind), deadline, request.variables())
        if result.status == z3.sat:
            return True
        if result.status == z3.unknown:
            decided = False
    return False if decided else None


@dataclass
class _Names:
    # (partition, account, role name) of each role ARN, mapped to the ARN
    # as the policy writes it, path included.
    roles: dict[tuple[str, str, str], str]
    account_principals: set[str]
    principals: set[str]
    accounts: set[str]
    orgs: set[str]
    services: set[str]
    federated: set[str]
    canonical_users: set[str]


def _names(policy: PolicyDocument) -> _Names:
    named = named_in(policy)
    names = _Names({}, set(), set(), set(named.accounts), set(named.orgs), set(), set(), set(named.canonical_users))
    for statement in policy.statements:
        for element in (statement.principal, statement.not_principal):
            if element is None:
                continue
            for name in element.aws:
                parsed = parse_principal(name)
                if ACCOUNT_ID.fullmatch(name):
                    names.account_principals.add(name)
                elif parsed is not None and parsed.kind == Kind.ROOT:
                    names.account_principals.add(parsed.account)
                elif parsed is not None:
                    names.principals.add(name)
                parts = name.split(":", 5)
                if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/"):
                    names.roles[(parts[1], parts[4], parts[5].rsplit("/", 1)[-1])] = name
            names.services.update(element.service)
            names.federated.update(element.federated)
    return names


def _entry_for(policy: PolicyDocument, found: Request, named: _Names) -> Entry:
    """Return the narrowest entry, by the names the policy uses, that covers
    the caller of `found`."""
    decision = evaluate(policy, found)
    if not decision.allowed:
        raise InternalError(f"an allowed caller failed replay through the concrete evaluator: {found}")
    parsed = parse_principal(found.principal or "")
    if parsed is None:
        raise InternalError(f"the solver returned no valid principal: {found.principal!r}")
    context = {k.lower(): v for k, v in found.context.items()}
    org = context.get("aws:principalorgid")
    scope, name = "anonymous", None
    if parsed.kind == Kind.CANONICAL_USER and parsed.name in named.canonical_users:
        scope, name = "canonical-user", parsed.name
    elif parsed.kind == Kind.SESSION and (parsed.partition, parsed.account, parsed.role) in named.roles:
        scope, name = "role", named.roles[(parsed.partition, parsed.account, parsed.role)]
    elif parsed.kind in Kind.ARN and found.principal in named.principals:
        scope, name = ("user" if parsed.kind == Kind.USER else "principal"), found.principal
    elif parsed.kind in Kind.IN_ACCOUNT and parsed.account in named.account_principals:
        scope, name = "account", parsed.account
    elif parsed.kind in Kind.IN_ACCOUNT and parsed.account in named.accounts:
        scope, name = "account", parsed.account
    elif parsed.kind in Kind.IN_ACCOUNT and isinstance(org, str) and org in named.orgs:
        scope, name = "organization", org
    elif parsed.kind in Kind.IN_ACCOUNT:
        scope = "any-account"
    elif parsed.kind == Kind.SERVICE:
        scope, name = ("service", parsed.name) if parsed.name in named.services else ("any-service", None)
    elif parsed.kind == Kind.FEDERATED:
        scope, name = ("federated", parsed.name) if parsed.name in named.federated else ("any-federated", None)
    return Entry(scope, name, found, decision.allow_statements)


def _covers(entry: Entry, request: SymRequest) -> z3.BoolRef:
    """Return the formula true for the callers that `entry` describes."""
    model = request.principal_model
    scope = entry.scope
    if scope == "role":
        _, _, rest = entry.name.partition("arn:")
        partition, _, rest = rest.partition(":iam::")
        account, _, role = rest.partition(":role/")
        # A session ARN names the role without its path.
        role = role.rsplit("/", 1)[-1]
        return z3.And(
            model.kind == Kind.SESSION, model.partition == literal(partition), model.account == literal(account), model.role == literal(role)
        )
    if scope in ("user", "principal"):
        return model.equals(entry.name)
    if scope == "canonical-user":
        return model.equals("canonical-user:" + entry.name)
    if scope == "account":
        return z3.And(model.is_kind(*Kind.IN_ACCOUNT), model.account == literal(entry.name))
    if scope == "organization":
        return z3.And(model.is_kind(*Kind.IN_ACCOUNT), model.in_org, model.org == literal(entry.name))
    if scope == "any-account":
        return model.is_kind(*Kind.IN_ACCOUNT)
    if scope == "service":
        return model.equals(entry.name)
    if scope == "any-service":
        return model.kind == Kind.SERVICE
    if scope == "federated":
        return model.equals("federated:" + entry.name)
    if scope == "any-federated":
        return model.kind == Kind.FEDERATED
    return model.kind == Kind.ANONYMOUS


def _conditions(statement: Statement) -> list[str]:
    return [f"{c.operator.text} {c.key} {list(c.values)}" for c in statement.conditions]


def _condition_suffix(statement: Statement) -> str:
    """Say which principals the statement names, unless it names everyone,
    and its conditions: a statement listed under a group may cover only
    part of it."""
    scope = _principal_scope(statement)
    suffix = f", for {scope}" if scope else ""
    conditions = _conditions(statement)
    return suffix + (f", if {'; '.join(conditions)}" if conditions else ", with no condition")


def _principal_scope(statement: Statement) -> str | None:
    """Name the principals a statement covers, or None when it covers
    every principal."""
    if statement.principal is not None and not statement.principal.is_everyone():
        return _principal_names(statement.principal)
    if statement.not_principal is not None:
        return f"everyone except {_principal_names(statement.not_principal)}"
    return None


# Principal names shown per statement before the rest is counted.
MAX_SHOWN_PRINCIPALS = 3


def _principal_names(element: Principal) -> str:
    names = [
        f"{kind} {name}"
        for kind, values in (("AWS", element.aws), ("Service", element.service), ("Federated", element.federated), ("CanonicalUser", element.canonical_user))
        for name in values
    ]
    name_list = ", ".join(names[:MAX_SHOWN_PRINCIPALS])
    if len(names) > MAX_SHOWN_PRINCIPALS:
        name_list += f" and {len(names) - MAX_SHOWN_PRINCIPALS} more"
    return name_list


def who_can_text(result: WhoCanResult, name: str) -> str:
    kind = "trust policy" if result.policy_kind == "trust" else "resource policy"
    verb = "assume the role" if result.policy_kind == "trust" else "use the resource"
    lines = [f"Callers who can {verb} under {name} ({kind}):"]
    if not result.entries:
        lines.append("  nobody")
    for entry in result.entries:
        lines.append(f"  - {entry.text()}")
        for statement in entry.statements:
            lines.append(f"      allowed by {statement.label}{_condition_suffix(statement)}")
        for statement in entry.denials:
            lines.append(f"      denied by {statement.label}{_condition_suffix(statement)}")
        for statement in entry.undecided:
            lines.append(f"      perhaps {'allowed' if statement.effect is Effect.ALLOW else 'denied'} by {statement.label}{_condition_suffix(statement)} (the solver decided neither way in time)")
    if result.complete:
        lines.append("Complete: the solver proved that every allowed caller falls under an entry above.")
    else:
        lines.append(f"INCOMPLETE: {result.reason}. Callers beyond these entries may be allowed.")
    return "\n".join(lines)


def who_can_json(result: WhoCanResult) -> dict[str, Any]:
    return {
        "policy_kind": result.policy_kind,
        "complete": result.complete,
        "reason": result.reason,
        "entries": [entry.to_json() for entry in result.entries],
    }
