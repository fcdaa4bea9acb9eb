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
from typing import Any, Callable

import click

from verifier import __version__
from verifier.errors import EXIT_INVALID, EXIT_UNKNOWN, PolicyError, VerifierError
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
    help="Time limit in seconds for the whole command; past it the verdict is unknown (exit 3).",
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
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@FORMAT_OPTION
@TIMEOUT_OPTION
@click.option(
    "--known-actions-only",
    is_flag=True,
    help=(
        "Consider only actions that the bundled AWS Service Authorization Reference defines. "
        "Not sound for wildcards: a proof then says nothing about actions AWS adds later."
    ),
)
def check(old: str, new: str, output_format: str, timeout: float, known_actions_only: bool) -> None:
    """Prove that NEW grants no access that OLD does not.

    Exit 0 when proved; exit 1 with a request that NEW allows and OLD does
    not; exit 3 when no answer is possible within the time limit.
    """
    from verifier.check import check_no_new_access
    from verifier.report import check_json, check_text
    from verifier.solver import Deadline, Verdict

    old_policy, new_policy = _load_all(old, new)
    from verifier.new_access import list_new_access, listing_text

    deadline = Deadline(timeout)
    result = _guarded(
        lambda: check_no_new_access(old_policy, new_policy, timeout=timeout, known_actions_only=known_actions_only)
    )
    listing = None
    if result.verdict is Verdict.REFUTED:
        remaining = max(0.1, deadline.remaining_ms() / 1000)
        listing = _guarded(lambda: list_new_access(old_policy, new_policy, timeout=remaining))
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

    Exit 0 on any definite relation, 3 when a direction has no answer.
    """
    from verifier.check import check_no_new_access
    from verifier.report import request_json, request_lines
    from verifier.solver import Deadline, Verdict

    a, b = _load_all(first, second)
    deadline = Deadline(timeout)
    a_not_b = _guarded(lambda: check_no_new_access(b, a, timeout=timeout))
    b_not_a = _guarded(lambda: check_no_new_access(a, b, timeout=max(0.1, deadline.remaining_ms() / 1000)))
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

    Warnings exit 0 unless --strict is given, which makes them exit 1.
    """
    from verifier.validate import validate_policy_semantics

    documents = _load_all(*policies)
    findings = [(document.source, issue) for document in documents for issue in _guarded(lambda d=document: validate_policy_semantics(d))]
    if output_format == "json":
        payload = [{"file": source, "path": issue.path, "message": issue.message} for source, issue in findings]
        click.echo(json.dumps({"warnings": payload}, indent=2))
    else:
        for source, issue in findings:
            click.echo(issue.format(source))
        click.echo(f"{len(documents)} file(s) checked, {len(findings)} warning(s)")
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

    Exit 0 when the request is allowed, 1 when it is denied.
    """
    from verifier.evaluate import Request, evaluate as evaluate_request
    from verifier.report import decision_json, decision_text

    document = _load_all(policy)[0]
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
    decision = _guarded(lambda: evaluate_request(document, request))
    if output_format == "json":
        click.echo(json.dumps(decision_json(decision), indent=2))
    else:
        click.echo(decision_text(decision))
    sys.exit(0 if decision.allowed else 1)


def _load_all(*paths: str) -> list[PolicyDocument]:
    """Load every file, reporting the problems of all of them before exiting."""
    documents: list[PolicyDocument] = []
    failed = False
    for path in paths:
        try:
            documents.append(load_policy_file(path))
        except PolicyError as error:
            failed = True
            for issue in error.issues:
                click.echo(issue.format(error.source), err=True)
    if failed:
        sys.exit(EXIT_INVALID)
    return documents


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a command's main work, turning every failure into a one-line
    message and its exit code instead of a traceback."""
    try:
        return action()
    except VerifierError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(error.exit_code)
    except RecursionError:
        click.echo("error: the policy is nested too deeply to encode", err=True)
        sys.exit(EXIT_UNKNOWN)
    except Exception as error:  # noqa: BLE001 - the CLI must never print a traceback
        logger.debug("internal error", exc_info=True)
        click.echo(f"internal error: {type(error).__name__}: {error}; rerun with -v for details", err=True)
        sys.exit(EXIT_UNKNOWN)


def main() -> None:
    cli(prog_name="iamverify")
