"""The multi-policy mode of `iamverify check`: collect the policy changes of
one source, check them all, print one report and return the run's exit code."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import click

from verifier.config import Config, Target, find_config, load_config, today_utc
from verifier.errors import PolicyError, UsageError, VerifierError
from verifier.findings import Finding, Location, PolicyChange, Run, check_change, invalid_finding
from verifier.policy.parse import load_policy_file, parse_policy_bytes
from verifier.formats import FORMATS, renderer


@dataclass
class RunOptions:
    base: str | None = None
    paths: tuple[str, ...] = ()
    terraform_plan: str | None = None
    cloudformation: bool = False
    # Values for CloudFormation parameters, pseudo parameters, `Ref`s and
    # `Fn::GetAtt`s, by name.
    parameters: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    known_actions_only: bool = False
    # The config file named with --config; without it, the one that
    # `find_config` finds in the working directory, if any.
    config_path: str | None = None
    # The date that decides whether an accepted change has expired; None
    # means today in UTC.
    today: datetime.date | None = None

    def config(self) -> Config | None:
        path = self.config_path or find_config()
        return None if path is None else load_config(path)


def collect(options: RunOptions) -> tuple[list[PolicyChange | Finding], list[str]]:
    """Return the changes and decided findings of the selected source, and
    the files skipped because they hold no policy."""
    if options.terraform_plan is not None:
        if options.base is not None or options.cloudformation or options.paths:
            raise UsageError("--terraform-plan takes no --base, --cloudformation or PATH arguments")
        from verifier.sources.terraform import terraform_changes

        return terraform_changes(options.terraform_plan), []
    if options.cloudformation:
        from verifier.sources.cloudformation import template_changes, template_changes_at_base

        if options.base is not None:
            if not options.paths:
                raise UsageError("--cloudformation --base REF needs the template paths to compare")
            return template_changes_at_base(options.base, options.paths, options.parameters), []
        if len(options.paths) != 2:
            raise UsageError("--cloudformation without --base takes exactly two templates: OLD NEW")
        return template_changes(options.paths[0], options.paths[1], options.parameters), []
    if options.base is not None:
        from verifier.sources.git import git_changes

        return git_changes(options.base, options.paths)
    if len(options.paths) == 2:
        return [_file_pair(*options.paths)], []
    raise UsageError("expected OLD NEW, or a source: --base REF, --terraform-plan FILE or --cloudformation")


def _file_pair(old_path: str, new_path: str) -> PolicyChange | Finding:
    location = Location(new_path)
    try:
        old = load_policy_file(old_path)
        new = load_policy_file(new_path)
    except PolicyError as error:
        return invalid_finding(Location(error.source), error)
    return PolicyChange(location, old, new, old_path, new_path)


def run_command(options: RunOptions, output_format: str, reports: tuple[str, ...]) -> int:
    """Check every policy of the source, print the report in `output_format`,
    write each `FORMAT=PATH` of `reports`, and return the exit code."""
    targets = [parse_report_target(target) for target in reports]
    config = options.config()
    items, skipped = collect(options)
    origin = _source_root(options)
    if config is not None:
        accepted_files = config.accepted_policy_files()
        items = [item for item in items if Path(os.path.abspath(origin / item.location.file)) not in accepted_files]
    findings = check_items(items, config, origin, options.timeout, options.known_actions_only, options.today or today_utc())
    return write_reports(Run(findings, skipped), output_format, targets)


def check_items(
    items: list[PolicyChange | Finding],
    config: Config | None,
    origin: Path,
    timeout: float,
    known_actions_only: bool,
    today: datetime.date,
) -> list[Finding]:
    """Check every change, with the accepted changes of `config` that match
    its file, followed by the properties that `config` requires of the new
    version. File paths of the items are relative to `origin`."""
    from verifier.properties import property_findings

    findings: list[Finding] = []
    for item in items:
        if isinstance(item, Finding):
            findings.append(item)
            continue
        if config is None:
            findings.append(check_change(item, timeout, known_actions_only))
            continue
        target = _target(config, origin, item.location)
        active, expired = config.accepted_for(target, today)
        findings.append(check_change(item, timeout, known_actions_only, active, expired))
        rules = config.properties_for(target)
        findings += property_findings(item.location, item.new_name, item.new, rules, config.zone, timeout)
    return findings


def _target(config: Config, origin: Path, location: Location) -> Target:
    """Return what the config's globs match for a policy at `location`."""
    resource = location.resource
    if resource is not None and location.attribute:
        resource = f"{resource}.{location.attribute}"
    return Target(config.relative(origin / location.file), resource)


def run_properties(
    config: Config, paths: tuple[str, ...], timeout: float, output_format: str, reports: tuple[str, ...]
) -> int:
    """Check the properties of `config` on every policy file of the working
    tree that a property's path matches, under `paths` (default: the config
    file's folder), print and write the reports, and return the exit code."""
    from verifier.properties import property_findings

    targets = [parse_report_target(target) for target in reports]
    findings: list[Finding] = []
    skipped: list[str] = []
    matched: set[int] = set()
    accepted_files = config.accepted_policy_files()
    for path in policy_files(config, paths):
        if path in accepted_files:
            continue
        relative = config.relative(path)
        rules = config.properties_for(Target(relative))
        matched.update(rule.index for rule in rules)
        if not rules:
            continue
        shown = os.path.relpath(path)
        location = Location(shown)
        data = path.read_bytes()
        try:
            document = parse_policy_bytes(data, shown)
        except PolicyError as error:
            from verifier.sources.git import looks_like_policy

            if looks_like_policy(data):
                findings.append(invalid_finding(location, error))
            else:
                skipped.append(shown)
            continue
        findings += property_findings(location, shown, document, rules, config.zone, timeout)
    # A mistyped glob would otherwise turn a required property into a pass.
    # Runs limited to some PATHs leave out other entries' files on purpose.
    for rule in config.properties:
        if rule.index in matched or paths:
            continue
        if rule.path is None:
            click.echo(
                f"warning: {rule.title} has only a resource glob, which matches policies in "
                "check --terraform-plan and --cloudformation, not files in run",
                err=True,
            )
        else:
            click.echo(f"warning: {rule.title} matched no policy file (path = {rule.path.text!r})", err=True)
    return write_reports(Run(findings, skipped), output_format, targets)


def policy_files(config: Config, paths: tuple[str, ...]) -> list[Path]:
    """List the `.json`, `.yaml` and `.yml` files under `paths`, sorted,
    without descending into hidden folders such as `.git`."""
    from verifier.sources.git import POLICY_SUFFIXES

    found: set[Path] = set()
    for start in [Path(p) for p in paths] or [config.root]:
        if start.is_file():
            found.add(Path(os.path.abspath(start)))
            continue
        if not start.is_dir():
            raise UsageError(f"PATH: `{start}` is neither a file nor a folder")
        for folder, folders, files in os.walk(start):
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            for name in files:
                if name.lower().endswith(POLICY_SUFFIXES):
                    found.add(Path(os.path.abspath(os.path.join(folder, name))))
    return sorted(found)


def write_reports(run: Run, output_format: str, targets: list[tuple[str, str]]) -> int:
    output = renderer(output_format)(run)
    # https://no-color.org: a set, non-empty NO_COLOR turns colors off.
    color = False if os.environ.get("NO_COLOR") else None
    click.echo(output, color=color)
    for name, path in targets:
        write_report_file(path, click.unstyle(renderer(name)(run)))
    return run.exit_code


def write_report_file(path: str, text: str) -> None:
    """Write a report through a temporary file in the same folder, so that
    a failed write leaves no half-written report behind."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"--report: cannot write `{path}`: {error.strerror or error}") from None


def _source_root(options: RunOptions) -> Path:
    """Return the folder that the file paths of the source's findings are
    relative to: the repository root for --base on policy files, else the
    working directory."""
    if options.base is not None and not options.cloudformation and options.terraform_plan is None:
        from verifier.sources.git import run_git

        return Path(run_git(["rev-parse", "--show-toplevel"], ".").decode().strip())
    return Path.cwd()


def run_reporting_errors(action: Callable[[], int], output_format: str, reports: tuple[str, ...]) -> int:
    """Run `action`. When it raises a `VerifierError`, print the error report
    in `output_format` (except text, because the error message goes to
    stderr anyway), write it to each `FORMAT=PATH` of `reports`, and raise
    the error again."""
    targets: list[tuple[str, str]] = []
    invalid: list[UsageError] = []
    for target in reports:
        try:
            targets.append(parse_report_target(target))
        except UsageError as error:
            invalid.append(error)
    try:
        # A report path that cannot be written stops the run, but the other
        # reports still name the error.
        if invalid:
            raise invalid[0]
        return action()
    except VerifierError as error:
        run = Run([], error=str(error), error_exit_code=error.exit_code)
        if output_format != "text":
            click.echo(renderer(output_format)(run))
        for name, path in targets:
            write_report_file(path, click.unstyle(renderer(name)(run)))
        raise


def parse_report_target(target: str) -> tuple[str, str]:
    name, separator, path = target.partition("=")
    if not separator or not path or name not in FORMATS:
        raise UsageError(f"--report: expected FORMAT=PATH with FORMAT one of {', '.join(FORMATS)}, got `{target}`")
    # Checked before any policy, so that a long run does not end in a
    # failed write. The write itself can still fail, for example on a full disk.
    folder = Path(path).parent
    if Path(path).is_dir():
        raise UsageError(f"--report: `{path}` is a folder; give a file path such as {path.rstrip('/')}/iamverify.{name}")
    if not folder.is_dir():
        raise UsageError(f"--report: cannot write `{path}`: the folder `{folder}` does not exist")
    return name, path


def parse_parameters(items: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise UsageError(f"--parameter: expected NAME=VALUE, got `{item}`")
        values[name] = value
    return values
