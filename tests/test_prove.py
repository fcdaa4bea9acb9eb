"""The prove commands on the classic trust and resource policy mistakes, and
the rules about principals and the context keys AWS derives from them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import z3

from verifier.encode.principal import Kind, PrincipalModel, parse_principal
from verifier.encode.request import SymRequest
from verifier.evaluate import Request, evaluate
from verifier.keys import analyze_keys
from verifier.policy.document import PolicyDocument
from verifier.policy.parse import parse_policy_text
from verifier.prove import Property, named_in, policy_kind, prove
from verifier.solver import Verdict
from verifier.zone import FederatedTrust, Zone, outside_reason, zone_from_config

OURS = "111122223333"
THEIRS = "444455556666"
ORG = "o-a1b2c3d4e5"
GITHUB = "token.actions.githubusercontent.com"


def policy(*statements: dict[str, Any]) -> PolicyDocument:
    return parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), "policy.json")


def trust(principal: Any, condition: dict[str, Any] | None = None, action: str = "sts:AssumeRole") -> PolicyDocument:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return policy(statement)


def bucket(principal: Any, condition: dict[str, Any] | None = None, effect: str = "Allow") -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": effect,
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::acme-reports/*",
    }
    if condition:
        statement["Condition"] = condition
    return statement


def refuted(document: PolicyDocument, prop: Property, zone: Zone) -> Request:
    result = prove(document, prop, zone, timeout=60)
    assert result.verdict is Verdict.REFUTED, result.reason
    request = result.counterexample
    assert request is not None
    assert evaluate(document, request).allowed
    assert result.explanation
    return request


def proved(document: PolicyDocument, prop: Property, zone: Zone) -> None:
    result = prove(document, prop, zone, timeout=60)
    assert result.verdict is Verdict.PROVED, (result.reason, result.counterexample, result.explanation)


ZONE = Zone(accounts=(OURS,))


# --- Classic mistakes ---------------------------------------------------------


def test_github_role_checking_audience_but_not_subject():
    provider = f"arn:aws:iam::{OURS}:oidc-provider/{GITHUB}"
    audience = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}
    zone = Zone(accounts=(OURS,), federated=(FederatedTrust(GITHUB, "sub", "repo:acme-corp/*"),))
    request = refuted(trust({"Federated": provider}, audience, "sts:AssumeRoleWithWebIdentity"), Property.NO_EXTERNAL_ACCESS, zone)
    assert request.principal == f"federated:{provider}"
    subject = {**audience, "StringLike": {f"{GITHUB}:sub": "repo:acme-corp/*"}}
    proved(trust({"Federated": provider}, subject, "sts:AssumeRoleWithWebIdentity"), Property.NO_EXTERNAL_ACCESS, zone)


def test_github_subject_pattern_wider_than_the_zone():
    provider = f"arn:aws:iam::{OURS}:oidc-provider/{GITHUB}"
    loose = {"StringLike": {f"{GITHUB}:sub": "repo:acme-*"}}
    zone = Zone(federated=(FederatedTrust(GITHUB, "sub", "repo:acme-corp/*"),))
    request = refuted(trust({"Federated": provider}, loose, "sts:AssumeRoleWithWebIdentity"), Property.NO_EXTERNAL_ACCESS, zone)
    subject = request.context[f"{GITHUB}:sub"]
    assert subject.startswith("repo:acme-")
    assert not subject.startswith("repo:acme-corp/")


def test_cross_account_role_without_external_id():
    document = trust({"AWS": f"arn:aws:iam::{THEIRS}:root"})
    request = refuted(document, Property.NO_CONFUSED_DEPUTY, ZONE)
    assert parse_principal(request.principal).account == THEIRS
    assert "sts:ExternalId" not in request.context
    with_id = trust({"AWS": f"arn:aws:iam::{THEIRS}:root"}, {"StringEquals": {"sts:ExternalId": "a1b2c3"}})
    proved(with_id, Property.NO_CONFUSED_DEPUTY, ZONE)
    # The outside account still gets in: an external ID is not a zone.
    refuted(with_id, Property.NO_EXTERNAL_ACCESS, ZONE)


def test_own_account_trust_is_inside():
    proved(trust({"AWS": f"arn:aws:iam::{OURS}:root"}), Property.NO_EXTERNAL_ACCESS, ZONE)
    proved(trust({"AWS": f"arn:aws:iam::{OURS}:role/deploy"}), Property.NO_EXTERNAL_ACCESS, ZONE)


def test_public_bucket_and_organization_condition():
    public = policy(bucket("*"))
    request = refuted(public, Property.NO_PUBLIC_ACCESS, Zone())
    assert request.principal in ("anonymous",) or parse_principal(request.principal).kind in Kind.ARN
    organization = policy(bucket("*", {"StringEquals": {"aws:PrincipalOrgID": ORG}}))
    proved(organization, Property.NO_PUBLIC_ACCESS, Zone())
    proved(organization, Property.NO_EXTERNAL_ACCESS, Zone(orgs=(ORG,)))
    outsider = refuted(organization, Property.NO_EXTERNAL_ACCESS, Zone(accounts=(OURS,)))
    assert outsider.context["aws:PrincipalOrgID"] == ORG


def test_wildcard_organization_condition_is_public():
    document = policy(bucket("*", {"StringLike": {"aws:PrincipalOrgID": "o-*"}}))
    request = refuted(document, Property.NO_PUBLIC_ACCESS, Zone())
    assert request.context["aws:PrincipalOrgID"].startswith("o-")


def test_vpc_endpoint_condition_is_not_public():
    document = policy(bucket("*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))
    proved(document, Property.NO_PUBLIC_ACCESS, Zone())
    proved(document, Property.NO_EXTERNAL_ACCESS, Zone(accounts=(OURS,), vpces=("vpce-1a2b3c4d",)))
    # Without the endpoint in the zone, an outsider may use it.
    refuted(document, Property.NO_EXTERNAL_ACCESS, Zone(accounts=(OURS,)))


def test_source_ip_condition_is_public():
    document = policy(bucket("*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    request = refuted(document, Property.NO_PUBLIC_ACCESS, Zone())
    assert request.context["aws:SourceIp"].startswith("203.0.113.")


def test_deny_with_everyone_exposes_nothing():
    document = policy(bucket("*", effect="Deny"), bucket({"AWS": f"arn:aws:iam::{OURS}:root"}))
    proved(document, Property.NO_PUBLIC_ACCESS, Zone())
    proved(document, Property.NO_EXTERNAL_ACCESS, ZONE)


def test_deny_outside_organization_closes_a_public_grant():
    document = policy(
        bucket("*"),
        bucket("*", {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}, effect="Deny"),
    )
    proved(document, Property.NO_EXTERNAL_ACCESS, Zone(orgs=(ORG,)))


def test_service_grant_without_source_condition():
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": f"arn:aws:sqs:us-east-1:{OURS}:orders",
    }
    request = refuted(policy(statement), Property.NO_CONFUSED_DEPUTY, ZONE)
    assert request.principal == "sns.amazonaws.com"
    topic = {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:us-east-1:{OURS}:orders-topic"}}
    proved(policy({**statement, "Condition": topic}), Property.NO_CONFUSED_DEPUTY, ZONE)
    account = {"StringEquals": {"aws:SourceAccount": OURS}}
    proved(policy({**statement, "Condition": account}), Property.NO_CONFUSED_DEPUTY, ZONE)
    # Services are AWS itself, so the grant is no external access.
    proved(policy(statement), Property.NO_EXTERNAL_ACCESS, ZONE)


def test_bucket_arn_does_not_pin_an_account():
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": f"arn:aws:sqs:us-east-1:{OURS}:uploads",
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::acme-uploads"}},
    }
    request = refuted(policy(statement), Property.NO_CONFUSED_DEPUTY, ZONE)
    assert request.context["aws:SourceArn"] == "arn:aws:s3:::acme-uploads"


def test_source_account_is_absent_for_direct_callers():
    # Only a service principal sends aws:SourceAccount, so no outsider
    # calling directly can meet this condition.
    document = policy(bucket("*", {"StringEquals": {"aws:SourceAccount": OURS}}))
    proved(document, Property.NO_EXTERNAL_ACCESS, ZONE)


def test_principal_account_and_arn_follow_the_principal():
    by_account = policy(bucket("*", {"StringEquals": {"aws:PrincipalAccount": OURS}}))
    proved(by_account, Property.NO_EXTERNAL_ACCESS, ZONE)
    # A role session's aws:PrincipalArn is the role's ARN.
    by_role = policy(bucket("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OURS}:role/*"}}))
    proved(by_role, Property.NO_EXTERNAL_ACCESS, ZONE)
    by_any_role = policy(bucket("*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}))
    request = refuted(by_any_role, Property.NO_EXTERNAL_ACCESS, ZONE)
    assert request.principal.startswith("arn:aws:sts::")
    assert ":assumed-role/admin/" in request.principal
    assert request.context["aws:PrincipalArn"].endswith("role/admin")


def test_anonymous_caller_reaches_a_public_bucket():
    document = policy(bucket("*", {"Bool": {"aws:SecureTransport": "true"}}))
    result = prove(document, Property.NO_EXTERNAL_ACCESS, ZONE, timeout=60)
    assert result.verdict is Verdict.REFUTED


def test_not_principal_role_does_not_name_its_sessions():
    # Deny everyone but the role ARN: the role's sessions are still denied,
    # as the NotPrincipal section of the Principal element page warns.
    role = f"arn:aws:iam::{OURS}:role/admin"
    document = policy(
        bucket({"AWS": f"arn:aws:iam::{OURS}:root"}),
        {"Effect": "Deny", "NotPrincipal": {"AWS": role}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-reports/*"},
    )
    session = Request("s3:GetObject", "arn:aws:s3:::acme-reports/a", principal=f"arn:aws:sts::{OURS}:assumed-role/admin/s1")
    assert not evaluate(document, session).allowed
    proved(document, Property.NO_EXTERNAL_ACCESS, ZONE)


# --- Input handling -----------------------------------------------------------


def test_policy_kind():
    assert policy_kind(trust({"AWS": OURS})) == "trust"
    assert policy_kind(policy(bucket("*"))) == "resource"


def test_identity_policy_is_rejected():
    from verifier.errors import UsageError

    identity = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(UsageError, match="identity policy"):
        prove(identity, Property.NO_PUBLIC_ACCESS, Zone())


def test_empty_zone_is_rejected():
    from verifier.errors import UsageError

    with pytest.raises(UsageError, match="zone of trust"):
        prove(trust({"AWS": OURS}), Property.NO_EXTERNAL_ACCESS, Zone())


def test_named_in_collects_literal_ids():
    document = policy(
        bucket({"AWS": f"arn:aws:iam::{OURS}:root"}, {"StringEquals": {"aws:PrincipalOrgID": ORG, "aws:SourceVpce": "vpce-0a1b2c3d"}})
    )
    named = named_in(document)
    assert named.accounts == (OURS,)
    assert named.orgs == (ORG,)
    assert named.vpces == ("vpce-0a1b2c3d",)


# --- Principal forms: the encoding against the concrete evaluator -------------

PRINCIPALS = [
    f"arn:aws:iam::{OURS}:root",
    f"arn:aws:iam::{OURS}:user/team/alice",
    f"arn:aws:sts::{OURS}:assumed-role/admin/s1",
    f"arn:aws:sts::{OURS}:federated-user/bob",
    f"arn:aws:sts::{THEIRS}:assumed-role/admin/s1",
    f"arn:aws-cn:iam::{OURS}:root",
    "ec2.amazonaws.com",
    f"federated:arn:aws:iam::{OURS}:oidc-provider/{GITHUB}",
    "federated:cognito-identity.amazonaws.com",
    "canonical-user:79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
    "anonymous",
]

ELEMENTS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": OURS},
    {"AWS": f"arn:aws:iam::{OURS}:root"},
    {"AWS": f"arn:aws-cn:iam::{OURS}:root"},
    {"AWS": f"arn:aws:iam::{OURS}:role/ops/admin"},
    {"AWS": f"arn:aws:iam::{OURS}:user/team/alice"},
    {"AWS": f"arn:aws:sts::{OURS}:assumed-role/admin/s1"},
    {"AWS": f"arn:aws:sts::{OURS}:federated-user/bob"},
    {"Service": "ec2.amazonaws.com"},
    # Only an ARN in the AWS list names one principal.
    {"AWS": "ec2.amazonaws.com"},
    {"AWS": "<ACCOUNT-ID>"},
    {"Federated": f"arn:aws:iam::{OURS}:oidc-provider/{GITHUB}"},
    {"Federated": "cognito-identity.amazonaws.com"},
    {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
]


@pytest.mark.parametrize("negated", [False, True])
@pytest.mark.parametrize("element", ELEMENTS, ids=lambda e: json.dumps(e))
def test_principal_truth_table(element: Any, negated: bool):
    name = "NotPrincipal" if negated else "Principal"
    document = policy({"Effect": "Allow", name: element, "Action": "s3:GetObject", "Resource": "*"})
    statement = document.statements[0]
    request = SymRequest(analyze_keys([document]))
    model = request.principal_model
    target = statement.not_principal if negated else statement.principal
    listed = model.listed(target, negated)
    for text in PRINCIPALS:
        concrete = evaluate(document, Request("s3:GetObject", "arn:aws:s3:::b/k", principal=text)).allowed
        solver = z3.Solver()
        solver.add(model.equals(text), z3.Not(listed) if negated else listed)
        assert (solver.check() == z3.sat) == concrete, text


@pytest.mark.parametrize("text", PRINCIPALS)
def test_parse_and_compose_round_trip(text: str):
    parsed = parse_principal(text)
    assert parsed is not None
    model = PrincipalModel()
    solver = z3.Solver()
    solver.add(model.equals(text), *model.shape(parsed.kind))
    assert solver.check() == z3.sat
    composed = solver.model().eval(model.compose(parsed.kind), model_completion=True).as_string()
    assert composed == text


@pytest.mark.parametrize(
    "text",
    [f"arn:aws:iam::{OURS}:role/admin", f"arn::iam::{OURS}:root", f"arn:aws:iam::{OURS}:group/dev", "federated:", "", f"arn:aws:iam::1234:root"],
)
def test_names_that_no_caller_has(text: str):
    assert parse_principal(text) is None


def test_outside_reason_for_each_form():
    zone = Zone(accounts=(OURS,), orgs=(ORG,), federated=(FederatedTrust(GITHUB, "sub", "repo:acme-corp/*"),))

    def reason(principal: str, **context: Any) -> str | None:
        return outside_reason(zone, Request("sts:AssumeRole", "*", principal=principal, context=context))

    assert reason(f"arn:aws:iam::{OURS}:root") is None
    assert reason(f"arn:aws:iam::{THEIRS}:root") is not None
    assert reason(f"arn:aws:iam::{THEIRS}:root", **{"aws:PrincipalOrgID": ORG}) is None
    assert reason("ec2.amazonaws.com") is None
    assert reason("anonymous") is not None
    github = f"federated:arn:aws:iam::{OURS}:oidc-provider/{GITHUB}"
    assert reason(github, **{f"{GITHUB}:sub": "repo:acme-corp/api:ref:refs/heads/main"}) is None
    assert reason(github, **{f"{GITHUB}:sub": "repo:someone-else/api"}) is not None
    assert reason(f"federated:arn:aws:iam::{OURS}:saml-provider/okta") is None


# --- Command line --------------------------------------------------------------


def run_cli(tmp_path, document: dict[str, Any], *args: str, config: str | None = None):
    from click.testing import CliRunner

    from verifier.cli import cli

    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    options = list(args)
    if config is not None:
        (tmp_path / "zone.toml").write_text(config)
        options += ["--config", str(tmp_path / "zone.toml")]
    return CliRunner().invoke(cli, ["prove", *options[:1], str(path), *options[1:]])


CROSS_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{THEIRS}:root"}, "Action": "sts:AssumeRole"}],
}


def test_cli_refuted_json(tmp_path):
    result = run_cli(tmp_path, CROSS_ACCOUNT, "no-external-access", "--trusted-account", OURS, "--format", "json")
    assert result.exit_code == 1, result.output
    payload = json.loads(result.output)
    assert payload["verdict"] == "refuted"
    assert payload["property"] == "no-external-access"
    assert payload["policy_kind"] == "trust"
    assert THEIRS in payload["counterexample"]["principal"]
    assert payload["statements"][0]["path"] == "Statement[0]"
    assert payload["zone"]["accounts"] == [OURS]
    assert f"account {THEIRS}" in payload["explanation"]


def test_cli_proved_text(tmp_path):
    result = run_cli(tmp_path, CROSS_ACCOUNT, "no-external-access", "--trusted-account", THEIRS)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PROVED: no-external-access holds")


def test_cli_zone_from_config(tmp_path):
    result = run_cli(tmp_path, CROSS_ACCOUNT, "no-external-access", config=f'[zone]\naccounts = ["{THEIRS}"]\n')
    assert result.exit_code == 0, result.output


def test_cli_reports_every_invalid_zone_value(tmp_path):
    result = run_cli(tmp_path, CROSS_ACCOUNT, "no-external-access", "--trusted-account", "12345", "--trusted-org", "org-1")
    assert result.exit_code == 2
    assert "--trusted-account[0]: '12345' is not valid: expected a 12-digit account ID" in result.output
    assert "--trusted-org[0]: 'org-1' is not valid" in result.output
    assert "Traceback" not in result.output


def test_cli_reports_invalid_config(tmp_path):
    config = '[zone]\naccounts = "111122223333"\nregions = []\n'
    result = run_cli(tmp_path, CROSS_ACCOUNT, "no-external-access", config=config)
    assert result.exit_code == 2
    assert "zone.accounts: must be a list of strings, not a string" in result.output
    assert "zone.regions: unknown field" in result.output


def test_cli_missing_zone_and_identity_policy(tmp_path):
    result = run_cli(tmp_path, CROSS_ACCOUNT, "no-external-access")
    assert result.exit_code == 2
    assert "needs a zone of trust" in result.output
    identity = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    result = run_cli(tmp_path, identity, "no-public-access")
    assert result.exit_code == 2
    assert "identity policy" in result.output


# --- who-can ---------------------------------------------------------------------


def scopes(document: PolicyDocument) -> set[tuple[str, str | None]]:
    from verifier.who_can import who_can

    result = who_can(document, timeout=60)
    assert result.complete, result.reason
    return {(entry.scope, entry.name) for entry in result.entries}


def test_who_can_trust_policy_with_three_groups():
    provider = f"arn:aws:iam::{OURS}:oidc-provider/{GITHUB}"
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OURS}:role/deploy"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": THEIRS}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity"},
    )
    assert scopes(document) == {
        ("role", f"arn:aws:iam::{OURS}:role/deploy"),
        ("account", THEIRS),
        ("federated", provider),
    }


def test_who_can_public_and_organization_grants():
    assert scopes(policy(bucket("*"))) >= {("anonymous", None), ("any-account", None)}
    organization = policy(bucket("*", {"StringEquals": {"aws:PrincipalOrgID": ORG}}))
    assert scopes(organization) == {("organization", ORG)}


def test_who_can_nobody_behind_a_deny():
    document = policy(bucket({"AWS": THEIRS}), bucket("*", effect="Deny"))
    assert scopes(document) == set()


def test_who_can_lists_statements_per_group():
    from verifier.who_can import who_can

    no_mfa = {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
    document = policy(
        bucket({"AWS": THEIRS}),
        bucket({"AWS": f"arn:aws:iam::{THEIRS}:role/reader"}, {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        bucket({"AWS": OURS}),
        bucket({"AWS": THEIRS}, no_mfa, effect="Deny"),
        bucket({"AWS": OURS}, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, effect="Deny"),
    )

    result = who_can(document, timeout=60)

    assert result.complete, result.reason
    by_name = {entry.name: entry for entry in result.entries}
    assert set(by_name) == {THEIRS, OURS}
    # The role's statement lets in callers of the account group too, though
    # the group's first example may be another principal.
    assert [s.index for s in by_name[THEIRS].statements] == [0, 1]
    assert [s.index for s in by_name[THEIRS].denials] == [3]
    assert [s.index for s in by_name[OURS].statements] == [2]
    assert [s.index for s in by_name[OURS].denials] == [4]
    assert by_name[THEIRS].undecided == ()


def test_who_can_prefers_named_principals():
    # The account appears only in a Deny, so the groups stay the user and
    # the role (with its path) that the Allow statements name.
    role = f"arn:aws:iam::{THEIRS}:role/path/Deployer"
    user = f"arn:aws:iam::{THEIRS}:user/bob"
    document = policy(
        {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": THEIRS}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "nope"}}},
    )

    assert scopes(document) == {("role", role), ("user", user)}


def test_identity_policy_error_as_json(tmp_path):
    from click.testing import CliRunner

    from verifier.cli import cli

    path = tmp_path / "identity.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    for args in (["who-can", str(path)], ["prove", "no-public-access", str(path)]):
        result = CliRunner().invoke(cli, [*args, "--format", "json"])

        assert result.exit_code == 2, result.output
        payload = json.loads(result.stdout)
        assert payload["verdict"] == "invalid"
        assert "looks like an identity policy" in payload["errors"][0]["message"]


def test_who_can_text_shows_denials(tmp_path):
    from click.testing import CliRunner

    from verifier.cli import cli

    path = tmp_path / "trust.json"
    path.write_text(json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": THEIRS}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},
        ],
    }))

    result = CliRunner().invoke(cli, ["who-can", str(path)])

    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert f"allowed by Statement[0] at line 1, for AWS {THEIRS}, with no condition" in lines
    assert "denied by Statement[1] at line 1, if Bool aws:MultiFactorAuthPresent ['false']" in lines


def test_wildcard_external_id_is_noted():
    document = trust({"AWS": THEIRS}, {"StringLike": {"sts:ExternalId": "*"}})
    exact = trust({"AWS": THEIRS}, {"StringEquals": {"sts:ExternalId": "7f3c-agreed"}})

    result = prove(document, Property.NO_CONFUSED_DEPUTY, Zone(accounts=(OURS,)))
    exact_result = prove(exact, Property.NO_CONFUSED_DEPUTY, Zone(accounts=(OURS,)))

    # The property as defined holds: the caller must send some external ID.
    assert result.verdict is Verdict.PROVED
    assert any("accepts any sts:ExternalId" in note for note in result.notes)
    assert exact_result.verdict is Verdict.PROVED
    for condition in ({"StringLike": {"sts:ExternalId": "?*"}}, {"Null": {"sts:ExternalId": "false"}}, {"StringEquals": {"sts:ExternalId": "${aws:PrincipalAccount}"}}):
        loose = prove(trust({"AWS": THEIRS}, condition), Property.NO_CONFUSED_DEPUTY, Zone(accounts=(OURS,)))
        assert any("does not protect against the confused deputy problem" in note for note in loose.notes), condition
    assert not any("ExternalId" in note for note in exact_result.notes)


CANONICAL_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"


def test_canonical_user_grant_is_not_public():
    # A canonical user ID names one account (an S3 canonical ID), which the
    # policy names as a known party, like a 12-digit account ID.
    document = policy(bucket({"CanonicalUser": CANONICAL_ID}))

    assert prove(document, Property.NO_PUBLIC_ACCESS, Zone()).verdict is Verdict.PROVED
    assert prove(document, Property.NO_EXTERNAL_ACCESS, Zone(accounts=(OURS,))).verdict is Verdict.REFUTED
    assert scopes(document) == {("canonical-user", CANONICAL_ID)}


def test_trusted_canonical_user_in_zone(tmp_path):
    document = policy(bucket({"CanonicalUser": CANONICAL_ID}))

    trusted = prove(document, Property.NO_EXTERNAL_ACCESS, Zone(accounts=(OURS,), canonical_users=(CANONICAL_ID,)))
    config = tmp_path / "zone.toml"
    config.write_text(f'[zone]\ncanonical_users = ["{CANONICAL_ID}"]\n')

    assert trusted.verdict is Verdict.PROVED
    assert zone_from_config(config).canonical_users == (CANONICAL_ID,)


def test_canonical_user_beside_public_grant():
    document = policy(bucket({"CanonicalUser": CANONICAL_ID}), bucket("*"))

    result = prove(document, Property.NO_PUBLIC_ACCESS, Zone())

    assert result.verdict is Verdict.REFUTED
    assert result.counterexample is not None
    assert not (result.counterexample.principal or "").startswith("canonical-user:")


def test_who_can_cli_text(tmp_path):
    from click.testing import CliRunner

    from verifier.cli import cli

    path = tmp_path / "trust.json"
    path.write_text(json.dumps(CROSS_ACCOUNT))
    result = CliRunner().invoke(cli, ["who-can", str(path)])
    assert result.exit_code == 0, result.output
    assert f"any principal of account {THEIRS}" in result.output
    assert "Complete:" in result.output


# --- One test per documented rule about derived keys ------------------------------
#
# Each policy below lets in everyone and then relies on one rule to keep
# callers outside the zone away. A rule that the encoding dropped would turn
# the proof into a refutation.


@pytest.mark.parametrize(
    "condition",
    [
        # aws:PrincipalType is Account, User, AssumedRole, FederatedUser or Anonymous.
        {"StringEquals": {"aws:PrincipalType": "AWSService"}},
        # aws:PrincipalIsAWSService is true only for service principals,
        # which are inside every zone.
        {"Bool": {"aws:PrincipalIsAWSService": "true"}},
        # aws:PrincipalServiceName is present only for service principals.
        {"StringEquals": {"aws:PrincipalServiceName": "ec2.amazonaws.com"}},
        # aws:PrincipalOrgPaths starts with the account's organization ID.
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/*"}},
        # Claims come only from their own provider, never with an IAM caller.
        {"StringLike": {f"{GITHUB}:sub": "*"}, "StringEquals": {"aws:PrincipalAccount": THEIRS}},
    ],
    ids=["principal-type", "is-aws-service", "service-name", "org-paths", "claims-only-from-provider"],
)
def test_derived_key_rule_keeps_outsiders_away(condition: dict[str, Any]):
    proved(policy(bucket("*", condition)), Property.NO_EXTERNAL_ACCESS, Zone(accounts=(OURS,), orgs=(ORG,)))


def test_anonymous_callers_carry_no_principal_keys():
    # Null is true when the key is absent, so only an anonymous caller,
    # which has no aws:PrincipalAccount, gets in.
    document = policy(bucket("*", {"Null": {"aws:PrincipalAccount": "true"}}))
    request = refuted(document, Property.NO_PUBLIC_ACCESS, Zone())
    assert request.principal == "anonymous"
    assert "aws:PrincipalAccount" not in request.context


def test_placeholder_principal_gets_a_note():
    provider = "arn:aws:iam::<account_id>:oidc-provider/" + GITHUB
    document = trust({"Federated": provider}, {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}, "sts:AssumeRoleWithWebIdentity")
    result = prove(document, Property.NO_EXTERNAL_ACCESS, ZONE, timeout=60)
    assert result.verdict is Verdict.PROVED
    assert result.notes == [f"Statement[0].Principal.Federated: `{provider}` names no identity provider, so it matches no caller"]


def test_federated_caller_is_not_an_aws_service():
    # A web identity call to STS is not signed with AWS credentials, so it
    # carries no aws:PrincipalIsAWSService.
    statement = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}}}
    proved(policy(statement), Property.NO_EXTERNAL_ACCESS, ZONE)


def test_source_arn_with_any_region_pins_the_account():
    # Every character but a colon may fill the region field; the account
    # field still names the zone's account, so no outside deputy exists.
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": f"arn:aws:sqs:us-east-1:{OURS}:jobs",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{OURS}:*"}},
    }
    proved(policy(statement), Property.NO_CONFUSED_DEPUTY, ZONE)


def test_public_access_proof_notes_web_identities():
    provider = f"arn:aws:iam::{OURS}:oidc-provider/{GITHUB}"
    document = trust({"Federated": provider}, {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}, "sts:AssumeRoleWithWebIdentity")
    result = prove(document, Property.NO_PUBLIC_ACCESS, Zone(), timeout=60)
    assert result.verdict is Verdict.PROVED
    assert len(result.notes) == 1
    assert f"`{provider}` get in (Statement[0] at line 1)" in result.notes[0]


def test_action_typo_gets_a_note():
    result = prove(trust({"AWS": f"arn:aws:iam::{THEIRS}:root"}, action="sts:AssumeRol"), Property.NO_EXTERNAL_ACCESS, ZONE, timeout=60)
    assert result.verdict is Verdict.PROVED
    assert result.notes == ["Statement[0].Action: `sts:AssumeRol` matches no action that AWS defines"]
