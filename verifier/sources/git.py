"""Policy files changed since a git revision, as changes to check.

`git diff --name-status -M REF -- PATHS` lists the files that differ between
REF and the working tree, with renames detected; files that git does not
track yet count as added. Every `.json`, `.yaml` or `.yml` file among them
that contains a policy document becomes a `PolicyChange` from its REF version
(read with `git show REF:PATH`) to the working-tree version. An added file is
checked against the empty policy, so all of its access is new. A deleted
policy is reported as removed. Files that hold no policy are skipped.

Paths in the findings are relative to the repository root, as SARIF viewers
expect.
"""

from __future__ import annotations

import json
import re
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from verifier.errors import PolicyError, UsageError
from verifier.findings import Finding, Location, Outcome, PolicyChange, invalid_finding
from verifier.policy.document import EMPTY_POLICY, VERSION_2008, VERSION_2012, PolicyDocument
from verifier.policy.parse import parse_policy_bytes

logger = logging.getLogger(__name__)

POLICY_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class FileChange:
    """One line of `git diff --name-status`: a status letter and the paths
    before and after (the same path unless the file was renamed)."""

    status: str
    old_path: str | None
    new_path: str | None


@dataclass
class _Version:
    """One version of a file: its parsed policy, or why it has none."""

    document: PolicyDocument | None = None
    error: PolicyError | None = None
    # True when the text has the shape of a policy (a top-level `Statement`
    # or policy `Version`), even if it is invalid.
    policy_shaped: bool = False


def git_changes(base: str, paths: tuple[str, ...], cwd: str | Path = ".") -> tuple[list[PolicyChange | Finding], list[str]]:
    """Return the changes of the policy files under `paths` since `base`,
    and the changed files skipped because they contain no policy."""
    root = Path(run_git(["rev-parse", "--show-toplevel"], cwd).decode().strip())
    check_revision(base, cwd)
    check_paths(base, paths, cwd)
    items: list[PolicyChange | Finding] = []
    skipped: list[str] = []
    for change in changed_files(base, paths, cwd):
        item = _policy_change(base, root, change)
        if item is None:
            skipped.append(change.new_path or change.old_path or "")
        else:
            items.append(item)
    return items, skipped


def changed_files(base: str, paths: tuple[str, ...], cwd: str | Path = ".") -> list[FileChange]:
    """List the files under `paths` that differ between `base` and the
    working tree, renames followed, plus untracked files as added."""
    pathspec = ["--", *paths] if paths else []
    # Rename detection needs both paths in the diff, so the whole tree is
    # diffed and then narrowed to the files that the paths select.
    selected = set(_names(run_git(["diff", "--name-only", "--no-renames", "-z", base, *pathspec], cwd)))
    untracked = _names(run_git(["ls-files", "--others", "--exclude-standard", "-z", "--full-name", *pathspec], cwd))
    selected.update(untracked)
    fields = _names(run_git(["diff", "--name-status", "-M", "-z", base], cwd), keep_empty=True)
    changes: list[FileChange] = []
    position = 0
    while position < len(fields) and fields[position]:
        kind = fields[position][0]
        if kind in "RC":
            old_path, new_path = fields[position + 1], fields[position + 2]
            position += 3
        else:
            old_path = new_path = fields[position + 1]
            position += 2
        if kind == "D":
            new_path = None
        elif kind == "A":
            old_path = None
        if new_path in selected or old_path in selected:
            changes.append(FileChange(kind, old_path, new_path))
    changes += [FileChange("A", None, path) for path in untracked]
    changes.sort(key=lambda c: c.new_path or c.old_path or "")
    return [c for c in changes if _has_policy_suffix(c.new_path) or _has_policy_suffix(c.old_path)]


def _names(output: bytes, keep_empty: bool = False) -> list[str]:
    names = output.decode("utf-8", "surrogateescape").split("\0")
    return names if keep_empty else [name for name in names if name]


def _policy_change(base: str, root: Path, change: FileChange) -> PolicyChange | Finding | None:
    """Turn a changed file into a change to check or a decided finding, or
    return None for a file that contains no policy."""
    old_name = f"{base}:{change.old_path}" if change.old_path else None
    old = _read_version(_git_show(base, change.old_path, root), old_name) if change.old_path else _Version()

    if change.new_path is None:
        if old.document is None and not old.policy_shaped:
            return None
        return Finding(Location(change.old_path or ""), Outcome.REMOVED, old_name=old_name)

    location = Location(change.new_path)
    new = _read_version(_read_working_tree(root / change.new_path), change.new_path)
    renamed_from = change.old_path if change.status == "R" else None
    if new.document is None:
        # A policy-shaped file is an invalid policy, and so is a file that
        # was a policy at the base and no longer parses. Other files are skipped.
        if new.error is not None and (new.policy_shaped or old.document is not None or old.policy_shaped):
            return invalid_finding(location, new.error)
        return None

    if old.document is None:
        old_document = EMPTY_POLICY
        if old_name is None:
            old_name = "the empty policy"
        else:
            old_name = f"the empty policy (no valid policy at {old_name})"
    else:
        old_document = old.document
    return PolicyChange(location, old_document, new.document, old_name, change.new_path, renamed_from)


def _read_version(data: bytes | None, source: str | None) -> _Version:
    if data is None or source is None:
        return _Version()
    try:
        return _Version(document=parse_policy_bytes(data, source), policy_shaped=True)
    except PolicyError as error:
        return _Version(error=error, policy_shaped=looks_like_policy(data))


def looks_like_policy(data: bytes) -> bool:
    """Tell whether a file that failed validation was meant as a policy: it
    decodes to a mapping with a `Statement` key or a policy `Version`, or,
    when it does not parse at all, its text names both a `Statement` and an
    `Effect`, as a policy cut short or mistyped does."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    value: Any = None
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            return _POLICY_WORDS.search(text) is not None
    if not isinstance(value, dict):
        return False
    return "Statement" in value or value.get("Version") in (VERSION_2012, VERSION_2008)


# `Statement` followed somewhere by `Effect`, each as a key in JSON or YAML.
_POLICY_WORDS = re.compile(r"""["']?Statement["']?\s*:.*?["']?Effect["']?\s*:""", re.DOTALL)


def _has_policy_suffix(path: str | None) -> bool:
    return path is not None and path.lower().endswith(POLICY_SUFFIXES)


def _read_working_tree(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as error:
        logger.debug("cannot read %s: %s", path, error)
        return None


def _git_show(base: str, path: str | None, root: Path) -> bytes | None:
    if path is None:
        return None
    try:
        return run_git(["show", f"{base}:{path}"], root)
    except UsageError:
        return None


def check_revision(base: str, cwd: str | Path) -> None:
    if not base.strip():
        raise UsageError("--base: the revision is empty; give a branch, tag or commit such as origin/main")
    try:
        run_git(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], cwd)
    except UsageError:
        try:
            run_git(["rev-parse", "--verify", "--quiet", "HEAD"], cwd)
        except UsageError:
            raise UsageError(
                f"--base: `{base}` is not a commit: this repository has no commits yet, so there is no version to "
                "compare with; make the first commit, or compare two files with `iamverify check OLD NEW`"
            ) from None
        raise UsageError(
            f"--base: `{base}` is not a commit of this repository; "
            "fetch it first (a shallow CI checkout may lack it, for example `git fetch origin main`)"
        ) from None


def check_paths(base: str, paths: tuple[str, ...], cwd: str | Path) -> None:
    """Raise UsageError for each path that exists neither in the working
    tree nor at `base`: a mistyped path would otherwise select no file and
    let the run pass."""
    missing = []
    for path in paths:
        if (Path(cwd) / path).exists():
            continue
        if run_git(["ls-tree", "-r", "--name-only", base, "--", path], cwd).strip():
            continue
        missing.append(path)
    if missing:
        raise UsageError(
            "; ".join(f"`{path}` exists neither in the working tree nor at {base}" for path in missing)
            + "; check the spelling of the path"
        )


def run_git(arguments: list[str], cwd: str | Path) -> bytes:
    """Run git and return its stdout; raise UsageError with git's message when it fails."""
    try:
        completed = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("--base needs git, and no `git` command was found on PATH") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {arguments[0]} failed: {message[0] if message else f'exit code {completed.returncode}'}")
    return completed.stdout
