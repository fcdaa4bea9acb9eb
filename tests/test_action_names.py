"""Counterexamples name real actions, and --known-actions-only limits checks to them."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from verifier.catalog import default_catalog
from verifier.check import UNKNOWN_ACTION_NOTE, check_no_new_access
from verifier.cli import cli
from verifier.evaluate import evaluate
from verifier.new_access import list_new_access
from verifier.policy.parse import load_policy_file, parse_policy_text
from verifier.solver import Verdict


def allow(action: str, resource: str = "*"):
    return parse_policy_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
    )


def test_counterexample_uses_defined_action():
    old, new = allow("s3:GetObject"), allow("s3:GetObject*")

    result = check_no_new_access(old, new)

    assert result.verdict is Verdict.REFUTED
    assert result.counterexample.action.startswith("s3:GetObject")
    assert result.counterexample.action != "s3:GetObject"
    assert result.notes == []
    assert evaluate(new, result.counterexample).allowed


def test_counterexample_resource_follows_arn_format():
    old, new = allow("s3:GetObject"), allow("s3:GetObject*")

    result = check_no_new_access(old, new)

    assert result.counterexample.resource.startswith("arn:aws:s3:")


def test_action_without_resource_types_gets_star():
    old, new = allow("s3:ListBucket"), allow("s3:ListAllMyBuckets")

    result = check_no_new_access(old, new)

    assert result.counterexample.action == "s3:ListAllMyBuckets"
    assert result.counterexample.resource == "*"


def test_wildcard_without_defined_action_is_noted():
    old, new = allow("s3:Get*"), allow("s3:G*")

    result = check_no_new_access(old, new)

    assert result.verdict is Verdict.REFUTED
    assert result.notes == [UNKNOWN_ACTION_NOTE]
    assert result.counterexample.action.lower().startswith("s3:g")
    assert not result.counterexample.action.lower().startswith("s3:get")


def test_known_actions_only_proves_wildcard_widening():
    old, new = allow("s3:Get*"), allow("s3:G*")

    result = check_no_new_access(old, new, known_actions_only=True)

    assert result.verdict is Verdict.PROVED


def test_known_actions_only_still_refutes_real_access():
    old, new = allow("s3:Get*"), allow("s3:*")

    result = check_no_new_access(old, new, known_actions_only=True)

    assert result.verdict is Verdict.REFUTED
    assert not result.counterexample.action.lower().startswith("s3:get")


def test_known_actions_only_flag_in_cli(tmp_path):
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}))
    new.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:G*", "Resource": "*"}]}))
    runner = CliRunner()

    default = runner.invoke(cli, ["check", str(old), str(new)])
    known_only = runner.invoke(cli, ["check", "--known-actions-only", str(old), str(new)])

    assert default.exit_code == 1
    assert "note: no action that AWS defines today" in default.output
    assert known_only.exit_code == 0


def policy(*statements: dict):
    return parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def test_defined_action_in_later_slice_is_named():
    old = allow("s3:Get*")
    new = policy({"Effect": "Allow", "Action": ["s3:G*", "s3:PutObject"], "Resource": "*"})

    result = check_no_new_access(old, new)

    assert result.verdict is Verdict.REFUTED
    assert result.counterexample.action == "s3:PutObject"
    assert result.notes == []


def test_defined_action_in_later_statement_is_named():
    old = allow("s3:Get*")
    new = policy(
        {"Effect": "Allow", "Action": "s3:G*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
    )

    result = check_no_new_access(old, new)

    assert result.counterexample.action == "s3:PutObject"
    assert result.notes == []


def test_defined_action_beyond_union_limit_is_named():
    # The slice `*` contains every defined action, more than one solver query
    # takes as a union, and the only new one comes after the first 2,000 in
    # name order.
    old = policy({"Effect": "Allow", "NotAction": "s3:PutObject", "Resource": "*"})
    new = allow("*")

    result = check_no_new_access(old, new)

    assert result.counterexample.action == "s3:PutObject"
    assert result.notes == []


MANAGED_DIR = Path(__file__).parent / "data" / "managed"


@pytest.mark.parametrize(
    ("old_path", "new_path"),
    [
        ("AWSServiceCatalogAdminFullAccess/v6.json", "AWSServiceCatalogAdminFullAccess/v5-20190206.json"),
        ("ElasticLoadBalancingFullAccess/v6.json", "ElasticLoadBalancingFullAccess/v7.json"),
        ("ReadOnlyAccess/v52.json", "ReadOnlyAccess/v54.json"),
    ],
    ids=["service-catalog-union-timeout", "elb-readable-timeout", "read-only-later-slice"],
)
def test_managed_pair_names_defined_action(old_path, new_path):
    old = load_policy_file(MANAGED_DIR / old_path)
    new = load_policy_file(MANAGED_DIR / new_path)

    result = check_no_new_access(old, new, timeout=60)

    assert result.verdict is Verdict.REFUTED
    assert default_catalog().action(result.counterexample.action) is not None
    assert result.notes == []
    listed = {entry.action for entry in list_new_access(old, new, timeout=60).entries}
    assert result.counterexample.action in listed
