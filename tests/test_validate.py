"""`iamverify validate`: warnings that need the AWS service reference."""

import json

import pytest
from click.testing import CliRunner

from verifier.cli import cli
from verifier.policy.parse import parse_policy_text
from verifier.validate import validate_policy_semantics


def warnings_of(*statements: dict) -> list[tuple[str, str]]:
    policy = parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return [(issue.path, issue.message) for issue in validate_policy_semantics(policy)]


@pytest.mark.parametrize(
    ("statement", "path", "fragment"),
    [
        ({"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}, "Statement[0].Action", "unknown action `s3:GetObjekt`"),
        ({"Effect": "Allow", "Action": "s3:Gx*", "Resource": "*"}, "Statement[0].Action", "matches no action"),
        ({"Effect": "Allow", "Action": "nosuchservice:Get", "Resource": "*"}, "Statement[0].Action", "unknown service prefix"),
        (
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"StringEquals": {"s3:max-keys": "10"}}},
            "Statement[0].Condition.StringEquals.s3:max-keys",
            "documented as Numeric",
        ),
        (
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"Bool": {"aws:NoSuchKey": "true"}}},
            "Statement[0].Condition.Bool.aws:NoSuchKey",
            "unknown condition key",
        ),
        (
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*", "Condition": {"StringEquals": {"aws:TagKeys": "a"}}},
            "Statement[0].Condition.StringEquals.aws:TagKeys",
            "is multivalued",
        ),
        ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:s3:::bucket/*"}, "Statement[0].Action", "takes (role)"),
        ({"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "arn:aws:s3:::bucket"}, "Statement[0].Action", "takes no resource type"),
    ],
    ids=["unknown-action", "wildcard-matches-nothing", "unknown-service", "operator-type", "unknown-key", "multivalued-key", "wrong-resource-type", "needs-star"],
)
def test_validate_warns(statement, path, fragment):
    [(found_path, message)] = warnings_of(statement)

    assert found_path == path
    assert fragment in message


def test_validate_clean_policy():
    statement = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:List*"],
        "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "true"}, "NumericLessThanEquals": {"s3:max-keys": "100"}},
    }

    assert warnings_of(statement) == []


def test_validate_cli_exit_codes(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}))
    runner = CliRunner()

    plain = runner.invoke(cli, ["validate", str(path)])
    strict = runner.invoke(cli, ["validate", "--strict", str(path)])

    assert plain.exit_code == 0
    assert f"{path}: Statement[0].Action: warning: unknown action `s3:GetObjekt`" in plain.output
    assert strict.exit_code == 1


def test_validate_cli_invalid_policy(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}')

    result = CliRunner().invoke(cli, ["validate", str(path)])

    assert result.exit_code == 2
    assert "invalid effect `Maybe`" in result.output


def test_validate_reports_valid_files_beside_invalid(tmp_path):
    valid = tmp_path / "valid.json"
    valid.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"Version": "2012-10-17", "Statement": [')

    text = CliRunner().invoke(cli, ["validate", str(valid), str(broken)])
    as_json = CliRunner().invoke(cli, ["validate", "--format", "json", str(valid), str(broken)])

    assert text.exit_code == 2
    assert "unknown action `s3:GetObjekt`" in text.stdout
    assert "invalid JSON" in text.stderr
    assert text.stdout.splitlines()[-1] == "2 file(s) checked, 1 invalid, 1 warning(s)"
    assert as_json.exit_code == 2
    payload = json.loads(as_json.stdout)
    assert payload["verdict"] == "invalid"
    assert [error["file"] for error in payload["errors"]] == [str(broken)]
    assert [warning["file"] for warning in payload["warnings"]] == [str(valid)]


@pytest.mark.parametrize(
    ("operator", "key", "value", "documented"),
    [
        ("StringEquals", "aws:SourceIp", "10.0.0.1", "IPAddress"),
        ("NumericLessThan", "aws:CurrentTime", "5", "Date"),
        ("StringEquals", "aws:SecureTransport", "true", "Bool"),
        ("ArnLike", "s3:prefix", "home/", "String"),
        ("DateGreaterThan", "s3:max-keys", "2020-01-01T00:00:00Z", "Numeric"),
    ],
)
def test_operator_key_type_mismatch(operator, key, value, documented):
    statement = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {operator: {key: value}}}

    [(path, message)] = warnings_of(statement)

    assert path == f"Statement[0].Condition.{operator}.{key}"
    assert f"documented as {documented}" in message


def test_paths_index_lists_and_statements():
    first = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjekt"], "Resource": "*"}
    second = {
        "Effect": "Deny",
        "NotAction": ["s3:Gx*"],
        "Resource": "*",
        "Condition": {"StringLike": {"s3:prefix": "a", "s3:NoSuchKey": "b"}},
    }

    found = warnings_of(first, second)

    assert [path for path, _ in found] == [
        "Statement[0].Action[1]",
        "Statement[1].NotAction",
        "Statement[1].Condition.StringLike.s3:NoSuchKey",
    ]
    assert "unknown action `s3:GetObjekt`" in found[0][1]
    assert "`s3:Gx*` matches no action" in found[1][1]
    assert "unknown condition key `s3:NoSuchKey`" in found[2][1]


def test_resource_type_one_fitting_resource_is_enough():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:iam::123456789012:role/x", "arn:aws:s3:::b/*"]}

    assert warnings_of(statement) == []


def test_resource_type_none_fitting():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:iam::123456789012:role/x", "arn:aws:ec2:*:*:instance/*"]}

    [(path, message)] = warnings_of(statement)

    assert path == "Statement[0].Action"
    assert "`s3:GetObject` takes (accesspointobject, object)" in message


def test_templated_keys_are_known():
    statement = {
        "Effect": "Allow",
        "Action": "ec2:StartInstances",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/team": "a", "ec2:ResourceTag/owner": "b"}},
    }

    assert warnings_of(statement) == []


def test_validate_cli_json_lists_each_mistake(tmp_path):
    statements = [
        {"Effect": "Allow", "Action": ["s3:GetObjekt", "s3:Gx*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:s3:::bucket/*"},
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "*",
            "Condition": {"StringEquals": {"s3:max-keys": "10"}, "Bool": {"s3:NoSuchKey": "true"}},
        },
    ]
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    runner = CliRunner()

    plain = runner.invoke(cli, ["validate", "--format", "json", str(path)])
    strict = runner.invoke(cli, ["validate", "--strict", "--format", "json", str(path)])

    assert plain.exit_code == 0
    assert strict.exit_code == 1
    warnings = json.loads(plain.output)["warnings"]
    assert {w["file"] for w in warnings} == {str(path)}
    messages = {w["path"]: w["message"] for w in warnings}
    # The list is named `warnings`, so no message repeats the word.
    assert not any(message.startswith("warning:") for message in messages.values())
    expected = {
        "Statement[0].Action[0]": "unknown action `s3:GetObjekt`",
        "Statement[0].Action[1]": "`s3:Gx*` matches no action",
        "Statement[1].Action": "no Resource of this statement names a resource `iam:PassRole` takes (role)",
        "Statement[2].Condition.StringEquals.s3:max-keys": "documented as Numeric",
        "Statement[2].Condition.Bool.s3:NoSuchKey": "unknown condition key `s3:NoSuchKey`",
    }
    assert len(warnings) == len(expected)
    for json_path, fragment in expected.items():
        assert fragment in messages.get(json_path, ""), json_path


def test_federation_claim_keys_are_known():
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "saml:aud": "https://signin.aws.amazon.com/saml"},
            "StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:*"},
        },
    }

    assert warnings_of(statement) == []
