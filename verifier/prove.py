"""Properties of one trust or resource policy, proved for every caller.

Each property is the question whether the policy allows some request from
a caller that the property excludes:

- `no-external-access`: a caller outside the zone of trust (`verifier.zone`);
- `no-public-access`: an anonymous caller, or an IAM or STS principal of an
  account, organization and VPC that the policy does not name and the zone
  does not list;
- `no-confused-deputy`: in a resource policy, a service principal acting for
  an account outside the zone; in a trust policy, a principal of an account
  outside the zone that passes no `sts:ExternalId`.

The question is split by the form of the caller (`Kind`), one query per
form, and the answer is PROVED only if every query is unsatisfiable. A
satisfying request is replayed through the concrete evaluator and the
concrete zone test before it is reported.

What an outsider controls: every context key that AWS does not derive from
the principal, for example `aws:SourceIp`, `aws:UserAgent`, `aws:Referer`,
`aws:RequestTag/*`, `aws:PrincipalTag/*` (the outsider tags their own
principals) and `sts:ExternalId`. What an outsider cannot forge: the keys
tied to the principal in `verifier.encode.principal` (account, ARN,
organization, OU path, principal type, service name, federation claims of
other providers), and `aws:SourceVpce` and `aws:SourceVpc` when the zone
lists trusted endpoints or VPCs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import z3

from verifier.encode.logic import all_of, any_of, literal
from verifier.encode.principal import Kind, chars_except, claim_provider, unmatched_principal_notes
from verifier.encode.request import SymRequest, named_partitions
from verifier.encode.statement import ANY_ACTION, ActionSlice, EncodedStatement, ascii_lower
from verifier.errors import InternalError, UnsupportedFeatureError, UsageError
from verifier.evaluate import Request, evaluate
from verifier.keys import KeyInfo, KeyType, analyze_keys
from verifier.policy.document import PolicyDocument, Statement
from verifier.solver import Deadline, SolveResult, Verdict, solve
from verifier.zone import (
    ACCOUNT_ID,
    ORG_ID,
    VPC_ID,
    VPCE_ID,
    Zone,
    network_facts,
    outside_formula,
    outside_reason,
    zone_key_names,
)


class Property(str, Enum):
    NO_EXTERNAL_ACCESS = "no-external-access"
    NO_PUBLIC_ACCESS = "no-public-access"
    NO_CONFUSED_DEPUTY = "no-confused-deputy"


# Actions a role trust policy governs
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html).
TRUST_ACTIONS = (
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
)


@dataclass
class ProveResult:
    property: Property
    verdict: Verdict
    policy_kind: str
    reason: str | None = None
    counterexample: Request | None = None
    explanation: str | None = None
    statements: tuple[Statement, ...] = ()
    notes: list[str] = field(default_factory=list)


def policy_kind(policy: PolicyDocument) -> str:
    """Return `trust` for a role trust policy and `resource` for another
    resource policy. Raise UsageError for a policy without principals."""
    if not policy.names_principals:
        raise UsageError(
            f"{policy.source}: no statement has a Principal or NotPrincipal element, so this looks like an "
            "identity policy; this command takes a role trust policy or a resource policy"
        )
    no_resources = all(s.resources is None and s.not_resources is None for s in policy.statements)
    actions = [a.lower() for s in policy.statements for a in (s.actions or ())]
    if no_resources and actions and all(a.startswith("sts:") for a in actions):
        return "trust"
    return "resource"


def prove(policy: PolicyDocument, prop: Property, zone: Zone, timeout: float = 30.0) -> ProveResult:
    """Prove `prop` for `policy` with the zone of trust `zone`."""
    kind = policy_kind(policy)
    if prop is not Property.NO_PUBLIC_ACCESS and zone.is_empty():
        raise UsageError(
            f"`{prop.value}` needs a zone of trust: give --trusted-account, --trusted-org, --trusted-ou "
            "or --trusted-federated, or a [zone] table in .iamverify.toml"
        )
    deadline = Deadline(timeout)
    try:
        return _prove(policy, prop, zone, kind, deadline)
    except UnsupportedFeatureError as error:
        return ProveResult(prop, Verdict.UNKNOWN, kind, reason=f"unsupported: {error}")


@dataclass
class _Search:
    """One property as a list of forms of the caller, the constraints an
    excluded caller of each form meets, and the concrete test that replays
    a counterexample (it returns why the caller is excluded, or None)."""

    kinds: tuple[int, ...]
    excluded: Callable[[SymRequest, int], list[z3.BoolRef]]
    replay: Callable[[Request], str | None]
    extra_keys: list[str]


def unknown_action_notes(policy: PolicyDocument) -> list[str]:
    """Name each Action pattern that matches no action of the bundled AWS
    reference: a typo such as `sts:AssumeRol` grants or denies nothing,
    which makes a proof hold for the wrong reason."""
    from verifier.catalog import default_catalog

    catalog = default_catalog()
    notes = []
    for statement in policy.statements:
        for pattern in statement.actions or ():
            if pattern != "*" and not catalog.actions_matching(pattern):
                notes.append(f"{statement.path}.Action: `{pattern}` matches no action that AWS defines")
    return notes


def _prove(policy: PolicyDocument, prop: Property, zone: Zone, kind: str, deadline: Deadline) -> ProveResult:
    result = _prove_property(policy, prop, zone, kind, deadline)
    result.notes += unmatched_principal_notes(policy)
    result.notes += unknown_action_notes(policy)
    if prop is Property.NO_PUBLIC_ACCESS and result.verdict is Verdict.PROVED:
        result.notes += _federated_note(policy, kind, deadline)
    if prop is Property.NO_CONFUSED_DEPUTY and kind == "trust":
        result.notes += wildcard_external_id_notes(policy)
    return result


def wildcard_external_id_notes(policy: PolicyDocument) -> list[str]:
    """Name each Allow condition that accepts every sts:ExternalId value.

    `no-confused-deputy` requires only that an outside caller send an
    external ID, so such a condition passes it. But the external ID protects only as
    a value that the third party cannot guess, so a pattern such as `*`
    gives the protection in form and not in fact.
    """
    notes = []
    for statement in policy.allow_statements:
        for condition in statement.conditions:
            operator = condition.operator.text
            if condition.key_name != "sts:externalid":
                continue
            if operator == "Null" and any(value.lower() == "false" for value in condition.values):
                accepts = "`Null` false accepts any sts:ExternalId that is present"
            elif "Like" in operator and "NotLike" not in operator and any(_matches_any_text(value) for value in condition.values):
                accepts = f"`{operator}` with a pattern of only wildcards accepts any sts:ExternalId"
            elif "Not" not in operator and any("${" in value for value in condition.values):
                accepts = f"`{operator}` with a policy variable accepts an sts:ExternalId that the caller can derive"
            else:
                continue
            notes.append(
                f"{condition.path}: {accepts}, so it does not protect against the confused deputy problem; "
                "require the value agreed with the third party"
            )
    return notes


def _matches_any_text(pattern: str) -> bool:
    """Return whether a Like pattern of only `*` and `?` matches every
    value from some length on, such as `*` or `?*`."""
    return "*" in pattern and set(pattern) <= {"*", "?"}


def _federated_note(policy: PolicyDocument, kind: str, deadline: Deadline) -> list[str]:
    """Say when web identities get in: `no-public-access` does not judge
    them, so a proof would otherwise read as "safe" for a role that any
    GitHub repository can assume."""
    search = _Search(kinds=(Kind.FEDERATED,), excluded=lambda request, k: [], replay=lambda request: "", extra_keys=[])
    admitted = _prove_property(policy, Property.NO_PUBLIC_ACCESS, Zone(), kind, deadline, search)
    if admitted.verdict is not Verdict.REFUTED or admitted.counterexample is None:
        return []
    provider = (admitted.counterexample.principal or "").removeprefix("federated:")
    where = ", ".join(s.label for s in admitted.statements)
    return [
        f"identities from the web identity or SAML provider `{provider}` get in ({where}); no-public-access "
        "does not judge federated callers, so prove no-external-access with --trusted-federated"
    ]


def _prove_property(
    policy: PolicyDocument, prop: Property, zone: Zone, kind: str, deadline: Deadline, search: _Search | None = None
) -> ProveResult:
    search = search or _search_for(policy, prop, zone, kind)
    infos = analyze_keys([policy])
    for name in search.extra_keys:
        if name not in infos:
            multivalued = name.endswith("orgpaths")
            infos[name] = KeyInfo(name=name, type=KeyType.STRING, multivalued=multivalued, bound=1, well_typed=True)
    request = SymRequest(infos)
    request.uses_principal = True
    request.partitions = named_partitions([policy])
    for name in search.extra_keys:
        request.key(name)
    base = allowed_constraints(policy, request, kind)
    display = _display_names(policy)
    unknown: list[str] = []
    for principal_kind in search.kinds:
        if deadline.expired():
            unknown.append("timed out")
            break
        excluded = search.excluded(request, principal_kind)
        if any(z3.is_false(z3.simplify(f)) for f in excluded):
            continue
        facts = request.principal_facts(principal_kind)
        assertions = base + excluded + request.domain() + facts
        result = solve(assertions, deadline, request.variables())
        if result.status == z3.unsat:
            continue
        if result.status == z3.unknown:
            unknown.append(f"callers of the form `{Kind.NAMES[principal_kind]}`: {result.reason}")
            continue
        model = readable_model(assertions, request, policy, deadline) or result.model
        from verifier.check import extract_request

        counterexample = _readable_request(policy, extract_request(model, request, display), kind, zone, search)
        return _confirmed(policy, prop, kind, counterexample, search)
    if unknown:
        return ProveResult(prop, Verdict.UNKNOWN, kind, reason="; ".join(unknown[:3]))
    return ProveResult(prop, Verdict.PROVED, kind)


def _search_for(policy: PolicyDocument, prop: Property, zone: Zone, kind: str) -> _Search:
    not_service = tuple(k for k in Kind.ALL if k != Kind.SERVICE)
    # Only IAM and STS principals and federated identities assume roles.
    callers = (*Kind.ARN, Kind.FEDERATED) if kind == "trust" else not_service
    if prop is Property.NO_EXTERNAL_ACCESS:
        return _Search(
            kinds=callers,
            excluded=lambda request, k: [outside_formula(zone, request, k), *network_facts(zone, request)],
            replay=lambda request: outside_reason(zone, request),
            extra_keys=zone_key_names(zone),
        )
    if prop is Property.NO_PUBLIC_ACCESS:
        wider = zone.merged(named_in(policy))
        kinds = Kind.ARN if kind == "trust" else (*Kind.IN_ACCOUNT, Kind.ANONYMOUS)
        return _Search(
            kinds=kinds,
            excluded=lambda request, k: [outside_formula(wider, request, k), *network_facts(wider, request)],
            replay=lambda request: outside_reason(wider, request),
            extra_keys=zone_key_names(wider),
        )
    if kind == "trust":
        return _Search(
            kinds=Kind.ARN,
            excluded=lambda request, k: [outside_formula(zone, request, k), z3.Not(request.key("sts:externalid").present)],
            replay=lambda request: _external_id_reason(zone, request),
            extra_keys=[*zone_key_names(zone), "sts:externalid"],
        )
    return _Search(
        kinds=(Kind.SERVICE,),
        excluded=lambda request, k: _deputy_outside(zone, request),
        replay=lambda request: deputy_reason(zone, request),
        extra_keys=list(SOURCE_KEYS),
    )


def allowed_constraints(policy: PolicyDocument, request: SymRequest, kind: str) -> list[z3.BoolRef]:
    """Return the constraints under which `policy` allows `request`: some
    Allow statement matches and no Deny does. For a trust policy the action
    is also one of the `sts:AssumeRole` family."""
    allows = [formula for _, formula in statement_formulas(policy.allow_statements, request)]
    denies = [formula for _, formula in statement_formulas(policy.deny_statements, request)]
    return [any_of(allows), z3.Not(any_of(denies)), *action_constraints(request, kind)]


def statement_formulas(statements: tuple[Statement, ...], request: SymRequest) -> list[tuple[Statement, z3.BoolRef]]:
    """Pair each statement with the formula true when it matches `request`."""
    whole = ActionSlice(ANY_ACTION)
    return [(s, EncodedStatement(s, request).formula(whole)) for s in statements]


def action_constraints(request: SymRequest, kind: str) -> list[z3.BoolRef]:
    """Return the actions a policy of `kind` is asked about: the
    `sts:AssumeRole` family for a trust policy, any action otherwise."""
    if kind != "trust":
        return []
    return [any_of([request.action == literal(ascii_lower(a)) for a in TRUST_ACTIONS])]


def named_in(policy: PolicyDocument) -> Zone:
    """Accounts, organizations, VPC endpoints and VPCs that the policy names
    anywhere, as literal IDs, and the canonical user IDs of its principals. `no-public-access` treats them as known
    parties: a caller from any other account is the public."""
    texts: list[str] = []
    for statement in policy.statements:
        for element in (statement.principal, statement.not_principal):
            if element is not None:
                texts += [*element.aws, *element.service, *element.federated, *element.canonical_user]
        texts += list(statement.resources or ()) + list(statement.not_resources or ())
        for condition in statement.conditions:
            texts += list(condition.values)
    text = "\n".join(texts)

    def found(shape: re.Pattern[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.group(0) for m in re.finditer(rf"(?<![0-9a-z-])(?:{shape.pattern})(?![0-9a-z-])", text)))

    canonical_users = tuple(
        dict.fromkeys(name for s in policy.statements for e in (s.principal, s.not_principal) if e is not None for name in e.canonical_user)
    )
    return Zone(
        accounts=found(ACCOUNT_ID), orgs=found(ORG_ID), vpces=found(VPCE_ID), vpcs=found(VPC_ID), canonical_users=canonical_users
    )


# --- Confused deputy ---------------------------------------------------------

SOURCE_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourceowner")


def _deputy_outside(zone: Zone, request: SymRequest) -> list[z3.BoolRef]:
    """Source keys of a service acting for a resource outside the zone. A
    key the service does not send is absent; a key it sends names the
    outside resource or its account. An ARN whose account field is empty,
    such as an S3 bucket ARN, does not name an account."""
    facts: list[z3.BoolRef] = []

    def text_of(name: str) -> tuple[z3.BoolRef, z3.SeqRef | None]:
        key = request.key(name)
        return key.present, key.elements[0].text

    for name in ("aws:sourceaccount", "aws:sourceowner"):
        present, text = text_of(name)
        if text is not None:
            # The key contains the 12-digit ID of the account that owns the source.
            account_id = z3.InRe(text, z3.Loop(z3.Range("0", "9"), 12, 12))
            facts.append(z3.Implies(present, z3.And(account_id, *[text != literal(a) for a in zone.accounts])))
    present, text = text_of("aws:sourcearn")
    if text is not None and zone.accounts:
        field = z3.Star(chars_except(":"))
        accounts = z3.Union(*[z3.Re(a) for a in zone.accounts]) if len(zone.accounts) > 1 else z3.Re(zone.accounts[0])
        owned = z3.Concat(z3.Re("arn:"), field, z3.Re(":"), field, z3.Re(":"), field, z3.Re(":"), accounts, z3.Re(":"), z3.Star(z3.AllChar(z3.ReSort(z3.StringSort()))))
        facts.append(z3.Implies(present, z3.Not(z3.InRe(text, owned))))
    present, text = text_of("aws:sourceorgid")
    if text is not None:
        facts.append(z3.Implies(present, all_of([text != literal(o) for o in zone.orgs])))
    key = request.key("aws:sourceorgpaths")
    prefixes = [*zone.ous, *[o + "/" for o in zone.orgs]]
    for index, element in enumerate(key.elements):
        if element.text is not None:
            facts.append(z3.Implies(z3.And(key.present, key.used(index)), all_of([z3.Not(z3.PrefixOf(literal(p), element.text)) for p in prefixes])))
    return facts


def deputy_reason(zone: Zone, request: Request) -> str | None:
    """Say why a service request acts for a resource outside the zone, or
    return None when a source key places it inside."""
    context = {name.lower(): value for name, value in request.context.items()}
    service = request.principal or "the service"
    for name in ("aws:sourceaccount", "aws:sourceowner"):
        value = context.get(name)
        if isinstance(value, str) and value in zone.accounts:
            return None
    arn = context.get("aws:sourcearn")
    if isinstance(arn, str):
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[4] in zone.accounts:
            return None
    org = context.get("aws:sourceorgid")
    if isinstance(org, str) and org in zone.orgs:
        return None
    paths = context.get("aws:sourceorgpaths")
    prefixes = [*zone.ous, *[o + "/" for o in zone.orgs]]
    if isinstance(paths, tuple) and any(p.startswith(prefix) for p in paths for prefix in prefixes):
        return None
    sent = [f"{name} = {value!r}" for name, value in request.context.items() if name.lower() in SOURCE_KEYS]
    detail = "with " + ", ".join(sent) if sent else "with no source key"
    return f"{service} can act for a resource outside the zone, {detail}"


def _external_id_reason(zone: Zone, request: Request) -> str | None:
    reason = outside_reason(zone, request)
    if reason is None:
        return None
    if any(name.lower() == "sts:externalid" for name in request.context):
        return None
    return f"{reason}, and the request passes no sts:ExternalId"


# --- Readable counterexamples ------------------------------------------------

READABLE_SECONDS = 1.0


def readable_model(assertions: list[z3.BoolRef], request: SymRequest, policy: PolicyDocument, deadline: Deadline) -> z3.ModelRef | None:
    """Solve again with constraints that make the counterexample read well:
    an action the AWS reference defines, the commercial partition, and
    names made of word characters. None when that finds no model in time."""
    from verifier.catalog import default_catalog

    catalog = default_catalog()
    names: dict[str, None] = {}
    for statement in policy.allow_statements:
        for pattern in statement.actions or ():
            for name in catalog.actions_matching(pattern)[:200]:
                names[ascii_lower(name)] = None
    principal = request.principal_model
    principal_extra = principal.readable_facts()
    extra = []
    for name, key in request.keys.items():
        extra += [z3.InRe(e.text, z3.Star(z3.Range("!", "~"))) for e in key.elements if e.text is not None]
        if claim_provider(name) is not None:
            # Providers such as GitHub send their claims with every token.
            start = z3.Union(z3.Range("a", "z"), z3.Range("0", "9"))
            claim = z3.InRe(key.elements[0].text, z3.Concat(start, z3.Star(z3.Range("!", "~"))))
            extra.append(z3.Implies(principal.kind == Kind.FEDERATED, z3.And(key.present, claim)))
    if names:
        extra.append(any_of([request.action == literal(name) for name in list(names)[:2000]]))
    # The whole set first, then the principal alone, each with half the budget.
    for tier in (principal_extra + extra, principal_extra):
        budget = Deadline(min(READABLE_SECONDS / 2, deadline.remaining_ms() / 1000))
        result = solve(assertions + tier, budget, request.variables(), z3_first_ms=0, z3_last=False, verified=assertions)
        if result.status == z3.sat:
            return result.model
    return None


def _readable_request(policy: PolicyDocument, request: Request, kind: str, zone: Zone, search: _Search) -> Request:
    """Spell the action as AWS does and, when the replay still holds, swap
    the resource for one the policy names."""
    from verifier.catalog import default_catalog

    action = default_catalog().action(request.action)
    if action is not None:
        request = Request(action=action.name, resource=request.resource, principal=request.principal, context=request.context)
    if kind == "trust":
        account = zone.accounts[0] if zone.accounts else "123456789012"
        candidates = [f"arn:aws:iam::{account}:role/example"]
    else:
        candidates = [
            text.replace("*", "example").replace("?", "x")
            for s in policy.allow_statements
            for text in (s.resources or ())
            if text.startswith("arn:") and "${" not in text
        ]
    for candidate in candidates:
        trial = Request(action=request.action, resource=candidate, principal=request.principal, context=request.context)
        if evaluate(policy, trial).allowed and search.replay(trial) is not None:
            return trial
    return request


def _confirmed(policy: PolicyDocument, prop: Property, kind: str, request: Request, search: _Search) -> ProveResult:
    """Replay the counterexample through the concrete evaluator and the
    concrete test of the property before it is reported."""
    decision = evaluate(policy, request)
    reason = search.replay(request)
    if not decision.allowed or reason is None:
        raise InternalError(
            f"the counterexample failed replay (allowed: {decision.allowed}, excluded caller: {reason is not None}): {request}"
        )
    return ProveResult(
        prop,
        Verdict.REFUTED,
        kind,
        counterexample=request,
        explanation=reason,
        statements=decision.allow_statements,
    )


def _display_names(policy: PolicyDocument) -> dict[str, str]:
    names = {
        "aws:principalaccount": "aws:PrincipalAccount",
        "aws:principalorgid": "aws:PrincipalOrgID",
        "aws:principalorgpaths": "aws:PrincipalOrgPaths",
        "aws:sourcevpce": "aws:SourceVpce",
        "aws:sourcevpc": "aws:SourceVpc",
        "aws:sourceaccount": "aws:SourceAccount",
        "aws:sourcearn": "aws:SourceArn",
        "aws:sourceorgid": "aws:SourceOrgID",
        "aws:sourceorgpaths": "aws:SourceOrgPaths",
        "aws:sourceowner": "aws:SourceOwner",
        "sts:externalid": "sts:ExternalId",
    }
    for statement in policy.statements:
        for condition in statement.conditions:
            names[condition.key_name] = condition.key
    return names
