"""Markdown report of a run, for a pull-request comment.

The table of new access has one row per statement that grants new access,
with the actions it newly allows and the counterexample when that statement
allows it. A table of violated properties of the config file follows. Unknown
and invalid policies are listed under them, then the notes of every check
(such as a Deny that the new version dropped, which a proof does not show),
the accepted changes that counted or expired, and proved policies in a
collapsed list.
"""

from __future__ import annotations

from verifier.evaluate import Request
from verifier.findings import NO_NEW_ACCESS, Finding, Outcome, Run

# Actions listed per table row before the rest is summarized as a count.
MAX_ACTIONS_PER_ROW = 8


def render_markdown(run: Run) -> str:
    findings = run.findings
    lines = ["## iamverify", "", f"**{_escape(run.summary)}**", ""]

    refuted = [f for f in findings if f.outcome is Outcome.REFUTED and f.check == NO_NEW_ACCESS]
    if refuted:
        lines += [
            "### New access",
            "",
            "| Policy | Statement | Newly allowed actions | Example request |",
            "| --- | --- | --- | --- |",
        ]
        for finding in refuted:
            lines += _new_access_rows(finding)
        lines.append("")

    violated = [f for f in findings if f.outcome is Outcome.REFUTED and f.check != NO_NEW_ACCESS]
    if violated:
        lines += [
            "### Properties violated",
            "",
            "| Policy | Property | Statement | Example request |",
            "| --- | --- | --- | --- |",
        ]
        for finding in violated:
            lines += _property_rows(finding)
        lines.append("")

    failed = [f for f in findings if f.outcome in (Outcome.UNKNOWN, Outcome.INVALID)]
    if failed:
        lines += ["### Not proved", ""]
        for finding in failed:
            detail = finding.reason if finding.outcome is Outcome.UNKNOWN else "; ".join(finding.issues)
            lines.append(f"- {_code(finding.title)}: **{finding.outcome.value}**: {_escape(detail or '')}")
        lines.append("")

    noted = [f for f in findings if f.notes]
    if noted:
        lines += ["### Notes", ""]
        for finding in noted:
            lines += [f"- {_code(finding.title)}: {_escape(note)}" for note in finding.notes]
        lines.append("")
    lines += _accepted_lines(findings)

    removed = [f for f in findings if f.outcome is Outcome.REMOVED]
    if removed:
        lines += ["### Removed", ""]
        lines += [f"- {_code(f.location.label)}" for f in removed]
        lines.append("")

    proved = [f for f in findings if f.outcome is Outcome.PROVED]
    if proved:
        lines += [f"<details><summary>Proved ({len(proved)})</summary>", ""]
        lines += [f"- {_code(f.title)}" for f in proved]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def _property_rows(finding: Finding) -> list[str]:
    if finding.proof is not None:
        request = finding.proof.counterexample
        prop = f"{_code(finding.check)}: {_escape(finding.proof.explanation or '')}"
    else:
        request = finding.result.counterexample if finding.result is not None else None
        prop = f"{_code(finding.check)}: " + " or ".join(_code(text) for text in finding.denied_resources)
    example = request_summary(request) if request is not None else ""
    rows = []
    for statement in finding.responsible_statements:
        where = _code(statement.path)
        if statement.sid:
            where += f" (Sid {_code(statement.sid)})"
        if statement.line:
            where += f", line {statement.line}"
        rows.append(f"| {_code(finding.location.label)} | {prop} | {where} | {example} |")
        # The example request belongs to the first statement only.
        example = ""
    return rows


def _accepted_lines(findings: list[Finding]) -> list[str]:
    """Build the section that names the accepted changes that counted and those that expired."""
    lines = []
    for finding in findings:
        lines += [f"- {_code(finding.location.label)}: counted as allowed: {_escape(e.describe())}" for e in finding.accepted]
        lines += [f"- {_code(finding.location.label)}: **expired**, no longer counted: {_escape(e.describe())}" for e in finding.expired]
    return ["### Accepted changes", "", *lines, ""] if lines else []


def _new_access_rows(finding: Finding) -> list[str]:
    rows = []
    result = finding.result
    for statement in finding.responsible_statements:
        where = _code(statement.path)
        if statement.sid:
            where += f" (Sid {_code(statement.sid)})"
        if statement.line:
            where += f", line {statement.line}"
        actions = finding.actions_granted_by(statement)
        shown = ", ".join(_code(a) for a in actions[:MAX_ACTIONS_PER_ROW])
        if len(actions) > MAX_ACTIONS_PER_ROW:
            shown += f" and {len(actions) - MAX_ACTIONS_PER_ROW} more"
        example = ""
        if result is not None and result.counterexample is not None and any(
            s.index == statement.index for s in result.new_statements
        ):
            example = request_summary(result.counterexample)
        rows.append(f"| {_code(finding.location.label)} | {where} | {shown or 'no action AWS defines'} | {example} |")
    return rows


def request_summary(request: Request) -> str:
    """One-line Markdown of a request: action, resource, principal and context keys."""
    text = f"{_code(request.action)} on {_code(request.resource)}"
    if request.principal is not None:
        text += f" by {_code(request.principal)}"
    if request.context:
        pairs = []
        for key, value in request.context.items():
            shown = ", ".join(value) if isinstance(value, tuple) else value
            pairs.append(f"{_code(key)} = {_code(shown)}")
        text += " when " + "; ".join(pairs)
    return text


def _code(text: str) -> str:
    """Format text as inline code that survives a table cell: pipes are
    escaped, and a longer backtick fence encloses text that has backticks."""
    if not text:
        return "(empty)"
    text = text.replace("\n", " ").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _escape(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")
