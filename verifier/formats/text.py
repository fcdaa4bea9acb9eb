"""Plain-text report of a run: one block per policy, then the summary line.

Verdict words carry ANSI colors; `click.echo` strips them unless stdout is a
terminal.
"""

from __future__ import annotations

import click

from verifier.findings import Finding, Outcome, Run
from verifier.new_access import listing_text
from verifier.report import check_text

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
    header = click.style(finding.location.label, bold=True)
    if finding.renamed_from:
        header += f" (renamed from {finding.renamed_from})"
    return "\n".join([header, *_body(finding)])


def _body(finding: Finding) -> list[str]:
    outcome = finding.outcome
    word = click.style(outcome.value.upper(), fg=_COLORS[outcome], bold=True)
    if outcome is Outcome.INVALID:
        return [f"{word}: the document is invalid:", *(f"  {issue}" for issue in finding.issues)]
    if outcome is Outcome.REMOVED:
        return [f"{word}: the policy no longer exists, so it grants nothing new"]
    if finding.result is None:
        return [f"{word}: {finding.reason}"]
    text = check_text(finding.result, old_name=finding.old_name or "the old version", new_name=finding.new_name or "the new version")
    lines = text.splitlines()
    # `check_text` starts with the verdict word; replace it with the colored one.
    _, _, rest = lines[0].partition(":")
    lines[0] = f"{word}:{rest}"
    if finding.listing is not None:
        lines += listing_text(finding.listing)
    if outcome is not Outcome.UNKNOWN and finding.reason:
        lines.append(f"  note: {finding.reason}")
    return lines
