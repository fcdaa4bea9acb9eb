"""The multi-policy mode of `iamverify check`: collect the policy changes of
one source, check them all, print one report and return the run's exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from verifier.errors import PolicyError, UsageError
from verifier.findings import Finding, Location, PolicyChange, Run, invalid_finding, run_changes
from verifier.policy.parse import load_policy_file
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
    items, skipped = collect(options)
    run = Run(run_changes(items, options.timeout, options.known_actions_only), skipped)
    click.echo(renderer(output_format)(run))
    for name, path in targets:
        text = click.unstyle(renderer(name)(run))
        Path(path).write_text(text + "\n", encoding="utf-8")
    return run.exit_code


def parse_report_target(target: str) -> tuple[str, str]:
    name, separator, path = target.partition("=")
    if not separator or not path or name not in FORMATS:
        raise UsageError(f"--report: expected FORMAT=PATH with FORMAT one of {', '.join(FORMATS)}, got `{target}`")
    return name, path


def parse_parameters(items: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise UsageError(f"--parameter: expected NAME=VALUE, got `{item}`")
        values[name] = value
    return values
