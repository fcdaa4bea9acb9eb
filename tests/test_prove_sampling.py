"""Generated trust and resource policies: a proved property survives a search
for a counterexample among concrete requests.

Hypothesis builds small policies from a vocabulary of principals and of
conditions on the keys AWS derives from the caller, and requests from
callers inside and outside a fixed zone. Each request carries the derived
keys that AWS would send for its caller, as the global condition keys page
describes them. When `prove` returns PROVED, no such request from a caller the
property excludes may be allowed by the concrete evaluator. A REFUTED
verdict is already replayed by `prove` itself.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifier.encode.principal import Kind, parse_principal
from verifier.evaluate import Request, evaluate
from verifier.policy.parse import parse_policy_text
from verifier.prove import Property, deputy_reason, named_in, prove
from verifier.solver import Verdict
from verifier.zone import Zone, outside_reason

OURS = "111122223333"
THEIRS = "444455556666"
OTHER = "777788889999"
ORG = "o-a1b2c3d4e5"
OTHER_ORG = "o-z9y8x7w6v5"
ZONE = Zone(accounts=(OURS,), orgs=(ORG,))

PRINCIPAL_ELEMENTS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": OURS},
    {"AWS": THEIRS},
    {"AWS": f"arn:aws:iam::{THEIRS}:root"},
    {"AWS": f"arn:aws:iam::{OURS}:role/admin"},
    {"AWS": f"arn:aws:iam::{THEIRS}:role/admin"},
    {"AWS": f"arn:aws:iam::{THEIRS}:user/bob"},
    {"Service": "sns.amazonaws.com"},
    {"AWS": [OURS, THEIRS]},
]

CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:PrincipalAccount": OURS}},
    {"StringEquals": {"aws:PrincipalAccount": THEIRS}},
    {"StringNotEquals": {"aws:PrincipalAccount": OURS}},
    {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OURS}:*"}},
    {"StringEquals": {"aws:PrincipalType": "User"}},
    {"Bool": {"aws:PrincipalIsAWSService": "true"}},
    {"StringEquals": {"aws:SourceAccount": OURS}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{OURS}:*"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::acme-*"}},
    {"StringEquals": {"sts:ExternalId": "x1"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"Null": {"aws:PrincipalAccount": "true"}},
]

CALLERS = [
    (f"arn:aws:iam::{account}:root", account)
    for account in (OURS, THEIRS, OTHER)
] + [
    (f"arn:aws:sts::{account}:assumed-role/admin/s1", account)
    for account in (OURS, THEIRS, OTHER)
] + [
    (f"arn:aws:iam::{account}:user/bob", account)
    for account in (OURS, THEIRS)
] + [("sns.amazonaws.com", None), ("anonymous", None)]


def derived_context(principal: str, org: str | None) -> dict[str, Any]:
    """Return the keys AWS derives from a concrete caller."""
    parsed = parse_principal(principal)
    assert parsed is not None
    if parsed.kind == Kind.ANONYMOUS:
        return {"aws:PrincipalType": "Anonymous"}
    if parsed.kind == Kind.SERVICE:
        return {"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": principal}
    types = {Kind.ROOT: "Account", Kind.USER: "User", Kind.SESSION: "AssumedRole"}
    arn = principal
    if parsed.kind == Kind.SESSION:
        arn = f"arn:{parsed.partition}:iam::{parsed.account}:role/{parsed.role}"
    context: dict[str, Any] = {
        "aws:PrincipalAccount": parsed.account,
        "aws:PrincipalArn": arn,
        "aws:PrincipalType": types[parsed.kind],
        "aws:PrincipalIsAWSService": "false",
    }
    if org is not None:
        context["aws:PrincipalOrgID"] = org
    return context


@st.composite
def policies(draw: st.DrawFn) -> Any:
    statements = []
    for _ in range(draw(st.integers(1, 3))):
        statement: dict[str, Any] = {
            "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
            "Principal": draw(st.sampled_from(PRINCIPAL_ELEMENTS)),
            "Action": "sqs:SendMessage",
            "Resource": f"arn:aws:sqs:us-east-1:{OURS}:jobs",
        }
        conditions = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))
        if conditions:
            block: dict[str, Any] = {}
            for condition in conditions:
                for operator, entries in condition.items():
                    block.setdefault(operator, {}).update(entries)
            statement["Condition"] = block
        statements.append(statement)
    return parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": statements}), "generated.json")


@st.composite
def requests(draw: st.DrawFn) -> Request:
    principal, account = draw(st.sampled_from(CALLERS))
    org = None
    if account is not None:
        org = draw(st.sampled_from([None, ORG, OTHER_ORG]))
    context = derived_context(principal, org)
    if principal == "sns.amazonaws.com":
        source = draw(st.sampled_from([None, OURS, THEIRS]))
        if source is not None:
            context["aws:SourceAccount"] = source
            context["aws:SourceArn"] = f"arn:aws:sns:us-east-1:{source}:topic"
    if draw(st.booleans()):
        context["sts:ExternalId"] = "x1"
    context["aws:SourceIp"] = draw(st.sampled_from(["203.0.113.7", "198.51.100.1"]))
    return Request("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{OURS}:jobs", principal=principal, context=context)


def excluded(prop: Property, policy, request: Request) -> bool:
    """True when the property excludes the request's caller."""
    parsed = parse_principal(request.principal or "")
    assert parsed is not None
    if prop is Property.NO_EXTERNAL_ACCESS:
        return outside_reason(ZONE, request) is not None
    if prop is Property.NO_PUBLIC_ACCESS:
        public = parsed.kind in (*Kind.IN_ACCOUNT, Kind.ANONYMOUS)
        return public and outside_reason(ZONE.merged(named_in(policy)), request) is not None
    return parsed.kind == Kind.SERVICE and deputy_reason(ZONE, request) is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(policy=policies(), samples=st.lists(requests(), min_size=30, max_size=30), prop=st.sampled_from(list(Property)))
def test_proved_property_survives_sampling(policy, samples, prop):
    result = prove(policy, prop, ZONE, timeout=30)
    if result.verdict is not Verdict.PROVED:
        return
    for request in samples:
        if excluded(prop, policy, request):
            assert not evaluate(policy, request).allowed, (prop, request)
