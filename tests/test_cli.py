"""The `iamverify` command line, run through click's CliRunner.

Covers the exit-code contract (0 proved or allowed, 1 refuted or denied,
2 invalid input or usage, 3 unknown), the JSON output shape, replay of
printed counterexamples, and the `FILE: JSON.path: message` lines printed for
invalid policies.
"""

from __future__ import annotations

import json
from pathlib import Path
import urllib.parse
from typing import Any

import pytest
from click.testing import CliRunner, Result

from verifier import __version__
from verifier.cli import cli
from verifier.evaluate import Request, evaluate
from verifier.policy.parse import load_policy_file

VERSION_2012 = "2012-10-17"

READ = {
    "Sid": "Read",
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"],
}
WRITE = {"Sid": "Write", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::reports/*"}
READ_ONLY = {"Version": VERSION_2012, "Statement": [READ]}
READ_WRITE = {"Version": VERSION_2012, "Statement": [READ, WRITE]}
# READ_ONLY written as two statements, one per action.
READ_ONLY_SPLIT = {
    "Version": VERSION_2012,
    "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::reports/*", "arn:aws:s3:::reports"]},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"]},
    ],
}
LOGS_READ = {
    "Version": VERSION_2012,
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}],
}

ALL_S3 = {"Sid": "AllS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
NO_DELETE = {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}


def read_from_network(cidr: str) -> dict[str, Any]:
    condition = {"Bool": {"aws:SecureTransport": "true"}, "IpAddress": {"aws:SourceIp": cidr}}
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*", "Condition": condition}
    return {"Version": VERSION_2012, "Statement": [statement]}


def tagging(tag_keys: list[str]) -> dict[str, Any]:
    statement = {
        "Sid": "Tagging",
        "Effect": "Allow",
        "Action": "s3:PutObjectTagging",
        "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": tag_keys}},
    }
    deny = {"Sid": "NoSecret", "Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::secret/*"}
    return {"Version": VERSION_2012, "Statement": [statement, deny]}


TRUST = {
    "Version": VERSION_2012,
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def run(*args: str) -> Result:
    """Invoke the CLI and check that it never ends in a traceback."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def request_from_json(data: dict[str, Any]) -> Request:
    context = {key: tuple(value) if isinstance(value, list) else value for key, value in data["context"].items()}
    return Request(action=data["action"], resource=data["resource"], principal=data["principal"], context=context)


def evaluate_args(policy: str, data: dict[str, Any]) -> list[str]:
    """Arguments of `iamverify evaluate` that replay a JSON request."""
    args = ["evaluate", policy, "--action", data["action"], "--resource", data["resource"]]
    if data["principal"] is not None:
        args += ["--principal", data["principal"]]
    for key, value in data["context"].items():
        for item in value if isinstance(value, list) else [value]:
            args += ["--context", f"{key}={item}"]
    return args


def assert_replays(allowing: str, denying: str, data: dict[str, Any]) -> None:
    """Check that the request in `data` is allowed by the policy file
    `allowing` and denied by `denying`, through the API and the CLI."""
    request = request_from_json(data)
    assert evaluate(load_policy_file(allowing), request).allowed is True
    assert evaluate(load_policy_file(denying), request).allowed is False
    assert run(*evaluate_args(allowing, data)).exit_code == 0
    assert run(*evaluate_args(denying, data)).exit_code == 1


# --- Version and help --------------------------------------------------------


def test_version_option():
    result = run("--version")

    assert result.exit_code == 0
    assert result.stdout == f"iamverify, version {__version__}\n"


@pytest.mark.parametrize("option", ["--help", "-h"])
def test_help_lists_commands(option):
    result = run(option)

    assert result.exit_code == 0
    for command in ("check", "compare", "evaluate"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout


@pytest.mark.parametrize("command", ["check", "compare", "evaluate"])
def test_command_help(command):
    result = run(command, "--help")

    assert result.exit_code == 0
    assert "--format" in result.stdout


# --- check -------------------------------------------------------------------


def test_check_proved(write_policy):
    old = write_policy("old.json", READ_WRITE)
    new = write_policy("new.json", READ_ONLY)

    result = run("check", old, new)

    assert result.exit_code == 0
    assert result.stdout.startswith("PROVED: ")


def test_check_proved_json(write_policy):
    old = write_policy("old.json", READ_WRITE)
    new = write_policy("new.json", READ_ONLY)

    result = run("check", old, new, "--format", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "verdict": "proved",
        "reason": None,
        "counterexample": None,
        "new_statements": [],
        "old_statements": [],
        "notes": [],
        "new_access": [],
    }


def opening_line_before(path: str, marker: str) -> int:
    """1-based line of the last `{` at or before the line holding `marker`."""
    lines = Path(path).read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if marker in line)
    while "{" not in lines[index]:
        index -= 1
    return index + 1


def test_check_refuted_json_contract(write_policy):
    old = write_policy("old.json", READ_ONLY)
    new = write_policy("new.json", READ_WRITE)

    result = run("check", old, new, "--format", "json")

    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert list(payload) == ["verdict", "reason", "counterexample", "new_statements", "old_statements", "notes", "new_access"]
    assert payload["verdict"] == "refuted"
    assert payload["reason"] is None
    assert list(payload["counterexample"]) == ["principal", "action", "resource", "context"]
    [statement] = payload["new_statements"]
    assert statement["index"] == 1
    assert statement["sid"] == "Write"
    assert statement["path"] == "Statement[1]"
    assert statement["line"] == opening_line_before(new, '"Sid": "Write"')
    assert payload["old_statements"] == []
    assert payload["counterexample"]["action"].lower() == "s3:putobject"
    assert_replays(new, old, payload["counterexample"])


def test_check_refuted_text(write_policy):
    old = write_policy("old.json", READ_ONLY)
    new = write_policy("new.json", READ_WRITE)

    result = run("check", old, new)

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "REFUTED: new.json allows a request that old.json does not allow."
    line = opening_line_before(new, '"Sid": "Write"')
    assert f"  allowed in the new version by: Statement[1] (Sid 'Write') at line {line}" in lines
    assert "  the old version has no statement that allows it" in lines


def test_check_removed_deny_names_old_statement(write_policy):
    old = write_policy("old.json", {"Version": VERSION_2012, "Statement": [ALL_S3, NO_DELETE]})
    new = write_policy("new.json", {"Version": VERSION_2012, "Statement": [ALL_S3]})

    result = run("check", old, new, "--format", "json")

    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["new_statements"] == [{"index": 0, "sid": "AllS3", "path": "Statement[0]", "line": opening_line_before(new, '"Sid": "AllS3"')}]
    assert payload["old_statements"] == [{"index": 1, "sid": "NoDelete", "path": "Statement[1]", "line": opening_line_before(old, '"Sid": "NoDelete"')}]
    assert payload["counterexample"]["action"].lower() == "s3:deleteobject"
    assert_replays(new, old, payload["counterexample"])


def test_check_counterexample_context_replays(write_policy):
    old = write_policy("old.json", read_from_network("203.0.113.0/25"))
    new = write_policy("new.json", read_from_network("203.0.113.0/24"))

    result = run("check", old, new, "--format", "json")

    assert result.exit_code == 1
    counterexample = json.loads(result.stdout)["counterexample"]
    assert counterexample["context"]["aws:SourceIp"].startswith("203.0.113.")
    assert_replays(new, old, counterexample)


def test_check_multivalued_counterexample_replays(write_policy):
    old = write_policy("old.json", tagging(["team", "env"]))
    new = write_policy("new.json", tagging(["team", "env", "owner"]))

    result = run("check", old, new, "--format", "json")

    assert result.exit_code == 1
    counterexample = json.loads(result.stdout)["counterexample"]
    assert "owner" in counterexample["context"]["aws:TagKeys"]
    assert_replays(new, old, counterexample)


def test_check_unsupported_is_unknown(write_policy):
    # One key compared as a string and as a number is not encoded.
    condition = {"StringEquals": {"test:level": "high"}, "NumericLessThan": {"test:level": "3"}}
    mixed = {"Version": VERSION_2012, "Statement": [{**READ, "Condition": condition}]}
    old = write_policy("old.json", READ_ONLY)
    new = write_policy("new.json", mixed)

    result = run("check", old, new, "--format", "json")

    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["verdict"] == "unknown"
    assert "test:level" in payload["reason"]
    assert payload["counterexample"] is None


# --- compare -----------------------------------------------------------------

# (id, policy A, policy B, relation, A allows more, B allows more)
COMPARE_ROWS = [
    ("equivalent", READ_ONLY, READ_ONLY_SPLIT, "equivalent", False, False),
    ("narrower", READ_ONLY, READ_WRITE, "narrower", False, True),
    ("broader", READ_WRITE, READ_ONLY, "broader", True, False),
    ("incomparable", READ_ONLY, LOGS_READ, "incomparable", True, True),
]


@pytest.mark.parametrize(
    ("first", "second", "relation", "a_not_b", "b_not_a"),
    [row[1:] for row in COMPARE_ROWS],
    ids=[row[0] for row in COMPARE_ROWS],
)
def test_compare_relation(write_policy, first, second, relation, a_not_b, b_not_a):
    a = write_policy("a.json", first)
    b = write_policy("b.json", second)

    result = run("compare", a, b, "--format", "json")

    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert list(payload) == ["relation", "reason", "a_not_b", "b_not_a"]
    assert payload["relation"] == relation
    assert payload["reason"] is None
    assert (payload["a_not_b"] is not None) is a_not_b
    assert (payload["b_not_a"] is not None) is b_not_a
    if a_not_b:
        assert_replays(a, b, payload["a_not_b"])
    if b_not_a:
        assert_replays(b, a, payload["b_not_a"])


def test_compare_text(write_policy):
    a = write_policy("a.json", READ_ONLY)
    b = write_policy("b.json", READ_WRITE)

    result = run("compare", a, b)

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "NARROWER: a.json allows a strict subset of what b.json allows."
    assert lines[1] == "allowed by b.json but not by a.json:"


# --- evaluate ----------------------------------------------------------------


def test_evaluate_allowed_with_repeated_key(write_policy):
    policy = write_policy("policy.json", tagging(["team", "env"]))

    result = run(
        "evaluate", policy,
        "--action", "s3:PutObjectTagging",
        "--resource", "arn:aws:s3:::reports/q1.csv",
        "--context", "aws:TagKeys=team",
        "--context", "aws:TagKeys=env",
    )

    assert result.exit_code == 0
    line = opening_line_before(policy, '"Sid": "Tagging"')
    assert result.stdout == f"ALLOWED by Statement[0] (Sid 'Tagging') at line {line}\n"


def test_evaluate_denied_with_repeated_key(write_policy):
    policy = write_policy("policy.json", tagging(["team", "env"]))

    result = run(
        "evaluate", policy,
        "--action", "s3:PutObjectTagging",
        "--resource", "arn:aws:s3:::reports/q1.csv",
        "--context", "aws:TagKeys=team",
        "--context", "aws:TagKeys=owner",
    )

    assert result.exit_code == 1
    assert result.stdout == "DENIED implicitly: no statement allows the request\n"


def test_evaluate_merges_key_spellings(write_policy):
    # Key names are case-insensitive, so both options give values of one key.
    policy = write_policy("policy.json", tagging(["team", "env"]))

    result = run(
        "evaluate", policy,
        "--action", "s3:PutObjectTagging",
        "--resource", "arn:aws:s3:::reports/q1.csv",
        "--context", "aws:TagKeys=team",
        "--context", "AWS:TAGKEYS=owner",
    )

    assert result.exit_code == 1


def test_evaluate_explicit_deny_json(write_policy):
    policy = write_policy("policy.json", tagging(["team"]))

    result = run(
        "evaluate", policy,
        "--action", "s3:PutObjectTagging",
        "--resource", "arn:aws:s3:::secret/key",
        "--context", "aws:TagKeys=team",
        "--format", "json",
    )

    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "decision": "explicitly_denied",
        "allow_statements": [{"index": 0, "sid": "Tagging", "path": "Statement[0]", "line": opening_line_before(policy, '"Sid": "Tagging"')}],
        "deny_statements": [{"index": 1, "sid": "NoSecret", "path": "Statement[1]", "line": opening_line_before(policy, '"Sid": "NoSecret"')}],
    }


def test_evaluate_context_without_equals_sign(write_policy):
    policy = write_policy("policy.json", READ_ONLY)

    result = run("evaluate", policy, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::reports/a", "--context", "aws:SourceIp")

    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.stderr


def test_evaluate_rejects_unparsable_typed_value(write_policy):
    # AWS sends only IP addresses in aws:SourceIp, and the docs do not say
    # what a condition does with anything else, so the request is invalid.
    policy = write_policy("policy.json", READ_ONLY)

    result = run(
        "evaluate", policy,
        "--action", "s3:GetObject",
        "--resource", "arn:aws:s3:::reports/a",
        "--context", "aws:SourceIp=notanip",
        "--context", "aws:SecureTransport=true",
        "--context", "aws:username=alice",
        "--format", "json",
    )

    assert result.exit_code == 2
    assert "--context aws:SourceIp=notanip: invalid value: AWS documents aws:SourceIp as an IP address" in result.stderr
    assert "SecureTransport" not in result.stderr
    assert "username" not in result.stderr
    assert json.loads(result.stdout)["verdict"] == "invalid"


def test_evaluate_rejects_repeated_single_valued_key(write_policy):
    policy = write_policy("policy.json", READ_ONLY)

    result = run(
        "evaluate", policy,
        "--action", "s3:GetObject",
        "--resource", "arn:aws:s3:::reports/a",
        "--context", "aws:SourceIp=203.0.113.5",
        "--context", "aws:SourceIp=203.0.113.6",
    )

    assert result.exit_code == 2
    assert "--context aws:SourceIp: 2 values given, but AWS documents aws:SourceIp as single-valued" in result.stderr


def test_missing_argument_is_usage_error(write_policy):
    old = write_policy("old.json", READ_ONLY)

    result = run("check", old)

    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


# --- Invalid input -----------------------------------------------------------


def statement_with(**elements: Any) -> dict[str, Any]:
    return {"Version": VERSION_2012, "Statement": [{**READ, **elements}]}


# (id, file content, start of the only line printed on stderr)
INVALID_ROWS = [
    ("invalid-json", '{"Version": "2012-10-17", "Statement": [', "bad.json: invalid JSON at line 1, column "),
    ("unknown-key", statement_with(Comment="x"), "bad.json: Statement[0].Comment: unknown key `Comment`"),
    (
        "action-and-not-action",
        statement_with(NotAction="s3:PutObject"),
        "bad.json: Statement[0].NotAction: `Action` and `NotAction` cannot both appear",
    ),
    ("bad-effect", statement_with(Effect="allow"), "bad.json: Statement[0].Effect: invalid effect `allow`"),
    (
        "unknown-operator",
        statement_with(Condition={"StringEqual": {"aws:username": "alice"}}),
        "bad.json: Statement[0].Condition.StringEqual: unknown condition operator `StringEqual`",
    ),
    (
        "wildcard-in-service",
        statement_with(Action="s3*:Get"),
        "bad.json: Statement[0].Action: invalid action `s3*:Get`",
    ),
    ("empty-list", statement_with(Resource=[]), "bad.json: Statement[0].Resource: empty list"),
    (
        "number-as-resource",
        statement_with(Resource=5),
        "bad.json: Statement[0].Resource: expected a string or a list of strings, found the number `5`",
    ),
    (
        "invalid-number",
        statement_with(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "ten"}}),
        "bad.json: Statement[0].Condition.NumericLessThan.aws:MultiFactorAuthAge: invalid value `ten`",
    ),
    ("missing-statement", {"Version": VERSION_2012}, "bad.json: Statement: missing `Statement`"),
    ("empty-file", "", "bad.json: file is empty"),
]


@pytest.mark.parametrize(
    ("content", "expected_start"), [row[1:] for row in INVALID_ROWS], ids=[row[0] for row in INVALID_ROWS]
)
def test_invalid_policy(write_policy, content, expected_start):
    bad = write_policy("bad.json", content)
    good = write_policy("good.json", READ_ONLY)

    result = run("check", bad, good)

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected_start)


@pytest.mark.parametrize(
    "args",
    [
        ["check", "good.json", "bad.json"],
        ["compare", "bad.json", "good.json"],
        ["evaluate", "bad.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::reports"],
    ],
    ids=["check-new", "compare", "evaluate"],
)
def test_invalid_policy_any_command(write_policy, args):
    write_policy("bad.json", statement_with(Effect="Permit"))
    write_policy("good.json", READ_ONLY)

    result = run(*args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("bad.json: Statement[0].Effect: invalid effect `Permit`")


def test_several_errors_reported_at_once(write_policy):
    document = {
        "Version": VERSION_2012,
        "Statement": [
            {**READ, "Effect": "allow"},
            {**WRITE, "Action": "s3*:Put"},
            {**READ, "Condition": {"StringLike": []}},
            {**WRITE, "Resource": "bucket"},
        ],
    }
    bad = write_policy("bad.json", document)
    good = write_policy("good.json", READ_ONLY)

    result = run("check", good, bad)

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("bad.json: Statement[0].Effect: ")
    assert lines[1].startswith("bad.json: Statement[1].Action: ")
    assert lines[2].startswith("bad.json: Statement[2].Condition.StringLike: ")
    assert lines[3].startswith("bad.json: Statement[3].Resource: ")


def test_both_files_reported(write_policy):
    old = write_policy("old.json", statement_with(Effect="allow"))
    new = write_policy("new.json", {"Version": "2012-10-18", "Statement": [{**READ, "Resource": 7}]})

    result = run("check", old, new)

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(": ")[0] for line in lines] == ["old.json", "new.json", "new.json"]
    assert lines[0].startswith("old.json: Statement[0].Effect: ")
    assert lines[1].startswith("new.json: Version: invalid version `2012-10-18`")
    assert lines[2].startswith("new.json: Statement[0].Resource: expected a string")


def test_missing_file(write_policy):
    good = write_policy("good.json", READ_ONLY)

    result = run("check", "missing.json", good)

    assert result.exit_code == 2
    assert result.stderr == "missing.json: file not found\n"


# --- Input formats -----------------------------------------------------------

READ_ONLY_YAML = """\
Version: 2012-10-17
Statement:
  - Sid: Read
    Effect: Allow
    Action:
      - s3:GetObject
      - s3:ListBucket
    Resource:
      - arn:aws:s3:::reports
      - arn:aws:s3:::reports/*
"""


def test_yaml_policy_equals_json(write_policy):
    yaml_file = write_policy("policy.yaml", READ_ONLY_YAML)
    json_file = write_policy("policy.json", READ_ONLY)

    result = run("compare", yaml_file, json_file, "--format", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["relation"] == "equivalent"


def test_yaml_policy_evaluates(write_policy):
    policy = write_policy("policy.yaml", READ_ONLY_YAML)

    result = run("evaluate", policy, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::reports/a")

    assert result.exit_code == 0


def test_policy_version_wrapper(write_policy):
    wrapped = {
        "PolicyVersion": {
            "Document": READ_WRITE,
            "VersionId": "v2",
            "IsDefaultVersion": True,
            "CreateDate": "2024-05-01T12:00:00+00:00",
        }
    }
    old = write_policy("old.json", READ_ONLY)
    new = write_policy("new.json", wrapped)

    result = run("check", old, new, "--format", "json")

    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["new_statements"] == [{"index": 1, "sid": "Write", "path": "Statement[1]", "line": opening_line_before(new, '"Sid": "Write"')}]


def test_url_encoded_role_trust_policy(write_policy):
    encoded = urllib.parse.quote(json.dumps(TRUST), safe="")
    assert encoded.startswith("%7B%22Version")
    role = {
        "Role": {
            "RoleName": "deploy",
            "Arn": "arn:aws:iam::111122223333:role/deploy",
            "AssumeRolePolicyDocument": encoded,
        }
    }
    policy = write_policy("role.json", role)
    base = ["evaluate", policy, "--action", "sts:AssumeRole", "--resource", "arn:aws:iam::111122223333:role/deploy"]

    trusted = run(*base, "--principal", "arn:aws:iam::111122223333:root")
    other = run(*base, "--principal", "arn:aws:iam::444455556666:root")

    assert trusted.exit_code == 0
    assert other.exit_code == 1


def test_url_encoded_file(write_policy):
    policy = write_policy("policy.txt", urllib.parse.quote(json.dumps(READ_ONLY), safe=""))
    plain = write_policy("plain.json", READ_ONLY)

    result = run("compare", policy, plain, "--format", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["relation"] == "equivalent"


def test_invalid_input_with_json_format_prints_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Alow", "Action": "s3:*", "Resource": "*"}]}')
    good = tmp_path / "good.json"
    good.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')
    result = CliRunner().invoke(cli, ["check", str(bad), str(good), "--format", "json"])
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["verdict"] == "invalid"
    assert payload["errors"] == [{"file": str(bad), "path": "Statement[0].Effect", "message": "invalid effect `Alow`; expected `Allow` or `Deny`"}]


def test_timed_out_name_search_defers_to_listing(tmp_path, monkeypatch):
    import verifier.check as check_module

    old = tmp_path / "old.json"
    old.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    new = tmp_path / "new.json"
    new.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject*", "Resource": "*"}]}')
    real_check = check_module.check_no_new_access

    def check_without_names(*args, **kwargs):
        # What the check returns when its search for a defined action runs
        # out of time: a counterexample with a made-up name.
        result = real_check(*args, **kwargs)
        result.notes = [check_module.UNNAMED_ACTION_NOTE]
        return result

    monkeypatch.setattr(check_module, "check_no_new_access", check_without_names)
    result = CliRunner().invoke(cli, ["check", str(old), str(new), "--format", "json"])
    payload = json.loads(result.stdout)
    assert payload["new_access"]
    assert check_module.UNNAMED_ACTION_NOTE not in payload["notes"]
    assert "the new-access listing names the actions that AWS defines" in payload["notes"][0]


@pytest.mark.parametrize("timeout", ["nan", "inf", "1e308", "0", "-1"])
def test_invalid_timeout_rejected(write_policy, timeout):
    old = write_policy("old.json", READ_WRITE)
    new = write_policy("new.json", READ_ONLY)

    result = run("check", "--timeout", timeout, old, new)

    assert result.exit_code == 2
    assert "--timeout" in result.output
    assert "internal error" not in result.output
