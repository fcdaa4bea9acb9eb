"""The shell step of the GitHub Action in `action.yml`, run with bash in a
temporary repository, with the environment that GitHub Actions would set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
WIDER = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}

pytestmark = pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("iamverify") is None, reason="needs bash and the installed iamverify command"
)


def check_step_script() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    [step] = [step for step in action["runs"]["steps"] if step.get("id") == "check"]
    return step["run"]


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return completed.stdout.strip()


@pytest.fixture
def pushed_repo(tmp_path: Path) -> tuple[Path, str]:
    """A repository with two commits, the second widening a policy; returns
    it and the first commit's hash."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "CI")
    (repo / "policy.json").write_text(json.dumps(POLICY))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first")
    before = git(repo, "rev-parse", "HEAD")
    (repo / "policy.json").write_text(json.dumps(WIDER))
    git(repo, "commit", "-q", "-am", "widen")
    return repo, before


def run_step(repo: Path, **variables: str) -> tuple[int, dict[str, str]]:
    """Run the step script; return its exit status and its outputs."""
    output_file = repo.parent / "github_output"
    summary_file = repo.parent / "github_summary"
    environment = {
        **os.environ,
        "BASE": "",
        "BEFORE": "",
        "GITHUB_BASE_REF": "",
        "PATHS": ".",
        "TERRAFORM_PLAN": "",
        "TEMPLATES": "",
        "PARAMETERS": "",
        "TIMEOUT": "30",
        "SARIF_FILE": "iamverify.sarif",
        "MARKDOWN_FILE": "iamverify.md",
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        **variables,
    }
    completed = subprocess.run(["bash", "-e", "-c", check_step_script()], cwd=repo, env=environment, capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines()) if output_file.exists() else {}
    return completed.returncode, outputs


def test_push_compares_with_commit_before(pushed_repo: tuple[Path, str]):
    repo, before = pushed_repo

    status, outputs = run_step(repo, BEFORE=before)

    assert status == 1
    assert outputs == {"exit-code": "1"}
    assert "s3:Get" in (repo / "iamverify.md").read_text()


def test_missing_base_still_writes_reports(pushed_repo: tuple[Path, str]):
    repo, _ = pushed_repo

    status, outputs = run_step(repo, BEFORE="0" * 40)

    assert status == 2
    assert outputs == {"exit-code": "2"}
    log = json.loads((repo / "iamverify.sarif").read_text())
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "the revision is empty" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert "the revision is empty" in (repo.parent / "github_summary").read_text()
