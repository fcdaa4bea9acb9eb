"""The config file: validation, properties per path glob in `check --base`
and `run`, accepted changes before and after their expiry date, and the
reports of those runs."""

from __future__ import annotations

import datetime
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from verifier.check import check_no_new_access
from verifier.ci import RunOptions, check_items, collect
from verifier.cli import cli
from verifier.config import Target, compile_path_glob, compile_resource_glob, find_config, load_config
from verifier.errors import PolicyError
from verifier.evaluate import evaluate, like_matches
from verifier.findings import NO_NEW_ACCESS, Outcome
from verifier.policy.document import EMPTY_POLICY
from verifier.policy.parse import parse_policy_text
from verifier.solver import Verdict

DATA = Path(__file__).parent / "data"
VERSION_2012 = "2012-10-17"

CONFIG = """\
[zone]
accounts = ["111122223333"]

[[properties]]
path = "roles/**/trust.json"
require = ["no-external-access"]

[[properties]]
path = "policies/dev-*.json"
deny_resources = ["*prod*"]

[[accepted]]
path = "policies/app.json"
reason = "The app reads the reports bucket"
expires = 2999-01-31
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::reports/*" }] }
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": VERSION_2012, "Statement": list(statements)}, indent=2) + "\n"


def allow(action: str, resource: str, sid: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {"Sid": sid, **statement} if sid else statement


def trust(*accounts: str) -> str:
    principals = [f"arn:aws:iam::{account}:root" for account in accounts]
    return policy({"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"})


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Build a git repository with a config file and a base commit. The
    working tree adds an outside account to a trust policy, write access to
    every bucket in a dev policy, and the accepted read access to the app
    policy."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "CI")
    write(root, ".iamverify.toml", CONFIG)
    write(root, "roles/app/trust.json", trust("111122223333"))
    write(root, "policies/dev-app.json", policy(allow("s3:GetObject", "arn:aws:s3:::dev-data/*", "Read")))
    write(root, "policies/app.json", policy(allow("s3:GetObject", "arn:aws:s3:::app/*")))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")

    write(root, "roles/app/trust.json", trust("111122223333", "444455556666"))
    write(
        root,
        "policies/dev-app.json",
        policy(allow("s3:GetObject", "arn:aws:s3:::dev-data/*", "Read"), allow("s3:PutObject", "arn:aws:s3:::*", "Write")),
    )
    write(root, "policies/app.json", policy(allow("s3:GetObject", "arn:aws:s3:::app/*"), allow("s3:GetObject", "arn:aws:s3:::reports/*")))
    monkeypatch.chdir(root)
    return root


def findings_at(root: Path, today: datetime.date) -> dict[tuple[str, str], Any]:
    """Run the `check --base HEAD` pipeline with an injected date and index
    the findings by file and property."""
    options = RunOptions(base="HEAD", timeout=30.0)
    items, _ = collect(options)
    config = load_config(root / ".iamverify.toml")
    findings = check_items(items, config, root, 30.0, False, today)
    return {(f.location.file, f.check): f for f in findings}


# --- Validation -------------------------------------------------------------


def invalid_config_lines(tmp_path: Path, text: str, name: str = ".iamverify.toml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_config(path)
    return [issue.format(raised.value.source) for issue in raised.value.issues]


def test_config_errors_reported_together(tmp_path: Path):
    lines = invalid_config_lines(
        tmp_path,
        """\
colour = "blue"

[zone]
accounts = ["12345"]

[[properties]]
path = "/etc/roles/*.json"
require = ["no-external-acess"]

[[properties]]
path = "policies/*.json"

[[accepted]]
path = "policies/app.json"
expires = "2999-01-31"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Action = "s3:*", Resource = "*" }] }
""",
    )
    source = str(tmp_path / ".iamverify.toml")
    assert f"{source}: colour: unknown field: expected one of zone, properties, accepted" in lines
    assert any(line.startswith(f"{source}: zone.accounts[0]: '12345' is not valid") for line in lines)
    assert any(line.startswith(f"{source}: properties[0].path: '/etc/roles/*.json' is not valid") for line in lines)
    assert any(line.startswith(f"{source}: properties[0].require[0]: 'no-external-acess' is not a property") for line in lines)
    assert any(line.startswith(f"{source}: properties[1]: has nothing to check") for line in lines)
    assert any(line.startswith(f"{source}: accepted[0].reason: missing") for line in lines)
    assert any(line.startswith(f"{source}: accepted[0].expires: '2999-01-31' is not valid: expected a TOML date") for line in lines)
    assert any(line.startswith(f"{source}: accepted[0].policy.Statement[0].Effect: 'Deny' is not valid") for line in lines)
    assert len(lines) == 8


def test_config_policy_errors_keep_their_path(tmp_path: Path):
    lines = invalid_config_lines(
        tmp_path,
        """\
[[accepted]]
path = "a.json"
reason = "r"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3GetObject", Resource = "*" }] }

[[accepted]]
path = "b.json"
reason = "r"
policy_file = "missing.json"
""",
    )
    assert any(".iamverify.toml: accepted[0].policy.Statement[0].Action" in line and "s3GetObject" in line for line in lines)
    assert any(".iamverify.toml: accepted[1].policy_file: 'missing.json': file not found" in line for line in lines)


def test_config_zone_property_needs_zone(tmp_path: Path):
    lines = invalid_config_lines(tmp_path, '[[properties]]\npath = "*.json"\nrequire = ["no-confused-deputy"]\n')
    assert len(lines) == 1
    assert "properties[0].require[0]: 'no-confused-deputy' needs a zone of trust" in lines[0]


def test_config_invalid_zone_is_reported_once(tmp_path: Path):
    config = '[zone]\naccounts = ["12345"]\n[[properties]]\npath = "*.json"\nrequire = ["no-external-access"]\n'
    lines = invalid_config_lines(tmp_path, config)
    assert len(lines) == 1
    assert "zone.accounts[0]: '12345' is not valid" in lines[0]


def test_config_in_pyproject_uses_tool_path(tmp_path: Path):
    lines = invalid_config_lines(
        tmp_path, '[tool.iamverify]\n[[tool.iamverify.properties]]\npath = 3\nrequire = ["no-public-access"]\n', "pyproject.toml"
    )
    assert lines == [f"{tmp_path / 'pyproject.toml'}: tool.iamverify.properties[0].path: 3 is not valid: expected a relative path glob with / separators, such as roles/**/trust.json"]


def test_pyproject_entries_titled_with_tool_path(tmp_path: Path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[[tool.iamverify.properties]]\npath = "roles/*.json"\ndeny_resources = ["*prod*"]\n')

    [rule] = load_config(path).properties

    assert rule.title == f"tool.iamverify.properties[0] in {path}"


def test_config_found_in_pyproject(tmp_path: Path):
    assert find_config(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text('[tool.iamverify.zone]\naccounts = ["111122223333"]\n')
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    (tmp_path / ".iamverify.toml").write_text("")
    assert find_config(tmp_path) == tmp_path / ".iamverify.toml"


def test_invalid_config_exits_2_without_traceback(repo: Path):
    (repo / ".iamverify.toml").write_text('[[properties]]\npath = "x"\nrequire = "no-public-access"\n')
    result = run("check", "--base", "HEAD")
    assert result.exit_code == 2
    assert result.stderr == ".iamverify.toml: properties[0].require: must be a list of strings, not a string\n"
    assert "Traceback" not in result.output


def test_invalid_toml_exits_2(repo: Path):
    (repo / ".iamverify.toml").write_text("[[properties]\n")
    result = run("run")
    assert result.exit_code == 2
    assert result.stderr.startswith(".iamverify.toml: not valid TOML:")


# --- Path globs -------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("roles/**/trust.json", "roles/trust.json", True),
        ("roles/**/trust.json", "roles/app/eu/trust.json", True),
        ("roles/**/trust.json", "other/roles/app/trust.json", False),
        ("policies/dev-*.json", "policies/dev-app.json", True),
        ("policies/dev-*.json", "policies/dev-app/x.json", False),
        ("policies/**", "policies/a/b.yaml", True),
        ("policies/?.json", "policies/a.json", True),
        ("policies/?.json", "policies/ab.json", False),
    ],
)
def test_path_glob(pattern: str, path: str, expected: bool):
    assert compile_path_glob(pattern).matches(path) is expected


@pytest.mark.parametrize(
    "pattern, target, expected",
    [
        ("aws_iam_role.*.assume_role_policy", "aws_iam_role.app.assume_role_policy", True),
        ("aws_iam_role.*.assume_role_policy", 'aws_iam_role.app.inline_policy["logs"]', False),
        ("module.ci.*", 'module.ci.aws_iam_role_policy.deploy["staging"].policy', True),
        ("aws_iam_role.*", "module.ci.aws_iam_role.app.assume_role_policy", False),
        ("*.aws_iam_role.*", "module.ci.aws_iam_role.app.assume_role_policy", True),
        ("AppRole.*", "AppRole.Properties.AssumeRolePolicyDocument", True),
        ("approle.*", "AppRole.Properties.AssumeRolePolicyDocument", False),
        ("Bucket?Policy.*", "Bucket1Policy.Properties.PolicyDocument", True),
    ],
)
def test_resource_glob(pattern: str, target: str, expected: bool):
    assert compile_resource_glob(pattern).matches(target) is expected


@pytest.mark.parametrize(
    "entry, target, expected",
    [
        ('path = "plan.json"', Target("plan.json", "aws_iam_role.app.assume_role_policy"), True),
        ('resource = "aws_iam_role.*"', Target("plan.json", "aws_iam_role.app.assume_role_policy"), True),
        ('resource = "aws_iam_role.*"', Target(None, "aws_iam_role.app.assume_role_policy"), True),
        ('resource = "aws_iam_role.*"', Target("roles/app.json"), False),
        ('path = "plan.json"\nresource = "aws_iam_role.*"', Target("other.json", "aws_iam_role.app.policy"), False),
        ('path = "plan.json"\nresource = "aws_iam_role.*"', Target("plan.json", "aws_s3_bucket_policy.b.policy"), False),
        ('path = "plan.json"\nresource = "aws_iam_role.*"', Target("plan.json", "aws_iam_role.app.policy"), True),
    ],
)
def test_entry_matches_path_and_resource(tmp_path: Path, entry: str, target: Target, expected: bool):
    path = tmp_path / ".iamverify.toml"
    path.write_text(f'[[properties]]\n{entry}\ndeny_resources = ["*prod*"]\n')

    config = load_config(path)

    assert bool(config.properties_for(target)) is expected


def test_config_entry_needs_path_or_resource(tmp_path: Path):
    lines = invalid_config_lines(
        tmp_path,
        """\
[[properties]]
deny_resources = ["*prod*"]

[[accepted]]
resource = ""
reason = "r"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] }
""",
    )
    source = str(tmp_path / ".iamverify.toml")
    assert any(line.startswith(f"{source}: properties[0]: missing path or resource") for line in lines)
    assert any(line.startswith(f"{source}: accepted[0].resource: '' is not valid") for line in lines)
    assert len(lines) == 2


def test_terraform_resource_globs_select_properties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".iamverify.toml").write_text(
        """\
[[properties]]
resource = "aws_iam_policy.reports.policy"
deny_resources = ["*prod*"]

[[properties]]
resource = "aws_iam_role.*"
deny_resources = ["*prod*"]

[[accepted]]
resource = "aws_iam_policy.*"
reason = "Writing reports is new on purpose"
policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::acme-reports/*" }] }
"""
    )

    result = run("check", "--terraform-plan", str(DATA / "ci" / "plan.json"), "--format", "json")

    findings = json.loads(result.stdout)["findings"]
    checked = {(f["location"]["resource"], f["property"]): f for f in findings}
    reports = checked[("aws_iam_policy.reports", NO_NEW_ACCESS)]
    assert reports["outcome"] == "proved"
    assert [entry["resource"] for entry in reports["accepted"]] == ["aws_iam_policy.*"]
    assert checked[("aws_iam_policy.reports", "deny-resources")]["outcome"] == "refuted"
    assert ("aws_iam_role.app", "deny-resources") in checked
    assert ("aws_sns_topic_policy.alerts", "deny-resources") not in checked


# --- deny_resources as a query ----------------------------------------------


def test_deny_resources_counterexample_replays():
    document = parse_policy_text(policy(allow("s3:GetObject", "arn:aws:s3:::data-*/*")))
    result = check_no_new_access(EMPTY_POLICY, document, resource_globs=("*prod*",))
    assert result.verdict is Verdict.REFUTED
    request = result.counterexample
    assert request is not None
    assert evaluate(document, request).allowed
    assert like_matches("*prod*", request.resource)


def test_deny_resources_proved_off_pattern():
    document = parse_policy_text(policy(allow("s3:GetObject", "arn:aws:s3:::dev-data/*")))
    result = check_no_new_access(EMPTY_POLICY, document, resource_globs=("arn:aws:s3:::prod-*",))
    assert result.verdict is Verdict.PROVED


# --- Properties in runs -----------------------------------------------------


def test_base_run_adds_property_findings(repo: Path):
    findings = findings_at(repo, datetime.date(2026, 1, 1))
    assert findings[("roles/app/trust.json", NO_NEW_ACCESS)].outcome is Outcome.REFUTED
    external = findings[("roles/app/trust.json", "no-external-access")]
    assert external.outcome is Outcome.REFUTED
    assert external.origin == "properties[0] in " + str(repo / ".iamverify.toml")
    assert external.proof is not None
    assert external.proof.counterexample is not None
    assert external.proof.counterexample.principal == "arn:aws:iam::444455556666:root"
    denied = findings[("policies/dev-app.json", "deny-resources")]
    assert denied.outcome is Outcome.REFUTED
    assert denied.result is not None and denied.result.counterexample is not None
    assert like_matches("*prod*", denied.result.counterexample.resource)
    assert ("policies/app.json", "deny-resources") not in findings


def test_run_command_checks_working_tree(repo: Path):
    git(repo, "checkout", "--", "roles", "policies/dev-app.json")
    write(repo, "roles/db/trust.json", trust("444455556666"))
    result = run("run", "--format", "json")
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    verdicts = {(f["location"]["file"], f["property"]): f["outcome"] for f in payload["findings"]}
    assert verdicts == {
        ("policies/dev-app.json", "deny-resources"): "refuted",
        ("roles/app/trust.json", "no-external-access"): "proved",
        ("roles/db/trust.json", "no-external-access"): "refuted",
    }
    assert payload["summary"]["text"] == "3 property checks: 1 proved, 2 refuted, 0 unknown, 0 invalid"


def test_run_warns_about_entries_matching_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "roles/app/trust.json", trust("111122223333"))
    (tmp_path / ".iamverify.toml").write_text(
        """\
[zone]
accounts = ["111122223333"]

[[properties]]
path = "roles/**/trust.json"
require = ["no-external-access"]

[[properties]]
path = "role/**/trust.json"
require = ["no-external-access"]

[[properties]]
resource = "aws_iam_role.*.assume_role_policy"
require = ["no-external-access"]
"""
    )

    result = run("run")
    limited = run("run", "roles")

    assert result.exit_code == 0, result.output
    assert "warning: properties[0]" not in result.stderr
    assert "warning: properties[1] in .iamverify.toml matched no policy file (path = 'role/**/trust.json')" in result.stderr
    assert "warning: properties[2] in .iamverify.toml has only a resource glob" in result.stderr
    assert limited.stderr == ""


def test_run_command_restricted_to_paths(repo: Path):
    result = run("run", "roles")
    assert result.exit_code == 1
    assert "roles/app/trust.json: no-external-access" in result.stdout
    assert "dev-app.json" not in result.stdout


def test_run_property_on_identity_policy_invalid(repo: Path):
    (repo / ".iamverify.toml").write_text(CONFIG.replace('path = "roles/**/trust.json"', 'path = "policies/app.json"'))
    result = run("run", "policies/app.json")
    assert result.exit_code == 2
    assert "INVALID: the check is invalid:" in result.stdout
    assert "no-external-access does not apply" in result.stdout


def test_run_without_config_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = run("run")
    assert result.exit_code == 2
    assert "no config file" in result.stderr


# --- Accepted changes -------------------------------------------------------


def test_accepted_change_counts_before_expiry(repo: Path):
    finding = findings_at(repo, datetime.date(2999, 1, 31))[("policies/app.json", NO_NEW_ACCESS)]
    assert finding.outcome is Outcome.PROVED
    assert [entry.index for entry in finding.accepted] == [0]
    assert finding.expired == []
    assert finding.old_name is not None and "accepted[0]" in finding.old_name


def test_accepted_change_expires(repo: Path):
    finding = findings_at(repo, datetime.date(2999, 2, 1))[("policies/app.json", NO_NEW_ACCESS)]
    assert finding.outcome is Outcome.REFUTED
    assert finding.accepted == []
    assert [entry.index for entry in finding.expired] == [0]
    assert finding.result is not None and finding.result.counterexample is not None
    assert finding.result.counterexample.resource.startswith("arn:aws:s3:::reports/")


def test_accepted_change_leaves_other_access(repo: Path):
    write(
        repo,
        "policies/app.json",
        policy(allow("s3:GetObject", "arn:aws:s3:::app/*"), allow("s3:GetObject", "arn:aws:s3:::reports/*"), allow("s3:PutObject", "arn:aws:s3:::reports/*")),
    )
    finding = findings_at(repo, datetime.date(2026, 1, 1))[("policies/app.json", NO_NEW_ACCESS)]
    assert finding.outcome is Outcome.REFUTED
    assert finding.result is not None and finding.result.counterexample is not None
    assert finding.result.counterexample.action == "s3:PutObject"
    assert finding.listing is not None
    assert [entry.action for entry in finding.listing.entries] == ["s3:PutObject"]


def test_accepted_change_beats_old_deny():
    old = parse_policy_text(
        policy(allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"})
    )
    new = parse_policy_text(policy(allow("s3:*", "*")))
    accepted = parse_policy_text(policy(allow("s3:GetObject", "arn:aws:s3:::reports/*")))
    assert check_no_new_access(old, new).verdict is Verdict.REFUTED
    assert check_no_new_access(old, new, accepted=accepted).verdict is Verdict.PROVED


def test_accepted_policy_file(repo: Path):
    write(repo, "accepted/app-s3.json", policy(allow("s3:GetObject", "arn:aws:s3:::reports/*")))
    text = CONFIG.replace(
        'policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::reports/*" }] }',
        'policy_file = "accepted/app-s3.json"',
    )
    (repo / ".iamverify.toml").write_text(text)
    finding = findings_at(repo, datetime.date(2026, 1, 1))[("policies/app.json", NO_NEW_ACCESS)]
    assert finding.outcome is Outcome.PROVED
    assert finding.accepted[0].policy_file == "accepted/app-s3.json"


def test_accepted_policy_file_is_not_checked(repo: Path):
    # The file lists access granted on purpose. Checked as a new policy, it
    # would always be new access, so accepting a change would fail the run.
    write(repo, "accepted/app-s3.json", policy(allow("s3:GetObject", "arn:aws:s3:::reports/*")))
    text = CONFIG.replace(
        'policy = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::reports/*" }] }',
        'policy_file = "accepted/app-s3.json"',
    )
    (repo / ".iamverify.toml").write_text(text)

    result = run("check", "--base", "HEAD", "--format", "json")

    files = {f["location"]["file"] for f in json.loads(result.stdout)["findings"]}
    assert "policies/app.json" in files
    assert "accepted/app-s3.json" not in files


# --- Reports ----------------------------------------------------------------


@pytest.fixture
def expired_config(repo: Path) -> Path:
    """The repository with the accepted change expired long ago, so that the
    CLI run does not depend on today's date."""
    (repo / ".iamverify.toml").write_text(CONFIG.replace("expires = 2999-01-31", "expires = 2001-01-31"))
    return repo


def test_text_report_names_config_entries(repo: Path):
    result = run("check", "--base", "HEAD")
    assert result.exit_code == 1
    out = result.stdout
    assert "roles/app/trust.json: no-external-access\nREFUTED:" in out
    assert "required by properties[0] in .iamverify.toml" in out
    assert "policies/dev-app.json: deny-resources\nREFUTED: policies/dev-app.json allows a request on a resource matching `*prod*`." in out
    assert "accepted: accepted[0] in .iamverify.toml (policies/app.json): The app reads the reports bucket (expires 2999-01-31)" in out
    assert out.rstrip().endswith(
        "3 policies checked: 1 proved, 2 refuted, 0 unknown, 0 invalid; 2 property checks: 0 proved, 2 refuted, 0 unknown, 0 invalid"
    )


def test_text_report_says_expired(expired_config: Path):
    result = run("check", "--base", "HEAD")
    assert "note: accepted[0] in .iamverify.toml (policies/app.json): The app reads the reports bucket (expires 2001-01-31) has expired, so it no longer counts" in result.stdout


def test_sarif_report_locates_properties(expired_config: Path):
    result = run("check", "--base", "HEAD", "--format", "sarif")
    log = json.loads(result.stdout)
    schema = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    external = [r for r in results if r["ruleId"] == "no-external-access"]
    assert len(external) == 1
    assert external[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "roles/app/trust.json"
    assert external[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert "Required by properties[0] in .iamverify.toml." in external[0]["message"]["text"]
    denied = [r for r in results if r["ruleId"] == "deny-resources"]
    assert sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in denied) == [4, 10]
    app = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "policies/app.json"]
    assert len(app) == 1
    assert "Expired, so no longer counted: accepted[0]" in app[0]["message"]["text"]


def test_markdown_report_tables(repo: Path):
    result = run("check", "--base", "HEAD", "--format", "markdown")
    out = result.stdout
    assert "### Properties violated" in out
    assert "| `roles/app/trust.json` | `no-external-access`: account 444455556666 is not a trusted account" in out
    assert "| `policies/dev-app.json` | `deny-resources`: `*prod*` | `Statement[1]` (Sid `Write`), line 10 |  |" in out
    assert "### Accepted changes" in out
    assert "- `policies/app.json`: counted as allowed: accepted[0] in .iamverify.toml" in out


def test_junit_and_json_reports(expired_config: Path, tmp_path: Path):
    junit_path = tmp_path / "report.xml"
    result = run("check", "--base", "HEAD", "--format", "json", "--report", f"junit={junit_path}")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    app = next(f for f in payload["findings"] if f["location"]["file"] == "policies/app.json")
    assert app["property"] == "no-new-access"
    assert app["expired"][0]["entry"] == "accepted[0]"
    assert app["expired"][0]["expires"] == "2001-01-31"
    external = next(f for f in payload["findings"] if f["property"] == "no-external-access")
    assert external["proof"]["verdict"] == "refuted"
    assert external["origin"] == "properties[0] in .iamverify.toml"
    cases = {case.get("name"): case for case in ET.parse(junit_path).getroot().iter("testcase")}
    failure = cases["roles/app/trust.json: no-external-access"].find("failure")
    assert failure is not None
    assert failure.get("message") == "the policy violates no-external-access"
