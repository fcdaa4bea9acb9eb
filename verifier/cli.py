"""The `iamverify` command line.

Exit codes (a stable contract): 0 proved, 1 refuted with a counterexample,
2 invalid input or usage, 3 unknown (timeout, unsupported construct, or an
internal inconsistency). Results go to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from typing import Any, Callable, NoReturn

import click

from verifier import __version__
from verifier.errors import EXIT_INVALID, EXIT_UNKNOWN, Issue, PolicyError, UsageError, VerifierError
from verifier.policy.document import PolicyDocument
from verifier.policy.parse import load_policy_file

logger = logging.getLogger("verifier")

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; `json` prints exactly one JSON object.",
)
# The solvers take their timeouts in whole milliseconds, and a limit such as
# 1e308 s overflows that conversion. One day is far above any useful check.
MAX_TIMEOUT_SECONDS = 86_400.0


def _reject_nan(context: click.Context, parameter: click.Parameter, value: float) -> float:
    # FloatRange lets NaN through, because every comparison with NaN is false.
    if math.isnan(value):
        raise click.BadParameter("nan is not a number of seconds", context, parameter)
    return value


TIMEOUT_OPTION = click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=MAX_TIMEOUT_SECONDS),
    callback=_reject_nan,
    default=30.0,
    show_default=True,
    help="Time limit in seconds for each policy or policy pair; past it the verdict is unknown (exit 3).",
)


REPORT_OPTION = click.option(
    "--report",
    "reports",
    multiple=True,
    metavar="FORMAT=PATH",
    help="Also write the report in FORMAT (text, json, sarif, junit, markdown) to PATH; repeatable.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iamverify")
@click.option("-v", "--verbose", is_flag=True, help="Log solver activity to stderr.")
def cli(verbose: bool) -> None:
    """Formal verifier for AWS IAM policies.

    Exit codes: 0 proved, 1 refuted (a counterexample is printed), 2 invalid
    input or usage, 3 unknown (timeout or unsupported construct).
    """
    if verbose:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s: %(message)s")


@cli.command()
@click.argument("files", metavar="OLD NEW | [PATH...]", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "junit", "markdown"]),
    default="text",
    show_default=True,
    help="Output format; `json` prints exactly one JSON object, `sarif` is SARIF 2.1.0.",
)
@TIMEOUT_OPTION
@click.option(
    "--known-actions-only",
    is_flag=True,
    help=(
        "Consider only actions that the bundled AWS Service Authorization Reference defines. "
        "Not sound for wildcards: a proof then says nothing about actions AWS adds later."
    ),
)
@click.option("--base", metavar="REF", help="Check each policy file under PATHs that changed since the git revision REF.")
@click.option("--terraform-plan", metavar="FILE", help="Check the policies changed in a `terraform show -json` plan.")
@click.option(
    "--cloudformation",
    is_flag=True,
    help="Compare CloudFormation templates: PATHs at --base REF against the working tree, or OLD NEW.",
)
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Value of a CloudFormation parameter, pseudo parameter, `Ref` (LogicalId) or `Fn::GetAtt` (LogicalId.Attribute).",
)
@REPORT_OPTION
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file with properties and accepted changes (default: .iamverify.toml, else [tool.iamverify] in pyproject.toml).",
)
def check(
    files: tuple[str, ...],
    output_format: str,
    timeout: float,
    known_actions_only: bool,
    base: str | None,
    terraform_plan: str | None,
    cloudformation: bool,
    parameters: tuple[str, ...],
    reports: tuple[str, ...],
    config_path: str | None,
) -> None:
    """Prove that NEW grants no access that OLD does not.

    Exit 0 when proved; exit 1 with a request that NEW allows and OLD does
    not; exit 2 on invalid input; exit 3 when the check cannot decide within
    the time limit.

    With --base, --terraform-plan or --cloudformation, every policy of the
    source is checked (the time limit applies to each) and reported, then a
    summary line. The exit code is that of the worst finding: 2 for an
    invalid document before 3 unknown before 1 refuted before 0.

    In these runs, and with --config, the config file adds the properties
    of each changed policy and counts its accepted changes as allowed.
    """
    multi = base is not None or terraform_plan is not None or cloudformation or config_path is not None
    if multi or reports or output_format not in ("text", "json"):
        from verifier.ci import RunOptions, parse_parameters, run_reporting_errors, run_command

        def command() -> int:
            options = RunOptions(
                base=base,
                paths=files,
                terraform_plan=terraform_plan,
                cloudformation=cloudformation,
                parameters=parse_parameters(parameters),
                timeout=timeout,
                known_actions_only=known_actions_only,
                config_path=config_path,
            )
            return run_command(options, output_format, reports)

        sys.exit(_guarded(lambda: _config_errors(lambda: run_reporting_errors(command, output_format, reports))))
    if len(files) < 2:
        raise click.UsageError(f"Missing argument '{'NEW' if files else 'OLD'}'.")
    if len(files) > 2:
        raise click.UsageError(f"Got unexpected extra argument ({' '.join(files[2:])})")
    old, new = files
    from verifier.check import UNNAMED_ACTION_NOTE, check_no_new_access
    from verifier.report import check_json, check_text
    from verifier.solver import Deadline, Verdict

    old_policy, new_policy = _load_all(old, new, output_format=output_format)
    from verifier.new_access import list_new_access, listing_text

    deadline = Deadline(timeout)
    result = _guarded(
        lambda: check_no_new_access(old_policy, new_policy, timeout=timeout, known_actions_only=known_actions_only),
        output_format,
    )
    listing = None
    if result.verdict is Verdict.REFUTED:
        remaining = max(0.1, deadline.remaining_ms() / 1000)
        listing = _guarded(lambda: list_new_access(old_policy, new_policy, timeout=remaining), output_format)
        if listing.entries and UNNAMED_ACTION_NOTE in result.notes:
            # The listing found defined actions after the check's own search
            # ran out of time, so the note points to the listing instead.
            result.notes[result.notes.index(UNNAMED_ACTION_NOTE)] = (
                "the counterexample uses a name that only a wildcard matches; "
                "the new-access listing names the actions that AWS defines"
            )
    if output_format == "json":
        payload = check_json(result)
        payload["new_access"] = [entry.to_json() for entry in listing.entries] if listing else []
        if listing and (listing.undecided or not listing.complete):
            payload["notes"].append(_incomplete_listing_note(listing))
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(check_text(result, old_name=old, new_name=new))
        if listing is not None:
            click.echo("\n".join(listing_text(listing)))
    sys.exit({Verdict.PROVED: 0, Verdict.REFUTED: 1, Verdict.UNKNOWN: EXIT_UNKNOWN}[result.verdict])


@cli.command()
@click.argument("first", metavar="A", type=click.Path(dir_okay=False))
@click.argument("second", metavar="B", type=click.Path(dir_okay=False))
@FORMAT_OPTION
@TIMEOUT_OPTION
def compare(first: str, second: str, output_format: str, timeout: float) -> None:
    """Relate the access of two policies: equivalent, narrower, broader or
    incomparable, with a counterexample for each direction that has one.

    Exit 0 on any definite relation, 2 on invalid input, 3 when a direction
    has no answer.
    """
    from verifier.check import check_no_new_access
    from verifier.report import request_json, request_lines
    from verifier.solver import Deadline, Verdict

    a, b = _load_all(first, second, output_format=output_format)
    deadline = Deadline(timeout)
    a_not_b = _guarded(lambda: check_no_new_access(b, a, timeout=timeout), output_format)
    b_not_a = _guarded(lambda: check_no_new_access(a, b, timeout=max(0.1, deadline.remaining_ms() / 1000)), output_format)
    unknown = [r for r in (a_not_b, b_not_a) if r.verdict is Verdict.UNKNOWN]
    if unknown:
        relation = "unknown"
    else:
        relation = {
            (False, False): "equivalent",
            (False, True): "narrower",
            (True, False): "broader",
            (True, True): "incomparable",
        }[(a_not_b.verdict is Verdict.REFUTED, b_not_a.verdict is Verdict.REFUTED)]
    reason = "; ".join(r.reason or "" for r in unknown) or None
    if output_format == "json":
        payload = {
            "relation": relation,
            "reason": reason,
            "a_not_b": request_json(a_not_b.counterexample),
            "b_not_a": request_json(b_not_a.counterexample),
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(_relation_sentence(relation, first, second, reason))
        for label, result in ((f"allowed by {first} but not by {second}:", a_not_b), (f"allowed by {second} but not by {first}:", b_not_a)):
            if result.counterexample is not None:
                click.echo(label)
                click.echo("\n".join(request_lines(result.counterexample)))
    sys.exit(EXIT_UNKNOWN if unknown else 0)


def _incomplete_listing_note(listing) -> str:
    parts = []
    if listing.undecided:
        parts.append(f"new access of {len(listing.undecided)} actions is undecided: {', '.join(listing.undecided)}")
    if not listing.complete:
        parts.append("the new-access listing stopped at the time limit")
    return "; ".join(parts)


def _relation_sentence(relation: str, first: str, second: str, reason: str | None) -> str:
    if relation == "equivalent":
        return f"EQUIVALENT: {first} and {second} allow exactly the same requests."
    if relation == "narrower":
        return f"NARROWER: {first} allows a strict subset of what {second} allows."
    if relation == "broader":
        return f"BROADER: {first} allows a strict superset of what {second} allows."
    if relation == "incomparable":
        return f"INCOMPARABLE: each policy allows a request that the other does not."
    return f"UNKNOWN: {reason}"


@cli.command()
@click.argument("policies", metavar="POLICY...", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Exit with 1 when there are warnings.")
@FORMAT_OPTION
def validate(policies: tuple[str, ...], strict: bool, output_format: str) -> None:
    """Check policies for invalid syntax (exit 2) and, against the AWS
    service reference, for likely mistakes: unknown actions and condition
    keys, wildcards that match no action, operators that do not fit a key's
    type, and actions that cannot take the statement's resources.

    Warnings exit 0 unless --strict is given, which makes them exit 1. The
    warnings of valid files are reported even when another file is invalid.
    """
    from verifier.validate import validate_policy_semantics

    documents, errors = _load_each(policies)
    findings = [(document.source, issue) for document in documents for issue in _guarded(lambda d=document: validate_policy_semantics(d))]
    for source, issue in errors:
        click.echo(issue.format(source), err=True)
    if output_format == "json":
        payload = {
            "verdict": "invalid" if errors else "valid",
            "errors": [{"file": source, "path": issue.path, "message": issue.message} for source, issue in errors],
            "warnings": [
                {"file": source, "path": issue.path, "message": issue.message.removeprefix("warning: ")} for source, issue in findings
            ],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for source, issue in findings:
            click.echo(issue.format(source))
        invalid = len({source for source, _ in errors})
        click.echo(f"{len(policies)} file(s) checked, {invalid} invalid, {len(findings)} warning(s)")
    if errors:
        sys.exit(EXIT_INVALID)
    sys.exit(1 if strict and findings else 0)


@cli.command()
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--action", required=True, help="Action of the request, such as `s3:GetObject`.")
@click.option("--resource", required=True, help="Resource ARN of the request.")
@click.option("--principal", default=None, help="Principal ARN of the request, if the policy names principals.")
@click.option(
    "--context",
    "context_items",
    multiple=True,
    metavar="KEY=VALUE",
    help="A condition key of the request; repeat a key to give it several values.",
)
@FORMAT_OPTION
def evaluate(policy: str, action: str, resource: str, principal: str | None, context_items: tuple[str, ...], output_format: str) -> None:
    """Decide one concrete request against POLICY, offline.

    Exit 0 when the request is allowed, 1 when it is denied, 2 on invalid
    input, including a --context value that does not parse as the type AWS
    documents for its key (an IP address for aws:SourceIp, a date for
    aws:CurrentTime).
    """
    from verifier.evaluate import Request, evaluate as evaluate_request
    from verifier.keys import documented_single_valued
    from verifier.report import decision_json, decision_text

    document = _load_all(policy, output_format=output_format)[0]
    context: dict[str, list[str]] = {}
    for item in context_items:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got `{item}`", param_hint="--context")
        existing = next((k for k in context if k.lower() == key.lower()), key)
        context.setdefault(existing, []).append(value)
    request = Request(
        action=action,
        resource=resource,
        principal=principal,
        context={k: v[0] if len(v) == 1 else tuple(v) for k, v in context.items()},
    )
    invalid = [message for key, values in context.items() for value in values if (message := _invalid_context_value(key, value))]
    invalid += [
        f"--context {key}: {len(values)} values given, but AWS documents {key} as single-valued; give it once"
        for key, values in context.items()
        if len(values) > 1 and documented_single_valued(key.lower())
    ]
    if invalid:
        for message in invalid:
            click.echo(f"error: {message}", err=True)
        if output_format == "json":
            click.echo(json.dumps({"verdict": "invalid", "errors": [{"option": "--context", "message": m} for m in invalid]}, indent=2))
        sys.exit(EXIT_INVALID)
    decision = _guarded(lambda: evaluate_request(document, request), output_format)
    if output_format == "json":
        click.echo(json.dumps(decision_json(decision), indent=2))
    else:
        click.echo(decision_text(decision))
        if document.names_principals and principal is None and not decision.allowed:
            click.echo("note: the policy names principals and the request has none; give the caller with --principal")
    sys.exit(0 if decision.allowed else 1)


def _invalid_context_value(key: str, value: str) -> str | None:
    """Return an error message when a context value does not parse as the
    type that AWS documents for its key, such as `aws:SourceIp=notanip`.

    AWS sends only well-formed values for these keys. The docs do not say
    what a condition does with any other value, so such a request is
    rejected as invalid input rather than evaluated.
    """
    from verifier.keys import KeyType, documented_type
    from verifier.policy.values import parse_address, parse_bool, parse_date, parse_number

    key_type = documented_type(key.lower())
    readers = {KeyType.NUMERIC: parse_number, KeyType.DATE: parse_date, KeyType.BOOL: parse_bool, KeyType.IP: parse_address}
    if key_type not in readers or readers[key_type](value) is not None:
        return None
    expected = {
        KeyType.NUMERIC: "a number such as 3600",
        KeyType.DATE: "a date such as 2026-01-31T00:00:00Z or epoch seconds such as 1769817600",
        KeyType.BOOL: "true or false",
        KeyType.IP: "an IP address such as 203.0.113.7",
    }[key_type]
    return f"--context {key}={value}: invalid value: AWS documents {key} as {expected}"


def _zone_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options that declare the zone of trust."""
    options = [
        click.option("--trusted-account", "accounts", multiple=True, metavar="ID", help="A trusted 12-digit account ID (repeatable)."),
        click.option("--trusted-org", "orgs", multiple=True, metavar="o-ID", help="A trusted organization ID (repeatable)."),
        click.option("--trusted-ou", "ous", multiple=True, metavar="PATH", help="A trusted OU path such as o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ (repeatable)."),
        click.option(
            "--trusted-federated",
            "federated",
            multiple=True,
            metavar="PROVIDER[:CLAIM=PATTERN]",
            help="A trusted web identity, such as token.actions.githubusercontent.com:sub=repo:acme-corp/* (repeatable).",
        ),
        click.option("--trusted-vpce", "vpces", multiple=True, metavar="vpce-ID", help="A VPC endpoint that outsiders cannot use (repeatable)."),
        click.option("--trusted-vpc", "vpcs", multiple=True, metavar="vpc-ID", help="A VPC that outsiders cannot send from (repeatable)."),
        click.option(
            "--trusted-canonical-user",
            "canonical_users",
            multiple=True,
            metavar="ID",
            help="The S3 canonical user ID (64 hex digits) of a trusted account (repeatable).",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            default=None,
            help="Read the zone from the [zone] table of this TOML file (default: .iamverify.toml, else [tool.iamverify] in pyproject.toml).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _zone(accounts, orgs, ous, federated, vpces, vpcs, canonical_users, config_path):  # type: ignore[no-untyped-def]
    """Merge the zone of the config file and of the options."""
    from verifier.config import find_config
    from verifier.zone import zone_from_config, zone_from_options

    zone = _guarded(lambda: zone_from_options(accounts, orgs, ous, federated, vpces, vpcs, canonical_users))
    path = config_path or find_config()
    if path is None:
        return zone
    try:
        return zone_from_config(path).merged(zone)
    except PolicyError as error:
        for issue in error.issues:
            click.echo(issue.format(error.source), err=True)
        sys.exit(EXIT_INVALID)
    except VerifierError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)


@cli.command(name="run")
@click.argument("paths", metavar="[PATH...]", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "junit", "markdown"]),
    default="text",
    show_default=True,
    help="Output format; `json` prints exactly one JSON object, `sarif` is SARIF 2.1.0.",
)
@REPORT_OPTION
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file to run (default: .iamverify.toml, else [tool.iamverify] in pyproject.toml).",
)
@TIMEOUT_OPTION
def run_config(paths: tuple[str, ...], output_format: str, reports: tuple[str, ...], config_path: str | None, timeout: float) -> None:
    """Check the properties of the config file on the working tree.

    Every policy file (.json, .yaml, .yml) under PATHs, by default the
    config file's folder, is checked against each [[properties]] entry
    whose path glob matches it. The time limit applies to each check. Exit
    0 when every property holds, 1 when one is violated, 2 on an invalid
    config or policy, 3 when a check reaches no verdict.
    """
    from verifier.ci import run_reporting_errors, run_properties
    from verifier.config import find_config, load_config

    def run() -> int:
        path = config_path or find_config()
        if path is None:
            raise UsageError("no config file: create .iamverify.toml, add [tool.iamverify] to pyproject.toml or give --config")
        return run_properties(load_config(path), paths, timeout, output_format, reports)

    sys.exit(_guarded(lambda: _config_errors(lambda: run_reporting_errors(run, output_format, reports))))


def _config_errors(action: Callable[[], Any]) -> Any:
    """Print every problem of an invalid config file on its own line and
    exit with 2."""
    try:
        return action()
    except PolicyError as error:
        for issue in error.issues:
            click.echo(issue.format(error.source), err=True)
        sys.exit(EXIT_INVALID)


@cli.group()
def prove() -> None:
    """Prove a property of a role trust policy or a resource policy.

    Exit 0 when proved; exit 1 with a request from a caller that the
    property excludes; exit 2 on invalid input; exit 3 when no answer is
    possible within the time limit.
    """


def _prove_command(prop_name: str, summary: str) -> None:
    @prove.command(name=prop_name, help=summary)
    @click.argument("policy", type=click.Path(dir_okay=False))
    @_zone_options
    @FORMAT_OPTION
    @TIMEOUT_OPTION
    def command(policy: str, output_format: str, timeout: float, **zone_options: Any) -> None:
        from verifier.prove import Property, prove as prove_property
        from verifier.report import prove_json, prove_text
        from verifier.solver import Verdict

        zone = _zone(**zone_options)
        document = _load_all(policy, output_format=output_format)[0]
        result = _guarded(lambda: prove_property(document, Property(prop_name), zone, timeout=timeout), output_format)
        if output_format == "json":
            payload = prove_json(result)
            payload["zone"] = zone.to_json()
            click.echo(json.dumps(payload, indent=2))
        else:
            click.echo(prove_text(result, policy))
        sys.exit({Verdict.PROVED: 0, Verdict.REFUTED: 1, Verdict.UNKNOWN: EXIT_UNKNOWN}[result.verdict])


_prove_command(
    "no-external-access",
    """Prove that no caller outside the zone of trust can assume the role or use the resource.

    For a trust policy the actions are the sts:AssumeRole family; for a
    resource policy, every action on the resources it names. The caller
    controls every context key AWS does not derive from the principal, such
    as aws:SourceIp, aws:UserAgent and request tags. Service principals
    count as inside: see no-confused-deputy.
    """,
)
_prove_command(
    "no-public-access",
    """Prove that no anonymous caller and no principal of an arbitrary account is allowed.

    Accounts, organizations, VPC endpoints and VPCs that the policy names
    are known parties, as is the zone given with the options; any other
    account is the public. An outsider controls aws:SourceIp, so a grant
    limited only by source IP counts as public here (S3 Block Public Access
    would not count it).
    """,
)
_prove_command(
    "no-confused-deputy",
    """Prove that no service acts for an account outside the zone, and no outside account assumes the role without sts:ExternalId.

    In a resource policy, every grant to a service principal must be limited
    to the zone by aws:SourceAccount, aws:SourceArn, aws:SourceOrgID or
    aws:SourceOrgPaths. An ARN without an account field, such as an S3 bucket
    ARN, does not limit the account. In a trust policy, a principal of an
    account outside the zone must pass sts:ExternalId.
    """,
)


@cli.command(name="who-can")
@click.argument("policy", type=click.Path(dir_okay=False))
@FORMAT_OPTION
@TIMEOUT_OPTION
def who_can(policy: str, output_format: str, timeout: float) -> None:
    """List every caller that can assume the role or use the resource under POLICY.

    The list is built by repeated solving until the solver proves that it
    covers every allowed caller. Exit 0 when the list is complete; exit 2 on
    invalid input; exit 3 when it may be incomplete (time limit, unsupported
    construct).
    """
    from verifier.who_can import who_can as describe, who_can_json, who_can_text

    document = _load_all(policy, output_format=output_format)[0]
    result = _guarded(lambda: describe(document, timeout=timeout), output_format)
    if output_format == "json":
        click.echo(json.dumps(who_can_json(result), indent=2))
    else:
        click.echo(who_can_text(result, policy))
    sys.exit(0 if result.complete else EXIT_UNKNOWN)


def _load_all(*paths: str, output_format: str = "text") -> list[PolicyDocument]:
    """Load every file, reporting the problems of all of them before exiting.

    With `--format json`, stdout also gets one JSON object with verdict
    `invalid` and the problems, so that a caller parsing stdout learns why
    the run stopped."""
    documents, errors = _load_each(paths)
    problems = [{"file": source, "path": issue.path, "message": issue.message} for source, issue in errors]
    for source, issue in errors:
        click.echo(issue.format(source), err=True)
    if problems:
        if output_format == "json":
            click.echo(json.dumps({"verdict": "invalid", "errors": problems}, indent=2))
        sys.exit(EXIT_INVALID)
    return documents


def _load_each(paths: tuple[str, ...]) -> tuple[list[PolicyDocument], list[tuple[str, Issue]]]:
    """Load every file; return the valid documents and, as (file, issue),
    every problem of the invalid ones."""
    documents: list[PolicyDocument] = []
    errors: list[tuple[str, Issue]] = []
    for path in paths:
        try:
            documents.append(load_policy_file(path))
        except PolicyError as error:
            errors += [(error.source, issue) for issue in error.issues]
    return documents, errors


def _guarded(action: Callable[[], Any], output_format: str = "text") -> Any:
    """Run a command's main work, turning every failure into a one-line
    message and its exit code instead of a traceback. With `--format json`,
    stdout also gets one JSON object that names the error."""

    def stop(message: str, code: int) -> NoReturn:
        click.echo(message, err=True)
        if output_format == "json":
            verdict = "invalid" if code == EXIT_INVALID else "unknown"
            click.echo(json.dumps({"verdict": verdict, "errors": [{"message": message.removeprefix("error: ")}]}, indent=2))
        sys.exit(code)

    try:
        return action()
    except VerifierError as error:
        stop(f"error: {error}", error.exit_code)
    except RecursionError:
        stop("error: the policy is nested too deeply to encode", EXIT_UNKNOWN)
    except Exception as error:  # noqa: BLE001 - the CLI must never print a traceback
        logger.debug("internal error", exc_info=True)
        stop(f"internal error: {type(error).__name__}: {error}; rerun with -v for details", EXIT_UNKNOWN)


def main() -> None:
    # Policy text may hold lone surrogates (`"\ud800"` in JSON), which no
    # encoding can write; print them as escapes instead of failing.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    cli(prog_name="iamverify")
