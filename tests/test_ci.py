"""Multi-policy runs of `iamverify check`: a git history built in a temporary
folder, a Terraform plan and CloudFormation templates in their real formats,
and the SARIF, JUnit and Markdown reports of those runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from verifier.cli import cli
from verifier.findings import Finding, Location, Outcome, exit_code
from verifier.sources.intrinsics import REMOVED, Resolver, Unresolved
from verifier.sources.template import parse_template

DATA = Path(__file__).parent / "data"
CI_DATA = DATA / "ci"
VERSION_2012 = "2012-10-17"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def findings_by_location(result: Result) -> dict[str, dict[str, Any]]:
    payload = json.loads(result.stdout)
    return {
        (f["location"]["resource"] + "." + f["location"]["attribute"]) if f["location"]["resource"] else f["location"]["file"]: f
        for f in payload["findings"]
    }


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": VERSION_2012, "Statement": list(statements)}, indent=2) + "\n"


def allow(action: str | list[str], resource: str = "*", sid: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {"Sid": sid, **statement} if sid else statement


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def policy_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with a base commit of policies and a working tree
    that edits, renames, adds, deletes and breaks some of them."""
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "CI")
    (repo / "policies" / "reports.json").write_text(policy(allow("s3:GetObject", "arn:aws:s3:::reports/*", "Read")))
    (repo / "policies" / "queue.json").write_text(policy(allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:jobs")))
    (repo / "policies" / "topic.yaml").write_text(
        "Version: '2012-10-17'\nStatement:\n  - Effect: Allow\n    Action: sns:Publish\n    Resource: '*'\n"
    )
    (repo / "package.json").write_text('{"name": "app"}\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")

    (repo / "policies" / "reports.json").write_text(
        policy(allow("s3:GetObject", "arn:aws:s3:::reports/*", "Read"), allow("s3:PutObject", "arn:aws:s3:::reports/*", "Write"))
    )
    git(repo, "mv", "policies/queue.json", "policies/jobs-queue.json")
    git(repo, "rm", "-q", "policies/topic.yaml")
    (repo / "policies" / "logs.json").write_text(policy(allow("logs:PutLogEvents", sid="Logs")))
    (repo / "package.json").write_text('{"name": "app", "version": "2"}\n')
    monkeypatch.chdir(repo)
    return repo


# --- Run model -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], 0),
        ([Outcome.PROVED, Outcome.REMOVED], 0),
        ([Outcome.PROVED, Outcome.REFUTED], 1),
        ([Outcome.REFUTED, Outcome.UNKNOWN], 3),
        ([Outcome.UNKNOWN, Outcome.INVALID, Outcome.REFUTED], 2),
    ],
)
def test_exit_code_is_worst_outcome(outcomes: list[Outcome], expected: int):
    findings = [Finding(Location(f"p{i}.json"), outcome) for i, outcome in enumerate(outcomes)]

    assert exit_code(findings) == expected


# --- Git -----------------------------------------------------------------------


def test_git_base_reports_every_change(policy_repo: Path):
    result = run("check", "--base", "main", "--format", "json")

    assert result.exit_code == 1, result.output
    findings = findings_by_location(result)
    assert set(findings) == {
        "policies/reports.json",
        "policies/jobs-queue.json",
        "policies/logs.json",
        "policies/topic.yaml",
    }
    assert findings["policies/reports.json"]["outcome"] == "refuted"
    assert findings["policies/reports.json"]["old"] == "main:policies/reports.json"
    assert findings["policies/reports.json"]["check"]["counterexample"]["action"] == "s3:PutObject"
    assert findings["policies/reports.json"]["check"]["new_statements"][0]["line"] == 10
    assert findings["policies/jobs-queue.json"]["outcome"] == "proved"
    assert findings["policies/jobs-queue.json"]["renamed_from"] == "policies/queue.json"
    assert findings["policies/logs.json"]["outcome"] == "refuted"
    assert findings["policies/logs.json"]["old"] == "the empty policy"
    assert findings["policies/topic.yaml"]["outcome"] == "removed"
    assert json.loads(result.stdout)["skipped"] == ["package.json"]


def test_git_base_text_ends_with_summary(policy_repo: Path):
    result = run("check", "--base", "main", "policies")

    assert result.exit_code == 1
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line == "3 policies checked: 1 proved, 2 refuted, 0 unknown, 0 invalid; 1 removed"
    assert "policies/jobs-queue.json (renamed from policies/queue.json)" in result.stdout
    assert "\x1b[" not in result.stdout


def test_git_base_broken_policy_is_invalid(policy_repo: Path):
    (policy_repo / "policies" / "jobs-queue.json").write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}')

    result = run("check", "--base", "main", "policies")

    assert result.exit_code == 2
    assert "policies/jobs-queue.json: Statement[0]: missing `Action` or `NotAction`" in result.stdout
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dev-new.json", '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::x/*"'),
        ("dev-new.yaml", "Version: '2012-10-17'\nStatement:\n  - Effect: Allow\n    Principal: {AWS: [a, b}\n"),
    ],
    ids=["truncated JSON", "broken YAML"],
)
def test_git_base_unparsable_policy_is_invalid(policy_repo: Path, name: str, text: str):
    # A file that does not parse at all is still a policy when its text
    # names a Statement and an Effect. Skipping it would let the run pass.
    (policy_repo / "policies" / name).write_text(text)

    result = run("check", "--base", "main", "policies")

    assert result.exit_code == 2, result.output
    assert f"policies/{name}" in result.stdout
    assert f"skipped (no policy document): policies/{name}" not in result.stdout


def test_git_base_paths_limit_the_check(policy_repo: Path):
    result = run("check", "--base", "main", "--format", "json", "policies/jobs-queue.json")

    assert result.exit_code == 0
    assert list(findings_by_location(result)) == ["policies/jobs-queue.json"]


def test_git_base_mistyped_path(policy_repo: Path):
    result = run("check", "--base", "main", "policies/jobs-queu.json", "polices")

    assert result.exit_code == 2
    assert "`policies/jobs-queu.json` exists neither in the working tree nor at main" in result.stderr
    assert "`polices` exists neither" in result.stderr


def test_git_base_unknown_revision(policy_repo: Path):
    result = run("check", "--base", "no-such-branch")

    assert result.exit_code == 2
    assert "`no-such-branch` is not a commit" in result.stderr
    assert "Traceback" not in result.output


# --- Terraform -------------------------------------------------------------------


def test_terraform_plan_findings():
    result = run("check", "--terraform-plan", str(CI_DATA / "plan.json"), "--format", "json")

    assert result.exit_code == 3, result.output
    findings = findings_by_location(result)
    assert findings["aws_iam_policy.reports.policy"]["outcome"] == "refuted"
    assert findings['aws_iam_role.app.inline_policy["logs"]']["outcome"] == "proved"
    assert findings["aws_sns_topic_policy.alerts.policy"]["outcome"] == "refuted"
    assert findings["aws_sns_topic_policy.alerts.policy"]["old"] == "the empty policy"
    assert findings["aws_sqs_queue_policy.jobs.policy"]["outcome"] == "removed"
    assert findings['module.ci.aws_iam_role_policy.deploy["staging"].policy']["outcome"] == "proved"
    assert "aws_kms_key.main.policy" not in findings


def test_terraform_unknown_names_address():
    result = run("check", "--terraform-plan", str(CI_DATA / "plan.json"), "--format", "json")

    unknown = findings_by_location(result)["aws_s3_bucket_policy.reports.policy"]
    assert unknown["outcome"] == "unknown"
    assert "`aws_s3_bucket_policy.reports.policy` is known only after apply" in unknown["reason"]
    assert "data.aws_iam_policy_document.reports (read during apply)" in unknown["reason"]


def test_terraform_invalid_policy_string(tmp_path: Path):
    plan = json.loads((CI_DATA / "plan.json").read_text())
    plan["resource_changes"] = plan["resource_changes"][:1]
    plan["resource_changes"][0]["change"]["after"]["policy"] = '{"Version": "2012-10-17", "Statement": []}'
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))

    result = run("check", "--terraform-plan", str(path))

    assert result.exit_code == 2
    assert "aws_iam_policy.reports.policy (after): Statement: empty list" in result.stdout


def test_terraform_rejects_non_plan(tmp_path: Path):
    path = tmp_path / "plan.json"
    path.write_text('{"resources": []}')

    result = run("check", "--terraform-plan", str(path))

    assert result.exit_code == 2
    assert "not a Terraform plan" in result.stderr
    assert "Traceback" not in result.output


# --- CloudFormation ----------------------------------------------------------------


def test_cloudformation_templates_with_tags():
    old, new = str(CI_DATA / "template-old.yaml"), str(CI_DATA / "template-new.yaml")

    result = run("check", "--cloudformation", old, new, "--parameter", "Env=dev", "--parameter", "AWS::Partition=aws", "--format", "json")

    assert result.exit_code == 3, result.output
    findings = findings_by_location(result)
    assert set(findings) == {'AppRole.Properties.Policies["read-reports"].PolicyDocument', "BucketPolicy.Properties.PolicyDocument"}
    role = findings['AppRole.Properties.Policies["read-reports"].PolicyDocument']
    assert role["outcome"] == "refuted"
    assert role["check"]["counterexample"]["action"] == "s3:PutObject"
    assert role["check"]["counterexample"]["resource"].startswith("arn:aws:s3:::acme-dev-reports/")
    assert role["check"]["new_statements"][0]["line"] == 28
    bucket = findings["BucketPolicy.Properties.PolicyDocument"]
    assert bucket["outcome"] == "unknown"
    assert "`Ref AWS::AccountId`" in bucket["reason"]
    assert "`Fn::GetAtt ReportsBucket.Arn`" in bucket["reason"]


def test_cloudformation_template_error_is_invalid(tmp_path: Path):
    # CloudFormation rejects a template whose Fn::FindInMap names a missing
    # entry, so no deployed policy can result from it.
    def template(env_key: str) -> str:
        return f"""\
Parameters:
  Env:
    Type: String
Mappings:
  Buckets:
    {env_key}:
      Name: acme-reports
Resources:
  Reader:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: !Sub
              - arn:aws:s3:::${{Bucket}}/*
              - Bucket: !FindInMap [Buckets, !Ref Env, Name]
"""

    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(template("staging"))
    new.write_text(template("stagin"))

    result = run("check", "--cloudformation", str(old), str(new), "--parameter", "Env=staging", "--format", "json")
    unknown = run("check", "--cloudformation", str(old), str(new), "--format", "json")

    assert result.exit_code == 2, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["outcome"] == "invalid"
    assert "no such entry in `Mappings`" in finding["issues"][0]
    # Without a value for Env the entry is not known to be missing.
    assert unknown.exit_code == 3, unknown.output


@pytest.mark.parametrize(
    "change",
    [
        ("Name: acme-reports", 'Name: "*"'),
        ("BucketName: acme-reports", "BucketName: acme-other"),
    ],
    ids=["mapping entry", "referenced resource"],
)
def test_cloudformation_unresolved_policy_with_changed_inputs(tmp_path: Path, change: tuple[str, str]):
    # The policy text is the same in both versions and depends on a
    # parameter without a value, but what it reads changed, so the policy
    # may have changed: it must not count as unchanged.
    template = """\
Parameters:
  Env:
    Type: String
Mappings:
  Buckets:
    staging:
      Name: acme-reports
Resources:
  Reports:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: acme-reports
  Reader:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource:
              - !Sub 'arn:aws:s3:::${Reports}/*'
              - !FindInMap [Buckets, !Ref Env, Name]
"""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(template)
    new.write_text(template.replace(*change, 1))

    changed = run("check", "--cloudformation", str(old), str(new))
    unchanged = run("check", "--cloudformation", str(old), str(old))

    assert changed.exit_code == 3, changed.output
    assert "1 unknown" in changed.stdout
    assert unchanged.exit_code == 0, unchanged.output
    assert unchanged.stdout.startswith("0 policies checked")


CFN_CHANGES = CI_DATA / "cfn-changes"


@pytest.mark.parametrize(
    ("old", "new", "parameters", "expected"),
    [
        # An `!If` entry of a role's inline Policies list adds `*`.
        ("ip-a.yaml", "ip-e.yaml", [], {"Policies[\"admin\"]": "refuted"}),
        # `Policies: !If [...]` widens the inline policy.
        ("ip-a.yaml", "pd-b.yaml", [], {"Policies[\"read\"]": "refuted"}),
        # Dropping a resource's `Condition: IsProd` creates its policy in dev.
        ("c1.yaml", "c2.yaml", ["Env=dev"], {"PolicyDocument": "refuted"}),
        ("c1.yaml", "c2.yaml", [], {"PolicyDocument": "unknown"}),
        # A resource whose condition is false in dev creates nothing there.
        ("c2.yaml", "c1.yaml", ["Env=dev"], {"PolicyDocument": "removed"}),
        # The role that the policy names changed through another resource.
        ("tr-a.yaml", "tr-b.yaml", [], {"PolicyDocument": "unknown"}),
        ("tr-a.yaml", "tr-a.yaml", [], {}),
        ("c1.yaml", "c1.yaml", [], {}),
    ],
)
def test_cloudformation_policy_changes(old: str, new: str, parameters: list[str], expected: dict[str, str]):
    options = [item for value in parameters for item in ("--parameter", value)]

    result = run("check", "--cloudformation", str(CFN_CHANGES / old), str(CFN_CHANGES / new), *options, "--format", "json")

    findings = json.loads(result.stdout)["findings"]
    outcomes = {next(part for part in expected if part in f["location"]["attribute"]): f["outcome"] for f in findings}
    assert outcomes == expected, result.stdout


def test_cloudformation_unknown_parameter_name_is_usage_error():
    old, new = str(CI_DATA / "template-old.yaml"), str(CI_DATA / "template-new.yaml")

    result = run("check", "--cloudformation", old, new, "--parameter", "Evn=dev", "--parameter", "AWS::AccountId=1234")

    assert result.exit_code == 2
    assert "--parameter Evn: not a parameter, pseudo parameter or resource of" in result.stderr
    assert "--parameter AWS::AccountId=1234: invalid value: expected a 12-digit account ID" in result.stderr


def test_cloudformation_known_values_resolve():
    old, new = str(CI_DATA / "template-old.yaml"), str(CI_DATA / "template-new.yaml")
    values = ["--parameter", "Env=prod", "--parameter", "AWS::Partition=aws", "--parameter", "AWS::AccountId=111122223333"]

    result = run("check", "--cloudformation", old, new, *values, "--parameter", "ReportsBucket.Arn=arn:aws:s3:::acme-prod-reports", "--format", "json")

    findings = findings_by_location(result)
    # With Env=prod the `!If` picks s3:GetObject, so the role gains nothing.
    assert findings['AppRole.Properties.Policies["read-reports"].PolicyDocument']["outcome"] == "proved"
    assert findings["BucketPolicy.Properties.PolicyDocument"]["outcome"] in ("proved", "refuted")
    assert result.exit_code in (0, 1)


def test_cloudformation_base_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    repo = tmp_path / "stack"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "CI")
    template = {
        "Resources": {
            "Deployer": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": json.loads(policy(allow("ecs:UpdateService", "arn:aws:ecs:*:*:service/app/*")))},
            },
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": json.loads(policy(allow("kms:Decrypt")))}},
        }
    }
    (repo / "stack.json").write_text(json.dumps(template, indent=2))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    template["Resources"]["Deployer"]["Properties"]["PolicyDocument"]["Statement"][0]["Action"] = "ecs:*"
    del template["Resources"]["Key"]
    (repo / "stack.json").write_text(json.dumps(template, indent=2))
    monkeypatch.chdir(repo)

    result = run("check", "--cloudformation", "--base", "main", "stack.json", "--format", "json")

    assert result.exit_code == 1, result.output
    findings = findings_by_location(result)
    assert findings["Deployer.Properties.PolicyDocument"]["outcome"] == "refuted"
    assert findings["Deployer.Properties.PolicyDocument"]["old"] == "main:stack.json: Resources.Deployer.Properties.PolicyDocument"
    assert findings["Key.Properties.KeyPolicy"]["outcome"] == "removed"


def test_template_short_tags_become_long_forms():
    text = "Resources:\n  R:\n    Type: T\n    Properties:\n      A: !GetAtt B.Arn\n      C: !Sub 'x-${D}'\n      E: !Ref F\n"

    template = parse_template(text, "t.yaml")

    properties = template["Resources"]["R"]["Properties"]
    assert properties["A"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert properties["C"] == {"Fn::Sub": "x-${D}"}
    assert properties["E"] == {"Ref": "F"}
    assert template["Resources"]["R"].line == 3


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::${Name}/${!Literal}"}, "arn:aws:s3:::logs/${Literal}"),
        ({"Fn::Sub": ["${Prefix}-${Name}", {"Prefix": {"Ref": "Env"}}]}, "dev-logs"),
        ({"Fn::Join": ["/", ["a", {"Ref": "Name"}]]}, "a/logs"),
        ({"Fn::Select": ["1", {"Fn::Split": [",", "x,y,z"]}]}, "y"),
        ({"Fn::FindInMap": ["Accounts", {"Ref": "Env"}, "Id"]}, "111122223333"),
        ({"Fn::If": ["IsDev", "yes", "no"]}, "yes"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "arn:aws:s3:::logs"),
        ({"Ref": "AWS::NoValue"}, REMOVED),
    ],
)
def test_intrinsics_resolve_known_values(expression: dict[str, Any], expected: Any):
    template = {
        "Parameters": {"Env": {"Type": "String"}, "Name": {"Type": "String"}},
        "Mappings": {"Accounts": {"dev": {"Id": "111122223333"}}},
        "Conditions": {"IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}},
        "Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}},
    }
    values = {"Env": "dev", "Name": "logs", "AWS::Partition": "aws", "Bucket.Arn": "arn:aws:s3:::logs"}

    assert Resolver(template, values).resolve(expression) == expected


def test_intrinsics_unknown_value_is_marked():
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}

    value = Resolver(template, {}).resolve({"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]})

    assert isinstance(value, Unresolved)
    assert value.expression == "Fn::GetAtt Bucket.Arn"


# --- Reports -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.Draft4Validator(schema)


def test_sarif_of_git_run_is_valid(policy_repo: Path, sarif_validator: jsonschema.Draft4Validator):
    result = run("check", "--base", "main", "--format", "sarif")

    log = json.loads(result.stdout)
    errors = [error.message for error in sarif_validator.iter_errors(log)]
    assert errors == []
    results = log["runs"][0]["results"]
    locations = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results}
    assert ("policies/reports.json", 10) in locations
    assert ("policies/logs.json", 4) in locations
    assert all(r["ruleId"] == "new-access" for r in results)


def test_sarif_of_terraform_run_is_valid(sarif_validator: jsonschema.Draft4Validator):
    result = run("check", "--terraform-plan", str(CI_DATA / "plan.json"), "--format", "sarif")

    log = json.loads(result.stdout)
    errors = [error.message for error in sarif_validator.iter_errors(log)]
    assert errors == []
    names = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r["ruleId"] for r in log["runs"][0]["results"]}
    assert names["aws_s3_bucket_policy.reports.policy"] == "unknown-verdict"
    assert names["aws_iam_policy.reports.policy"] == "new-access"


def test_sarif_of_invalid_policy_is_valid(policy_repo: Path, sarif_validator: jsonschema.Draft4Validator):
    (policy_repo / "policies" / "logs.json").write_text('{"Statement": "nope"}')

    result = run("check", "--base", "main", "--format", "sarif")

    assert result.exit_code == 2
    log = json.loads(result.stdout)
    assert [error.message for error in sarif_validator.iter_errors(log)] == []
    assert "invalid-policy" in {r["ruleId"] for r in log["runs"][0]["results"]}


def test_usage_error_still_writes_reports(
    policy_repo: Path, tmp_path: Path, sarif_validator: jsonschema.Draft4Validator
):
    paths = {name: tmp_path / f"report.{name}" for name in ("sarif", "junit", "markdown", "json")}
    options = [item for name, path in paths.items() for item in ("--report", f"{name}={path}")]

    result = run("check", "--base", "no-such-branch", "--format", "sarif", *options)

    assert result.exit_code == 2
    assert "`no-such-branch` is not a commit" in result.stderr
    log = json.loads(paths["sarif"].read_text())
    assert [error.message for error in sarif_validator.iter_errors(log)] == []
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "`no-such-branch` is not a commit" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert json.loads(result.stdout) == log
    suite = ET.fromstring(paths["junit"].read_text()).find("testsuite")
    assert suite is not None
    assert suite.get("errors") == "1"
    assert "no policy was checked" in paths["markdown"].read_text()
    payload = json.loads(paths["json"].read_text())
    assert payload["summary"]["exit_code"] == 2
    assert "`no-such-branch` is not a commit" in payload["error"]


def test_usage_error_in_text_prints_once(policy_repo: Path, tmp_path: Path):
    report = tmp_path / "report.md"

    result = run("check", "--base", "main", "--parameter", "novalue", "--report", f"markdown={report}")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--parameter: expected NAME=VALUE" in result.stderr
    assert "--parameter: expected NAME=VALUE" in report.read_text()


def test_run_without_config_writes_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)

    result = run("run", "--report", "junit=out.xml")

    assert result.exit_code == 2
    assert "no config file" in (tmp_path / "out.xml").read_text()


def test_report_into_missing_folder_is_usage_error(tmp_path: Path):
    missing = tmp_path / "missing" / "out.sarif"

    result = run("check", "--terraform-plan", str(CI_DATA / "plan.json"), "--report", f"sarif={missing}")

    assert result.exit_code == 2
    assert f"--report: cannot write `{missing}`: the folder `{missing.parent}` does not exist" in result.stderr
    assert "internal error" not in result.output
    assert result.stdout == ""


def test_other_reports_written_beside_unwritable_one(tmp_path: Path):
    missing = tmp_path / "missing" / "out.sarif"
    markdown = tmp_path / "out.md"

    result = run("check", "--terraform-plan", str(CI_DATA / "plan.json"), "--report", f"sarif={missing}", "--report", f"markdown={markdown}")

    assert result.exit_code == 2
    assert "cannot write" in markdown.read_text()


def test_failed_report_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from verifier import ci
    from verifier.errors import UsageError

    def full_disk(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ci.os, "replace", full_disk)
    with pytest.raises(UsageError, match="No space left on device"):
        ci.write_report_file(str(tmp_path / "out.sarif"), "{}")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def dropped_deny_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose bucket policy drops its Deny on insecure transport
    and limits its Allow instead, which proves but denies less."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "CI")
    read = {
        "Sid": "Read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
    }
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    deny = {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*", "Condition": insecure}
    (repo / "bucket.json").write_text(policy(read, deny))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "bucket.json").write_text(policy({**read, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))
    monkeypatch.chdir(repo)
    return repo


def test_dropped_deny_note_in_every_report(dropped_deny_repo: Path, sarif_validator: jsonschema.Draft4Validator):
    reports = {name: run("check", "--base", "main", "--format", name) for name in ("markdown", "sarif", "junit", "json")}

    assert {name: result.exit_code for name, result in reports.items()} == {"markdown": 0, "sarif": 0, "junit": 0, "json": 0}
    markdown = reports["markdown"].stdout
    assert "### Notes" in markdown
    assert "the new version denies less: Statement[1] (Sid 'DenyInsecure')" in markdown
    assert "with aws:SecureTransport = false" in markdown
    log = json.loads(reports["sarif"].stdout)
    assert [error.message for error in sarif_validator.iter_errors(log)] == []
    [note] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "check-note"]
    assert note["level"] == "warning"
    assert "denies less" in note["message"]["text"]
    output = ET.fromstring(reports["junit"].stdout).find("testsuite/testcase/system-out")
    assert output is not None
    assert "denies less" in (output.text or "")
    [finding] = json.loads(reports["json"].stdout)["findings"]
    assert any("denies less" in note for note in finding["check"]["notes"])


def test_junit_counts_outcomes():
    result = run("check", "--terraform-plan", str(CI_DATA / "plan.json"), "--format", "junit")

    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "6"
    assert suite.get("failures") == "2"
    assert suite.get("errors") == "1"
    assert suite.get("skipped") == "1"
    names = [case.get("name") for case in suite.iter("testcase")]
    assert f"aws_iam_policy.reports.policy in {CI_DATA / 'plan.json'}" in names


def test_markdown_matches_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # The report names the templates as given, so run beside copies of them.
    for name in ("template-old.yaml", "template-new.yaml"):
        shutil.copy(CI_DATA / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    values = ["--parameter", "Env=dev", "--parameter", "AWS::Partition=aws"]

    result = run("check", "--cloudformation", "template-old.yaml", "template-new.yaml", *values, "--format", "markdown")

    assert result.stdout == (CI_DATA / "golden-report.md").read_text()


def test_report_option_writes_files(tmp_path: Path):
    sarif_path, markdown_path = tmp_path / "out.sarif", tmp_path / "out.md"

    result = run(
        "check", "--terraform-plan", str(CI_DATA / "plan.json"),
        "--report", f"sarif={sarif_path}", "--report", f"markdown={markdown_path}",
    )

    assert result.exit_code == 3
    assert json.loads(sarif_path.read_text())["version"] == "2.1.0"
    assert markdown_path.read_text().startswith("## iamverify")
    assert result.stdout.strip().splitlines()[-1].startswith("5 policies checked")


def test_text_is_colored_only_on_request():
    plan = str(CI_DATA / "plan.json")

    plain = CliRunner().invoke(cli, ["check", "--terraform-plan", plan])
    colored = CliRunner().invoke(cli, ["check", "--terraform-plan", plan], color=True)

    assert "\x1b[" not in plain.stdout
    assert "\x1b[31m" in colored.stdout


def test_no_color_turns_colors_off(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(cli, ["check", "--terraform-plan", str(CI_DATA / "plan.json")], color=True)

    assert "\x1b[" not in result.stdout


def test_single_pair_as_sarif(tmp_path: Path, sarif_validator: jsonschema.Draft4Validator):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(policy(allow("s3:GetObject")))
    new.write_text(policy(allow("s3:Get*")))

    result = run("check", str(old), str(new), "--format", "sarif")

    assert result.exit_code == 1
    assert [error.message for error in sarif_validator.iter_errors(json.loads(result.stdout))] == []
