"""Plain-text report of a run: one block per policy, then the summary line.

Verdict words carry ANSI colors; `click.echo` strips them unless stdout is a
terminal.
"""

from __future__ import annotations

import click

from verifier.findings import NO_NEW_ACCESS, Finding, Outcome, Run
from verifier.new_access import listing_text
from verifier.report import check_text, prove_text, request_lines

_COLORS = {
    Outcome.PROVED: "green",
    Outcome.REFUTED: "red",
    Outcome.UNKNOWN: "yellow",
    Outcome.INVALID: "red",
    Outcome.REMOVED: "cyan",
}


def render_text(run: Run) -> str:
    blocks = [finding_text(finding) for finding in run.findings]
    if run.skipped:
        blocks.append("skipped (no policy document): " + ", ".join(run.skipped))
    blocks.append(run.summary)
    return "\n\n".join(blocks)


def finding_text(finding: Finding) -> str:
    header = click.style(finding.title, bold=True)
    if finding.renamed_from:
        header += f" (renamed from {finding.renamed_from})"
    lines = [header, *_body(finding)]
    if finding.origin:
        lines.append(f"  required by {finding.origin}")
    if finding.accepted:
        lines += [f"  accepted: {entry.describe()}" for entry in finding.accepted]
    for entry in finding.expired:
        assert entry.expires is not None
        lines.append(f"  note: {entry.describe()} has expired, so it no longer counts")
    return "\n".join(lines)


def _body(finding: Finding) -> list[str]:
    outcome = finding.outcome
    word = click.style(outcome.value.upper(), fg=_COLORS[outcome], bold=True)
    if outcome is Outcome.INVALID:
        what = "the document is invalid" if finding.check == NO_NEW_ACCESS else "the check is invalid"
        return [f"{word}: {what}:", *(f"  {issue}" for issue in finding.issues)]
    if outcome is Outcome.REMOVED:
        return [f"{word}: the policy no longer exists, so it grants nothing new"]
    name = finding.new_name or "the new version"
    if finding.proof is not None:
        return _with_word(prove_text(finding.proof, name).splitlines(), word)
    if finding.result is None:
        return [f"{word}: {finding.reason}"]
    if finding.check != NO_NEW_ACCESS:
        return _resource_body(finding, word, name)
    text = check_text(finding.result, old_name=finding.old_name or "the old version", new_name=name)
    lines = text.splitlines()
    # `check_text` starts with the verdict word; replace it with the colored one.
    _, _, rest = lines[0].partition(":")
    lines[0] = f"{word}:{rest}"
    if finding.listing is not None:
        lines += listing_text(finding.listing)
    if outcome is not Outcome.UNKNOWN and finding.reason:
        lines.append(f"  note: {finding.reason}")
    return lines


def resources_text(globs: tuple[str, ...]) -> str:
    return "a resource matching " + " or ".join(f"`{text}`" for text in globs)


def _with_word(lines: list[str], word: str) -> list[str]:
    _, _, rest = lines[0].partition(":")
    return [f"{word}:{rest}", *lines[1:]]


def _resource_body(finding: Finding, word: str, name: str) -> list[str]:
    """Lines of a `deny_resources` check, whose question is "does the policy
    allow a request on one of these resources?"."""
    result = finding.result
    assert result is not None
    denied = resources_text(finding.denied_resources)
    if finding.outcome is Outcome.PROVED:
        return [f"{word}: {name} allows no request on {denied}."]
    if finding.outcome is Outcome.UNKNOWN:
        return [f"{word}: {finding.reason}"]
    lines = [f"{word}: {name} allows a request on {denied}."]
    lines += request_lines(result.counterexample)
    lines.append("  allowed by: " + ", ".join(s.label for s in result.new_statements))
    if finding.listing is not None:
        listed = listing_text(finding.listing)
        if listed and listed[0].startswith("  newly allowed actions"):
            listed[0] = listed[0].replace("newly allowed actions", "actions allowed on those resources", 1)
        lines += listed
    return lines
