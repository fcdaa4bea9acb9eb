"""The zone of trust: the accounts, organizations, OUs, federated identities
and network paths that a team owns, and the test "is this principal outside?".

The test exists twice. `outside_formula` is the z3 form for the prove
commands; `outside_reason` is the concrete form that replays a
counterexample. Both follow the same rules:

- an IAM or STS principal is inside when its account is a trusted account,
  or its account belongs to a trusted organization, or the account's OU path
  starts with a trusted OU path;
- a service principal is AWS itself and counts as inside; whether a service
  acts for an outside account is the question of `no-confused-deputy`;
- a federated caller is inside when a `--trusted-federated` entry for its
  provider matches: the provider alone, or the provider with one claim whose
  value matches a StringLike pattern. A SAML provider whose ARN is in a
  trusted account counts as inside, because that account configures the
  identity provider. An OIDC provider ARN in a trusted account does not,
  because the issuer (GitHub, Google, an EKS cluster) decides who gets a token;
- anonymous callers and canonical users are outside.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import z3

from verifier.encode.logic import all_of, any_of, literal
from verifier.encode.principal import Kind, ParsedPrincipal, PrincipalModel, parse_principal
from verifier.encode.request import SymRequest
from verifier.encode.glob import compile_glob
from verifier.encode.strings import match_regex
from verifier.errors import Issue, PolicyError, UsageError
from verifier.evaluate import Request, like_matches
from verifier.policy.pattern import parse_pattern

ACCOUNT_ID = re.compile(r"[0-9]{12}")
ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
OU_PATH = re.compile(r"o-[a-z0-9]{10,32}/r-[0-9a-z]{4,32}/(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}/)*")
VPCE_ID = re.compile(r"vpce-[0-9a-f]+")
VPC_ID = re.compile(r"vpc-[0-9a-f]+")
# An S3 canonical user ID: 64 hexadecimal digits.
CANONICAL_ID = re.compile(r"[0-9a-f]{64}")
_SAML_PROVIDER = re.compile(r"arn:[^:]+:iam::([0-9]{12}):saml-provider/.+", re.DOTALL)
_OIDC_PROVIDER = re.compile(r"arn:[^:]+:iam::[0-9]{12}:oidc-provider/(.+)", re.DOTALL)


@dataclass(frozen=True)
class FederatedTrust:
    """A trusted web identity: a provider host, optionally with one claim
    whose value must match a StringLike `pattern`."""

    provider: str
    claim: str | None = None
    pattern: str | None = None

    @property
    def key(self) -> str | None:
        """The lowercased condition key that carries the claim."""
        return f"{self.provider}:{self.claim}".lower() if self.claim else None

    def text(self) -> str:
        return self.provider if self.claim is None else f"{self.provider}:{self.claim}={self.pattern}"


@dataclass(frozen=True)
class Zone:
    accounts: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    ous: tuple[str, ...] = ()
    federated: tuple[FederatedTrust, ...] = ()
    vpces: tuple[str, ...] = ()
    vpcs: tuple[str, ...] = ()
    # S3 canonical user IDs of trusted accounts, which a zone cannot list by
    # number. `no-public-access` adds those that the policy names.
    canonical_users: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.accounts or self.orgs or self.ous or self.federated or self.canonical_users)

    def merged(self, other: Zone) -> Zone:
        def join(a: tuple, b: tuple) -> tuple:
            return tuple(dict.fromkeys(a + b))

        return Zone(
            join(self.accounts, other.accounts),
            join(self.orgs, other.orgs),
            join(self.ous, other.ous),
            join(self.federated, other.federated),
            join(self.vpces, other.vpces),
            join(self.vpcs, other.vpcs),
            join(self.canonical_users, other.canonical_users),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": list(self.accounts),
            "organizations": list(self.orgs),
            "organizational_units": list(self.ous),
            "federated": [entry.text() for entry in self.federated],
            "vpc_endpoints": list(self.vpces),
            "vpcs": list(self.vpcs),
            "canonical_users": list(self.canonical_users),
        }


# --- Building a zone from options and config files --------------------------


@dataclass
class ZoneBuilder:
    """Builder of a zone that collects every problem with its entries, so
    that one run reports all invalid entries at once."""

    source: str
    issues: list[Issue] = field(default_factory=list)

    def build(
        self,
        accounts: list[Any],
        orgs: list[Any],
        ous: list[Any],
        federated: list[Any],
        vpces: list[Any],
        vpcs: list[Any],
        canonical_users: list[Any],
        paths: tuple[str, str, str, str, str, str, str],
    ) -> Zone:
        return Zone(
            accounts=self._ids(accounts, ACCOUNT_ID, paths[0], "a 12-digit account ID such as 111122223333"),
            orgs=self._ids(orgs, ORG_ID, paths[1], "an organization ID such as o-a1b2c3d4e5"),
            ous=self._ids(ous, OU_PATH, paths[2], "an OU path such as o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"),
            federated=tuple(self._federated(value, f"{paths[3]}[{i}]") for i, value in enumerate(federated)),
            vpces=self._ids(vpces, VPCE_ID, paths[4], "a VPC endpoint ID such as vpce-1a2b3c4d"),
            vpcs=self._ids(vpcs, VPC_ID, paths[5], "a VPC ID such as vpc-1a2b3c4d"),
            canonical_users=self._ids(canonical_users, CANONICAL_ID, paths[6], "an S3 canonical user ID of 64 hexadecimal digits"),
        )

    def _ids(self, values: list[Any], shape: re.Pattern[str], path: str, expected: str) -> tuple[str, ...]:
        valid = []
        for index, value in enumerate(values):
            if isinstance(value, str) and shape.fullmatch(value):
                valid.append(value)
            else:
                self.issues.append(Issue(f"{path}[{index}]", f"{value!r} is not valid: expected {expected}"))
        return tuple(dict.fromkeys(valid))

    def _federated(self, value: Any, path: str) -> FederatedTrust:
        expected = "PROVIDER or PROVIDER:CLAIM=PATTERN, such as token.actions.githubusercontent.com:sub=repo:acme-corp/*"
        if not isinstance(value, str) or not value or value != value.strip():
            self.issues.append(Issue(path, f"{value!r} is not valid: expected {expected}"))
            return FederatedTrust("invalid")
        if "=" not in value:
            if ":" in value:
                self.issues.append(Issue(path, f"{value!r} names a claim without a value: expected {expected}"))
            return FederatedTrust(value.lower())
        name, _, pattern = value.partition("=")
        provider, colon, claim = name.rpartition(":")
        if not colon or not provider or not claim or not pattern:
            self.issues.append(Issue(path, f"{value!r} is not valid: expected {expected}"))
            return FederatedTrust("invalid")
        return FederatedTrust(provider.lower(), claim, pattern)


def zone_from_options(
    accounts: tuple[str, ...],
    orgs: tuple[str, ...],
    ous: tuple[str, ...],
    federated: tuple[str, ...],
    vpces: tuple[str, ...],
    vpcs: tuple[str, ...],
    canonical_users: tuple[str, ...] = (),
) -> Zone:
    """Build a zone from command-line options; raise UsageError listing
    every invalid value."""
    builder = ZoneBuilder("command line")
    zone = builder.build(
        list(accounts),
        list(orgs),
        list(ous),
        list(federated),
        list(vpces),
        list(vpcs),
        list(canonical_users),
        (
            "--trusted-account",
            "--trusted-org",
            "--trusted-ou",
            "--trusted-federated",
            "--trusted-vpce",
            "--trusted-vpc",
            "--trusted-canonical-user",
        ),
    )
    if builder.issues:
        raise UsageError("\n".join(issue.format("command line") for issue in builder.issues))
    return zone


_ZONE_FIELDS = ("accounts", "organizations", "organizational_units", "federated", "vpc_endpoints", "vpcs", "canonical_users")


def zone_from_config(path: str | Path) -> Zone:
    """Read the `[zone]` table of an `.iamverify.toml` file, or
    `[tool.iamverify.zone]` of a `pyproject.toml`."""
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{source}: cannot read the file: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PolicyError(source, [Issue("", f"not valid TOML: {error}")]) from None
    prefix = "zone"
    table: Any = data.get("zone")
    if Path(path).name == "pyproject.toml":
        prefix = "tool.iamverify.zone"
        table = data.get("tool", {}).get("iamverify", {}).get("zone")
    zone, issues = zone_from_table(table, prefix, source)
    if issues:
        raise PolicyError(source, issues)
    return zone


def zone_from_table(table: Any, prefix: str, source: str) -> tuple[Zone, list[Issue]]:
    """Build a zone from the parsed TOML table at `prefix` (None when the
    file has none) and return it with every problem found."""
    if table is None:
        return Zone(), []
    issues: list[Issue] = []
    if not isinstance(table, dict):
        return Zone(), [Issue(prefix, "must be a table such as [zone] with accounts = [\"111122223333\"]")]
    for name in table:
        if name not in _ZONE_FIELDS:
            issues.append(Issue(f"{prefix}.{name}", f"unknown field: expected one of {', '.join(_ZONE_FIELDS)}"))
    lists = []
    for name in _ZONE_FIELDS:
        value = table.get(name, [])
        if not isinstance(value, list):
            issues.append(Issue(f"{prefix}.{name}", f"must be a list of strings, not {toml_type_name(value)}"))
            value = []
        lists.append(value)
    builder = ZoneBuilder(source, issues)
    zone = builder.build(*lists, paths=tuple(f"{prefix}.{name}" for name in _ZONE_FIELDS))  # type: ignore[arg-type]
    return zone, builder.issues


def toml_type_name(value: Any) -> str:
    """Name the TOML type of a parsed value, such as `a table`, for messages."""
    names = {dict: "a table", list: "an array", str: "a string", int: "an integer", float: "a float", bool: "a boolean"}
    return names.get(type(value), type(value).__name__)


# --- Outside the zone, symbolically -----------------------------------------


ZONE_KEYS = ("aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths")


def outside_formula(zone: Zone, request: SymRequest, kind: int) -> z3.BoolRef:
    """True when a principal of form `kind` is outside `zone`."""
    model = request.principal_model
    if kind == Kind.CANONICAL_USER and zone.canonical_users:
        named = any_of([model.equals("canonical-user:" + name) for name in zone.canonical_users])
        return z3.And(z3.Not(named), z3.Not(_account_inside(zone, model)))
    if kind in Kind.IN_ACCOUNT:
        return z3.Not(_account_inside(zone, model))
    if kind == Kind.SERVICE:
        return z3.BoolVal(False)
    if kind == Kind.FEDERATED:
        return z3.Not(_federated_inside(zone, request))
    return z3.BoolVal(True)


def _account_inside(zone: Zone, model: PrincipalModel) -> z3.BoolRef:
    options = [model.account == literal(account) for account in zone.accounts]
    options += [z3.And(model.in_org, model.org == literal(org)) for org in zone.orgs]
    options += [z3.And(model.in_org, z3.PrefixOf(literal(ou), model.org_path)) for ou in zone.ous]
    return any_of(options)


def _federated_inside(zone: Zone, request: SymRequest) -> z3.BoolRef:
    model = request.principal_model
    options = []
    for entry in zone.federated:
        provider = model.provider_is(entry.provider)
        if entry.key is None:
            options.append(provider)
            continue
        key = request.key(entry.key)
        element = key.elements[0]
        if element.text is None:
            continue
        compiled = compile_glob(parse_pattern(entry.pattern or "", variables=False, wildcards=True))
        options.append(z3.And(provider, key.present, key.single(), match_regex(element.text, compiled)))
    for account in zone.accounts:
        saml = z3.Concat(z3.Re("arn:"), z3.Plus(z3.Union(z3.Range("a", "z"), z3.Re("-"))), z3.Re(literal(f":iam::{account}:saml-provider/")), z3.Plus(z3.AllChar(z3.ReSort(z3.StringSort()))))
        options.append(z3.InRe(model.name, saml))
    return any_of(options)


def network_facts(zone: Zone, request: SymRequest) -> list[z3.BoolRef]:
    """Return the constraints that keep an outsider's request away from the
    trusted VPC endpoints and VPCs."""
    facts = []
    for name, values in (("aws:sourcevpce", zone.vpces), ("aws:sourcevpc", zone.vpcs)):
        if not values:
            continue
        key = request.key(name)
        text = key.elements[0].text
        if text is not None:
            facts.append(z3.Implies(key.present, all_of([text != literal(value) for value in values])))
    return facts


def zone_key_names(zone: Zone) -> list[str]:
    """Context keys that the zone test reads."""
    names = list(ZONE_KEYS)
    names += [entry.key for entry in zone.federated if entry.key]
    if zone.vpces:
        names.append("aws:sourcevpce")
    if zone.vpcs:
        names.append("aws:sourcevpc")
    return names


# --- Outside the zone, concretely -------------------------------------------


def outside_reason(zone: Zone, request: Request) -> str | None:
    """Return one sentence saying why the request's principal is outside
    the zone, or None when it is inside."""
    principal = request.principal or ""
    parsed = parse_principal(principal)
    if parsed is None:
        return f"`{principal}` is no principal that AWS can authenticate"
    context = {name.lower(): value for name, value in request.context.items()}
    if parsed.kind == Kind.CANONICAL_USER:
        if parsed.name in zone.canonical_users:
            return None
        account = _first(context.get("aws:principalaccount"))
        if account is None:
            return "a canonical user ID names an account that the zone cannot list"
        return _account_reason(zone, ParsedPrincipal(Kind.CANONICAL_USER, account=account), context)
    if parsed.kind in Kind.ARN:
        return _account_reason(zone, parsed, context)
    if parsed.kind == Kind.SERVICE:
        return None
    if parsed.kind == Kind.FEDERATED:
        return _federated_reason(zone, parsed, context)
    return "an anonymous caller is outside every zone"


def _account_reason(zone: Zone, parsed: ParsedPrincipal, context: dict[str, Any]) -> str | None:
    if parsed.account in zone.accounts:
        return None
    org = _first(context.get("aws:principalorgid"))
    path = _first(context.get("aws:principalorgpaths"))
    if org is not None and org in zone.orgs:
        return None
    if path is not None and any(path.startswith(ou) for ou in zone.ous):
        return None
    where = f"in organization {org}" if org else "in no organization"
    return f"account {parsed.account} is not a trusted account and is {where}" + (
        f" at OU path {path}, under no trusted OU" if path and zone.ous else ""
    )


def _federated_reason(zone: Zone, parsed: ParsedPrincipal, context: dict[str, Any]) -> str | None:
    name = parsed.name
    saml = _SAML_PROVIDER.fullmatch(name)
    if saml and saml.group(1) in zone.accounts:
        return None
    oidc = _OIDC_PROVIDER.fullmatch(name)
    host = (oidc.group(1) if oidc else name).lower()
    for entry in zone.federated:
        if entry.provider != host:
            continue
        if entry.key is None:
            return None
        value = context.get(entry.key)
        if value is None:
            value = next((v for k, v in context.items() if k.lower() == entry.key), None)
        if isinstance(value, str) and like_matches(entry.pattern or "", value):
            return None
    claims = ", ".join(f"{k} = {v!r}" for k, v in context.items() if k.lower().startswith(host + ":"))
    detail = f" with {claims}" if claims else ""
    return f"the federated identity from {host}{detail} matches no trusted federated entry"


def _first(value: Any) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value
