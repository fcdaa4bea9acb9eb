"""The calling principal in z3, the Principal and NotPrincipal elements, and
the context keys AWS derives from the principal.

A concrete request principal is one string (see `verifier.evaluate`): an ARN
(`...:root`, `...:user/...`, an `assumed-role` or `federated-user` session),
a service name such as `ec2.amazonaws.com`, `federated:PROVIDER`,
`canonical-user:ID`, or `anonymous`. The encoding keeps that string in parts:
a form (`Kind`) and the pieces that form spells. `parse_principal` reads a
string into the same parts and `PrincipalModel.compose` writes them back, so
"the principal equals this name" becomes equalities between parts. Roles
never call AWS themselves, so a role ARN is no request principal; it names
the role's sessions.

Matching rules, from the Principal element page
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html),
which `verifier.evaluate` implements independently on strings: `"*"` names
everyone; an account ID or its `root` ARN names every principal of the
account; a role ARN names its assumed-role sessions, except in NotPrincipal,
where it names the role only and an account names only its root principal.

Derived keys follow the global condition keys page
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
A key is tied to the principal only where that page states its value or its
absence. Elsewhere the key stays free, which can only add requests, so every
proof stays sound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import z3

from verifier.encode.logic import MAX_CHAR, all_of, any_of, escape, literal
from verifier.policy.document import PolicyDocument, Principal


class Kind:
    """Forms of a request principal, as values of `PrincipalModel.kind`."""

    ROOT = 0  # arn:P:iam::A:root
    USER = 1  # arn:P:iam::A:user/PATH/NAME
    SESSION = 2  # arn:P:sts::A:assumed-role/ROLE/SESSION
    FEDERATED_USER = 3  # arn:P:sts::A:federated-user/NAME
    SERVICE = 4  # a service principal name such as ec2.amazonaws.com
    FEDERATED = 5  # federated:PROVIDER (a web identity or SAML provider)
    CANONICAL_USER = 6  # canonical-user:ID
    ANONYMOUS = 7  # anonymous

    ALL = (0, 1, 2, 3, 4, 5, 6, 7)
    ARN = (0, 1, 2, 3)
    # Forms that belong to an AWS account. A canonical user ID stands for an
    # account (S3 gives every account one), so its callers have an account
    # and an organization like IAM principals, but no ARN that we can spell.
    IN_ACCOUNT = (0, 1, 2, 3, 6)
    NAMES = {0: "root", 1: "user", 2: "role session", 3: "federated user", 4: "service", 5: "federated", 6: "canonical user", 7: "anonymous"}


# The values of aws:PrincipalType that the condition keys page lists.
PRINCIPAL_TYPES = {
    Kind.ROOT: "Account",
    Kind.USER: "User",
    Kind.SESSION: "AssumedRole",
    Kind.FEDERATED_USER: "FederatedUser",
    Kind.ANONYMOUS: "Anonymous",
}

# Keys that the condition keys page lists as present only when an AWS service
# principal calls the resource directly.
SERVICE_ONLY_KEYS = ("aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourceowner")

# Keys absent from anonymous requests ("Anonymous requests do not include
# this key" on the condition keys page).
NOT_ANONYMOUS_KEYS = (
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:userid",
    "aws:username",
)


@dataclass(frozen=True)
class ParsedPrincipal:
    """A principal string read into its form and parts."""

    kind: int
    partition: str = ""
    account: str = ""
    tail: str = ""
    role: str = ""
    session: str = ""
    name: str = ""


_ARN = re.compile(r"arn:([^:]+):(iam|sts)::([0-9]{12}):(.+)", re.DOTALL)
_ROLE_ARN = re.compile(r"arn:([^:]+):iam::([0-9]{12}):role/(?:.*/)?([^/]+)", re.DOTALL)
_ROOT_ARN = re.compile(r"arn:([^:]+):iam::([0-9]{12}):root")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def parse_principal(text: str) -> ParsedPrincipal | None:
    """Read a request principal string; None when no caller has that name."""
    if text == "anonymous":
        return ParsedPrincipal(Kind.ANONYMOUS)
    for prefix, kind in (("federated:", Kind.FEDERATED), ("canonical-user:", Kind.CANONICAL_USER)):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            return ParsedPrincipal(kind, name=rest) if rest else None
    if ":" not in text:
        return ParsedPrincipal(Kind.SERVICE, name=text) if text else None
    match = _ARN.fullmatch(text)
    if match is None:
        return None
    partition, service, account, resource = match.groups()
    if service == "iam" and resource == "root":
        return ParsedPrincipal(Kind.ROOT, partition, account)
    if service == "iam" and resource.startswith("user/") and len(resource) > len("user/"):
        return ParsedPrincipal(Kind.USER, partition, account, tail=resource[len("user/") :])
    if service == "sts" and resource.startswith("assumed-role/"):
        names = resource[len("assumed-role/") :].split("/")
        if len(names) == 2 and all(names):
            return ParsedPrincipal(Kind.SESSION, partition, account, role=names[0], session=names[1])
        return None
    if service == "sts" and resource.startswith("federated-user/"):
        name = resource[len("federated-user/") :]
        if name and "/" not in name:
            return ParsedPrincipal(Kind.FEDERATED_USER, partition, account, tail=name)
    return None


def _char(code: int) -> str:
    return escape(chr(code))


def chars_except(*excluded: str) -> z3.ReRef:
    """Match one character other than the `excluded` ASCII characters.

    Written as ranges, because both solvers handle ranges much faster than
    a complement.
    """
    ranges = []
    low = 0
    for code in sorted(ord(char) for char in excluded):
        if code > low:
            ranges.append(z3.Range(_char(low), _char(code - 1)))
        low = code + 1
    ranges.append(z3.Range(_char(low), _char(MAX_CHAR)))
    return ranges[0] if len(ranges) == 1 else z3.Union(*ranges)


def _digits(count: int) -> z3.ReRef:
    return z3.Loop(z3.Range("0", "9"), count, count)


def claim_provider(key: str) -> str | None:
    """Return the web identity provider whose claim `key` is, or None.

    Claim keys are named `HOST:claim` (`token.actions.githubusercontent.com:sub`,
    `cognito-identity.amazonaws.com:aud`) or `saml:claim`. A host always
    contains a dot, and no AWS service prefix does.
    """
    prefix, colon, _ = key.rpartition(":")
    if not colon:
        return None
    if prefix.lower() == "saml":
        return "saml"
    return prefix.lower() if "." in prefix else None


def is_derived_key(name: str) -> bool:
    """True for a context key whose value or presence the principal decides."""
    return (
        name in NOT_ANONYMOUS_KEYS
        or name in SERVICE_ONLY_KEYS
        or name == "aws:principaltype"
        or claim_provider(name) is not None
    )


class PrincipalModel:
    """z3 constants for the parts of the request principal.

    `kind` selects a form from `Kind`. The ARN forms use `partition` and
    `account`; a user or federated user adds `tail`; a role session adds
    `role` and `session`, and `role_path` is the role's path, which the
    session ARN does not show. The other forms keep their text in `name`.
    `in_org`, `org` and `org_path` describe the account's organization.
    """

    def __init__(self) -> None:
        self.kind = z3.Int("principal!kind")
        self.partition = z3.String("principal!partition")
        self.account = z3.String("principal!account")
        self.tail = z3.String("principal!tail")
        self.role = z3.String("principal!role")
        self.role_path = z3.String("principal!role_path")
        self.session = z3.String("principal!session")
        self.name = z3.String("principal!name")
        self.in_org = z3.Bool("principal!in_org")
        self.org = z3.String("principal!org")
        self.org_path = z3.String("principal!org_path")

    def variables(self) -> list[z3.ExprRef]:
        return [
            self.kind,
            self.partition,
            self.account,
            self.tail,
            self.role,
            self.role_path,
            self.session,
            self.name,
            self.in_org,
            self.org,
            self.org_path,
        ]

    def is_kind(self, *kinds: int) -> z3.BoolRef:
        return any_of([self.kind == kind for kind in kinds])

    def compose(self, kind: int) -> z3.SeqRef:
        """Build the principal string of form `kind` from the parts."""

        def arn(service: str, *rest: z3.SeqRef) -> z3.SeqRef:
            return z3.Concat(z3.StringVal("arn:"), self.partition, z3.StringVal(f":{service}::"), self.account, *rest)

        if kind == Kind.ROOT:
            return arn("iam", z3.StringVal(":root"))
        if kind == Kind.USER:
            return arn("iam", z3.StringVal(":user/"), self.tail)
        if kind == Kind.SESSION:
            return arn("sts", z3.StringVal(":assumed-role/"), self.role, z3.StringVal("/"), self.session)
        if kind == Kind.FEDERATED_USER:
            return arn("sts", z3.StringVal(":federated-user/"), self.tail)
        if kind == Kind.FEDERATED:
            return z3.Concat(z3.StringVal("federated:"), self.name)
        if kind == Kind.CANONICAL_USER:
            return z3.Concat(z3.StringVal("canonical-user:"), self.name)
        if kind == Kind.ANONYMOUS:
            return z3.StringVal("anonymous")
        return self.name

    def role_arn(self) -> z3.SeqRef:
        """Build the ARN of the role behind a role session."""
        return z3.Concat(
            z3.StringVal("arn:"), self.partition, z3.StringVal(":iam::"), self.account, z3.StringVal(":role/"), self.role_path, self.role
        )

    def equals(self, text: str) -> z3.BoolRef:
        """True when the request principal is the string `text`."""
        parsed = parse_principal(text)
        if parsed is None:
            return z3.BoolVal(False)
        parts = [self.kind == parsed.kind]
        if parsed.kind in Kind.ARN:
            parts += [self.partition == literal(parsed.partition), self.account == literal(parsed.account)]
        if parsed.kind in (Kind.USER, Kind.FEDERATED_USER):
            parts.append(self.tail == literal(parsed.tail))
        if parsed.kind == Kind.SESSION:
            parts += [self.role == literal(parsed.role), self.session == literal(parsed.session)]
        if parsed.kind in (Kind.SERVICE, Kind.FEDERATED, Kind.CANONICAL_USER):
            parts.append(self.name == literal(parsed.name))
        return all_of(parts)

    def listed(self, element: Principal, negated: bool) -> z3.BoolRef:
        """True when the request principal is one that the element names."""
        if element.is_everyone() or "*" in element.aws:
            return z3.BoolVal(True)
        options = [self._aws_name(name, negated) for name in element.aws]
        options += [self.equals(name) for name in element.service]
        options += [self.equals("federated:" + name) for name in element.federated]
        options += [self.equals("canonical-user:" + name) for name in element.canonical_user]
        return any_of(options)

    def _aws_name(self, name: str, negated: bool) -> z3.BoolRef:
        root = _ROOT_ARN.fullmatch(name)
        account = None
        if root:
            account = root.group(2)
        elif _ACCOUNT_ID.fullmatch(name):
            account = name
        if account is not None:
            if negated:
                return self.equals(name if root else f"arn:aws:iam::{account}:root")
            parts = [self.is_kind(*Kind.ARN), self.account == literal(account)]
            if root:
                parts.append(self.partition == literal(root.group(1)))
            return all_of(parts)
        role = _ROLE_ARN.fullmatch(name)
        if role is None or negated:
            # Only an ARN names one principal, as in `verifier.evaluate`.
            return self.equals(name) if name.startswith("arn:") else z3.BoolVal(False)
        partition, account, role_name = role.groups()
        return all_of(
            [
                self.kind == Kind.SESSION,
                self.partition == literal(partition),
                self.account == literal(account),
                self.role == literal(role_name),
            ]
        )

    def shape(self, kind: int) -> list[z3.BoolRef]:
        """Constraints on the parts that make `compose(kind)` parse back to
        the same parts."""
        name_part = z3.Plus(chars_except("/"))
        facts: list[z3.BoolRef] = [self.kind == kind]
        if kind in Kind.ARN:
            facts.append(z3.InRe(self.partition, z3.Plus(chars_except(":"))))
        if kind in Kind.IN_ACCOUNT:
            facts.append(z3.InRe(self.account, _digits(12)))
        if kind == Kind.USER:
            facts.append(z3.Length(self.tail) > 0)
        if kind == Kind.FEDERATED_USER:
            facts.append(z3.InRe(self.tail, name_part))
        if kind == Kind.SESSION:
            facts += [
                z3.InRe(self.role, name_part),
                z3.InRe(self.session, name_part),
                # A role path is `/` or `/a/b/`; the ARN shows it without the first slash.
                z3.Or(self.role_path == z3.StringVal(""), z3.SuffixOf(z3.StringVal("/"), self.role_path)),
            ]
        if kind == Kind.SERVICE:
            facts += [z3.InRe(self.name, z3.Plus(chars_except(":"))), self.name != z3.StringVal("anonymous")]
        if kind in (Kind.FEDERATED, Kind.CANONICAL_USER):
            facts.append(z3.Length(self.name) > 0)
        if kind in Kind.IN_ACCOUNT:
            # Organization IDs look like o-a1b2c3d4e5; a path starts with the
            # organization ID and a root ID and ends with a slash.
            facts.append(
                z3.Implies(
                    self.in_org,
                    z3.And(
                        z3.InRe(self.org, z3.Concat(z3.Re("o-"), z3.Loop(z3.Union(z3.Range("a", "z"), z3.Range("0", "9")), 10, 32))),
                        z3.PrefixOf(z3.Concat(self.org, z3.StringVal("/r-")), self.org_path),
                        z3.SuffixOf(z3.StringVal("/"), self.org_path),
                    ),
                )
            )
        return facts

    def readable_facts(self) -> list[z3.BoolRef]:
        """Constraints that make a counterexample's principal read like a real
        one: the commercial partition, names of word characters, a session
        name that starts with a letter or digit, a service name such as
        `ec2.amazonaws.com`, and an organization path whose root ID is not
        empty. Counterexamples
        are solved again with them; they never decide a verdict."""
        alphanumeric = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"))
        word = z3.Union(alphanumeric, z3.Re("/"), z3.Re("."), z3.Re("-"), z3.Re("_"))
        service_name = z3.Concat(
            z3.Range("a", "z"), z3.Star(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("-"))), z3.Re(".amazonaws.com")
        )
        root_id = z3.Concat(z3.Re("/r-"), z3.Loop(z3.Union(z3.Range("a", "z"), z3.Range("0", "9")), 4, 32), z3.Re("/"))
        anything = z3.Star(z3.AllChar(z3.ReSort(z3.StringSort())))
        facts = [
            z3.Or(z3.Not(self.is_kind(*Kind.ARN)), self.partition == z3.StringVal("aws")),
            *[z3.InRe(part, z3.Star(word)) for part in (self.tail, self.role, self.role_path)],
            z3.Or(self.session == z3.StringVal(""), z3.InRe(self.session, z3.Concat(alphanumeric, z3.Star(word)))),
            z3.InRe(self.name, z3.Star(z3.Union(word, z3.Re(":")))),
            z3.Or(self.kind != Kind.SERVICE, z3.InRe(self.name, service_name)),
            z3.Implies(self.in_org, z3.InRe(self.org_path, z3.Concat(anything, root_id, anything))),
        ]
        return facts

    def provider_is(self, host: str) -> z3.BoolRef:
        """True when the principal is the provider that issues claim keys
        `host:...`: named by its host, or by an OIDC or SAML provider ARN.
        Host names ignore case, so the comparison does too."""
        if host == "saml":
            shape = z3.Concat(
                z3.Re("arn:"), z3.Plus(chars_except(":")), z3.Re(":iam::"), _digits(12), z3.Re(":saml-provider/"), z3.Plus(z3.AllChar(z3.ReSort(z3.StringSort())))
            )
            return z3.InRe(self.name, shape)
        by_arn = z3.Concat(z3.Re("arn:"), z3.Plus(chars_except(":")), z3.Re(":iam::"), _digits(12), z3.Re(":oidc-provider/"), _caseless(host))
        return z3.InRe(self.name, z3.Union(_caseless(host), by_arn))

    def cases(self, keys: dict, kinds: tuple[int, ...] = Kind.ALL) -> list[tuple[int, list[z3.BoolRef]]]:
        """Per form in `kinds`, the shape of the parts and the facts that tie
        the keys in `keys` (name to `KeyModel`) to the principal.

        Queries are solved once per form: one query over every form at once
        made cvc5 1.x time out on two-statement trust policies.
        """
        return [(kind, self.shape(kind) + derived_key_facts(self, keys, kind)) for kind in kinds]


def _caseless(text: str) -> z3.ReRef:
    parts = []
    for char in text:
        if char.isascii() and char.isalpha():
            parts.append(z3.Union(z3.Re(char.lower()), z3.Re(char.upper())))
        else:
            parts.append(z3.Re(literal(char)))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def derived_key_facts(model: PrincipalModel, keys: dict, kind: int) -> list[z3.BoolRef]:
    """Tie the context keys in `keys` that AWS derives from the principal to
    a principal of form `kind`."""
    facts: list[z3.BoolRef] = []
    is_arn = kind in Kind.ARN

    def absent(name: str) -> None:
        if name in keys:
            facts.append(z3.Not(keys[name].present))

    def holds_text(name: str, value: z3.SeqRef) -> None:
        key = keys.get(name)
        if key is None:
            return
        element = key.elements[0]
        if element.text is None:
            # The policy compares the key as a number, date or address: a
            # string of this kind never parses as one.
            facts.append(z3.And(key.present, key.single(), z3.Not(element.parses)))
        else:
            facts.append(z3.And(key.present, key.single(), element.text == value))

    if kind == Kind.ANONYMOUS:
        for name in NOT_ANONYMOUS_KEYS:
            absent(name)
    if kind != Kind.SERVICE:
        for name in SERVICE_ONLY_KEYS:
            absent(name)

    if kind in Kind.IN_ACCOUNT:
        # "the account to which the requesting principal belongs"
        holds_text("aws:principalaccount", model.account)
    if is_arn:
        # For a role session the key contains the role's ARN, not the session's.
        holds_text("aws:principalarn", model.role_arn() if kind == Kind.SESSION else model.compose(kind))
    if kind in Kind.IN_ACCOUNT or kind == Kind.FEDERATED:
        absent("aws:principalservicename")
    if kind == Kind.FEDERATED:
        # The page includes aws:PrincipalIsAWSService "for all signed API
        # requests that use AWS credentials"; a web identity or SAML call to
        # STS is not signed with AWS credentials.
        absent("aws:principalisawsservice")
    key = keys.get("aws:principalarn")
    if kind == Kind.CANONICAL_USER and key is not None and key.elements[0].text is not None:
        # The caller is an IAM or STS principal of the account; only its
        # account is known.
        text = key.elements[0].text
        shape = z3.Concat(z3.Re("arn:"), z3.Plus(chars_except(":")), z3.Union(z3.Re(":iam::"), z3.Re(":sts::")), _digits(12), z3.Re(":"), z3.Plus(z3.AllChar(z3.ReSort(z3.StringSort()))))
        start = z3.IndexOf(text, z3.StringVal("::"), z3.IntVal(0)) + 2
        facts.append(z3.And(key.present, key.single(), z3.InRe(text, shape), z3.SubString(text, start, 12) == model.account))
    if kind in PRINCIPAL_TYPES:
        holds_text("aws:principaltype", z3.StringVal(PRINCIPAL_TYPES[kind]))
    key = keys.get("aws:principaltype")
    if kind == Kind.CANONICAL_USER and key is not None and key.elements[0].text is not None:
        types = [key.elements[0].text == z3.StringVal(PRINCIPAL_TYPES[k]) for k in Kind.ARN]
        facts.append(z3.And(key.present, key.single(), z3.Or(*types)))
    if kind == Kind.SERVICE:
        holds_text("aws:principalservicename", model.name)

    key = keys.get("aws:principalisawsservice")
    if key is not None and (kind in Kind.IN_ACCOUNT or kind == Kind.SERVICE):
        flag = kind == Kind.SERVICE
        element = key.elements[0]
        if element.flag is not None:
            facts.append(z3.And(key.present, key.single(), element.parses, element.flag == flag))
        else:
            holds_text("aws:principalisawsservice", z3.StringVal("true" if flag else "false"))

    # "This key is included in the request context only if the principal is
    # a member of an organization." An account belongs to at most one
    # organization and sits at one place in its tree, so it has one path.
    for name, value in (("aws:principalorgid", model.org), ("aws:principalorgpaths", model.org_path)):
        key = keys.get(name)
        if key is None:
            continue
        if kind in Kind.IN_ACCOUNT:
            facts.append(key.present == model.in_org)
            element = key.elements[0]
            if element.text is not None:
                facts.append(z3.Implies(model.in_org, z3.And(key.single(), element.text == value)))
        elif kind in (Kind.SERVICE, Kind.FEDERATED):
            # A service, or an identity of an outside identity provider, is
            # no member of an AWS organization.
            facts.append(z3.Not(key.present))

    for name, key in keys.items():
        host = claim_provider(name)
        if host is None:
            continue
        # Claims come only with a federation request through the provider
        # that issued them.
        if kind == Kind.FEDERATED:
            facts.append(z3.Implies(key.present, model.provider_is(host)))
        else:
            facts.append(z3.Not(key.present))
    return facts


def principal_text(model: z3.ModelRef, principal: PrincipalModel, decode) -> str:
    """Spell the principal of a z3 model as a string."""
    kind = model.eval(principal.kind, model_completion=True).as_long()
    return decode(model.eval(principal.compose(kind), model_completion=True))


_PROVIDER_ARN = re.compile(r"arn:[^:]+:iam::[0-9]{12}:(oidc-provider|saml-provider)/.+", re.DOTALL)
_PROVIDER_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def unmatched_principal_notes(policy: PolicyDocument) -> list[str]:
    """Name each Principal or NotPrincipal entry that no caller can match,
    such as a template placeholder. A proof about such a policy shows
    nothing about the caller the author meant."""
    notes = []
    for statement in policy.statements:
        for label, element in (("Principal", statement.principal), ("NotPrincipal", statement.not_principal)):
            if element is None:
                continue
            for name in element.aws:
                if name == "*" or _ACCOUNT_ID.fullmatch(name) or _ROLE_ARN.fullmatch(name):
                    continue
                if name.startswith("arn:") and parse_principal(name) is not None:
                    continue
                notes.append(f"{statement.path}.{label}.AWS: `{name}` names no principal, so it matches no caller")
            for name in element.federated:
                if not (_PROVIDER_ARN.fullmatch(name) or _PROVIDER_HOST.fullmatch(name)):
                    notes.append(f"{statement.path}.{label}.Federated: `{name}` names no identity provider, so it matches no caller")
    return notes
