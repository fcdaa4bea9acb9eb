"""Malformed input never makes the CLI print a traceback.

Every run must end with exit 0 to 3 and, for exit 2, one-line messages that
name the file.
"""

import json
import string

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from verifier.cli import cli

JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
KEYS = ["Version", "Statement", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition",
        "Principal", "NotPrincipal", "Sid", "StringLike", "ForAnyValue:StringEquals", "aws:SourceIp", "Bool"]
VALUES = ["2012-10-17", "Allow", "Deny", "*", "s3:GetObject", "s3:*", "arn:aws:s3:::b/*", "true", "10.0.0.0/8", "${aws:username}"]


def policy_like() -> st.SearchStrategy:
    """Documents close to valid policies, with wrong types and names mixed in."""
    leaf = st.sampled_from(VALUES) | JSON_SCALARS
    node = st.recursive(
        leaf,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=4),
        max_leaves=25,
    )
    statement = st.dictionaries(st.sampled_from(KEYS), node, max_size=6)
    return st.fixed_dictionaries({"Version": st.sampled_from(["2012-10-17", "2008-10-17", "x"]), "Statement": st.lists(statement, max_size=3) | statement})


def assert_clean(result) -> None:
    assert result.exit_code in (0, 1, 2, 3), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(policy_like(), JSON_VALUES))
def test_check_never_crashes_on_json(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    old = folder / "old.json"
    new = folder / "new.json"
    old.write_text(json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}))
    new.write_text(json.dumps(data))

    result = CliRunner().invoke(cli, ["check", "--timeout", "5", str(old), str(new)])

    assert_clean(result)
    if result.exit_code == 2:
        assert all(line.startswith(str(new)) for line in result.output.splitlines() if line)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(alphabet=string.printable + "{}[]:\"'", max_size=200).map(str.encode))
def test_validate_never_crashes_on_bytes(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "p.yaml"
    path.write_bytes(raw)

    result = CliRunner().invoke(cli, ["validate", str(path)])

    assert_clean(result)


def test_deep_nesting_is_invalid_input(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 5000 + "]" * 5000)

    result = CliRunner().invoke(cli, ["validate", str(path)])

    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_many_statements_policy(tmp_path):
    statements = [{"Effect": "Allow", "Action": f"s3:Get{i}", "Resource": f"arn:aws:s3:::b{i}/*"} for i in range(3000)]
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    new.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements[::-1]}))

    result = CliRunner().invoke(cli, ["check", str(old), str(new)])

    assert result.exit_code == 0


def test_condition_key_with_a_bar_reaches_cvc5(tmp_path):
    # `|` ends a quoted SMT-LIB symbol, so the key is spelled with `%7C`.
    from click.testing import CliRunner

    from verifier.cli import cli

    old = tmp_path / "old.json"
    old.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    new = tmp_path / "new.json"
    new.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",'
        ' "Condition": {"StringLike": {"aws:a|b": "a*"}}}]}'
    )
    result = CliRunner().invoke(cli, ["check", str(old), str(new)])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output


def test_number_beyond_a_thousand_digits_is_unsupported(tmp_path):
    from click.testing import CliRunner

    from verifier.cli import cli

    old = tmp_path / "old.json"
    old.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    new = tmp_path / "new.json"
    number = "1" + "0" * 2000
    new.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",'
        f' "Condition": {{"NumericLessThan": {{"s3:max-keys": "{number}"}}}}}}]}}'
    )
    result = CliRunner().invoke(cli, ["check", str(old), str(new)])
    assert result.exit_code == 3, result.output
    assert "a number with more than 1000 digits in a condition" in result.output


def test_lone_surrogate_is_printed_as_an_escape(tmp_path):
    import os
    import subprocess
    import sys

    old = tmp_path / "old.json"
    old.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    new = tmp_path / "new.json"
    new.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::\\ud800x"}]}')
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    completed = subprocess.run(
        [sys.executable, "-m", "verifier", "compare", str(old), str(new)], capture_output=True, text=True, env=environment, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "arn:aws:s3:::\\ud800x" in completed.stdout


def test_pattern_with_a_thousand_wildcards_is_unsupported(tmp_path):
    # Python's regular expressions backtracked for minutes on such a
    # Resource, and the solvers ran past their time limits.
    from click.testing import CliRunner

    from verifier.cli import cli

    old = tmp_path / "old.json"
    old.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    new = tmp_path / "new.json"
    new.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/'
        + "*a?" * 1000
        + '"}]}'
    )
    checked = CliRunner().invoke(cli, ["check", str(old), str(new)])
    assert checked.exit_code == 3, checked.output
    assert "a pattern with more than 100 wildcards" in checked.output
    evaluated = CliRunner().invoke(cli, ["evaluate", str(new), "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/x"])
    assert evaluated.exit_code == 3, evaluated.output
    assert "wildcards is not evaluated" in evaluated.output


@pytest.mark.parametrize(
    "element",
    [
        {"Resource": "arn:aws:s3:::" + "a" * 200_000 + "*"},
        {"Resource": "*", "Condition": {"StringLike": {"s3:prefix": "a" * 200_000}}},
    ],
    ids=["resource", "condition value"],
)
def test_string_past_encoder_limit_is_unsupported(tmp_path, element):
    # z3 5.4.1 needed 6.4 GB of memory to assert a pattern of 3,000,000
    # characters, so strings above 100,000 characters are not encoded.
    from click.testing import CliRunner

    from verifier.cli import cli

    old = tmp_path / "old.json"
    old.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    new = tmp_path / "new.json"
    statements = [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}, {"Effect": "Allow", "Action": "s3:ListBucket", **element}]
    new.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))

    result = CliRunner().invoke(cli, ["check", str(old), str(new)])

    assert result.exit_code == 3, result.output
    assert "Statement[1]" in result.output
    assert "a string of 200,0" in result.output
    assert "longer than the 100,000 that the encoder supports" in result.output


def test_number_of_a_million_digits_is_invalid_input(tmp_path):
    # Reading it took 50 s (Python converts decimal text to an integer in
    # quadratic time); numbers longer than 4,300 characters are not read.
    from click.testing import CliRunner

    from verifier.cli import cli

    path = tmp_path / "policy.json"
    number = "1" + "0" * 1_000_000
    path.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",'
        f' "Condition": {{"NumericLessThan": {{"s3:max-keys": "{number}"}}}}}}]}}'
    )
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Statement[0].Condition.NumericLessThan.s3:max-keys: invalid value" in result.output


def test_lone_surrogate_in_a_resource_prints_in_process(tmp_path):
    from click.testing import CliRunner

    from verifier.cli import cli

    old = tmp_path / "old.json"
    old.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    new = tmp_path / "new.json"
    new.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::\\ud800x"}]}')
    result = CliRunner().invoke(cli, ["compare", str(old), str(new)])
    assert result.exception is None, result.exception
    assert "arn:aws:s3:::\\ud800x" in result.output
