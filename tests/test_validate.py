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
