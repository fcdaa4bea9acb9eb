"""z3 formulas for the Principal and NotPrincipal elements.

The request principal is one string: an ARN (`...:user/...`, `...:root`, an
`assumed-role` or `federated-user` session), a service name such as
`ec2.amazonaws.com`, `federated:PROVIDER`, `canonical-user:ID`, or
`anonymous`. The matching rules follow the Principal element page
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)
and are stated once more in `verifier.evaluate`, which implements them
independently: `"*"` names everyone; an account ID or its `root` ARN names
every principal of the account; a role ARN names the role and its
assumed-role sessions, except in NotPrincipal, where it names the role only
and an account names only its root principal.
"""

from __future__ import annotations

import re

import z3

from verifier.encode.logic import any_of, literal
from verifier.policy.document import Principal

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ROOT_ARN = re.compile(r"arn:([^:]+):iam::([0-9]{12}):root")
_ROLE_ARN = re.compile(r"arn:([^:]+):iam::([0-9]{12}):role/(?:.*/)?([^/]+)")
_RE_SORT = z3.ReSort(z3.StringSort())


def principal_listed(principal: z3.SeqRef, element: Principal, negated: bool) -> z3.BoolRef:
    """True when the request principal is one that the element names."""
    if element.is_everyone() or "*" in element.aws:
        return z3.BoolVal(True)
    options = [_aws_name(principal, name, negated) for name in element.aws]
    options += [principal == literal(name) for name in element.service]
    options += [principal == literal("federated:" + name) for name in element.federated]
    options += [principal == literal("canonical-user:" + name) for name in element.canonical_user]
    return any_of(options)


def _aws_name(principal: z3.SeqRef, name: str, negated: bool) -> z3.BoolRef:
    root = _ROOT_ARN.fullmatch(name)
    account = None
    if root:
        account = root.group(2)
    elif _ACCOUNT_ID.fullmatch(name):
        account = name
    if account is not None:
        if negated:
            return principal == literal(name if root else f"arn:aws:iam::{account}:root")
        partition = z3.Re(literal(root.group(1))) if root else z3.Plus(_not_colon())
        services = z3.Union(z3.Re("iam"), z3.Re("sts"))
        shape = z3.Concat(
            z3.Re("arn:"), partition, z3.Re(":"), services, z3.Re(literal(f"::{account}:")), z3.Plus(z3.AllChar(_RE_SORT))
        )
        return z3.InRe(principal, shape)
    exact = principal == literal(name)
    role = _ROLE_ARN.fullmatch(name)
    if role is None or negated:
        return exact
    partition, account, role_name = role.groups()
    session_name = z3.Plus(z3.Intersect(z3.AllChar(_RE_SORT), z3.Complement(z3.Re("/"))))
    session = z3.Concat(z3.Re(literal(f"arn:{partition}:sts::{account}:assumed-role/{role_name}/")), session_name)
    return z3.Or(exact, z3.InRe(principal, session))


def _not_colon() -> z3.ReRef:
    return z3.Intersect(z3.AllChar(_RE_SORT), z3.Complement(z3.Re(":")))
