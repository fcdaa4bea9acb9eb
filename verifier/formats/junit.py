"""JUnit XML report of a run, for CI dashboards: one test case per policy
and per property that the config file requires of it.

A refuted policy is a `<failure>`; an unknown verdict and an invalid
document are `<error>`s, because no verdict was reached; a removed policy is
`<skipped>`. A run stopped by an error before any check is one test case
in error.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import click

from verifier.findings import NO_NEW_ACCESS, Finding, Outcome, Run
from verifier.formats.text import finding_text


def render_junit(run: Run) -> str:
    findings = run.findings
    if run.error is not None:
        return _error_report(run.error)
    suite = ET.Element(
        "testsuite",
        {
            "name": "iamverify",
            "tests": str(len(findings)),
            "failures": str(sum(1 for f in findings if f.outcome is Outcome.REFUTED)),
            "errors": str(sum(1 for f in findings if f.outcome in (Outcome.UNKNOWN, Outcome.INVALID))),
            "skipped": str(sum(1 for f in findings if f.outcome is Outcome.REMOVED)),
        },
    )
    for finding in findings:
        suite.append(_test_case(finding))
    root = ET.Element("testsuites", {"name": "iamverify"})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _error_report(message: str) -> str:
    """Build a report of one test case in error, for a run that stopped
    before any policy was checked."""
    suite = ET.Element("testsuite", {"name": "iamverify", "tests": "1", "failures": "0", "errors": "1", "skipped": "0"})
    case = ET.SubElement(suite, "testcase", {"classname": "iamverify.run", "name": "iamverify"})
    _child(case, "error", "no policy was checked", "error", message)
    root = ET.Element("testsuites", {"name": "iamverify"})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _test_case(finding: Finding) -> ET.Element:
    location = finding.location
    classname = "iamverify." + ("file" if location.resource is None else "resource")
    case = ET.Element("testcase", {"classname": classname, "name": finding.title})
    details = click.unstyle(finding_text(finding))
    if finding.outcome is Outcome.REFUTED and finding.check != NO_NEW_ACCESS:
        _child(case, "failure", f"the policy violates {finding.check}", "refuted", details)
    elif finding.outcome is Outcome.REFUTED:
        _child(case, "failure", "the new version grants access that the old version does not", "refuted", details)
    elif finding.outcome is Outcome.UNKNOWN:
        _child(case, "error", finding.reason or "no verdict", "unknown", details)
    elif finding.outcome is Outcome.INVALID:
        _child(case, "error", "invalid policy document", "invalid", details)
    elif finding.outcome is Outcome.REMOVED:
        ET.SubElement(case, "skipped", {"message": "the policy was removed"})
    if finding.notes:
        output = ET.SubElement(case, "system-out")
        output.text = _xml_text("\n".join(f"note: {note}" for note in finding.notes))
    return case


def _child(case: ET.Element, tag: str, message: str, kind: str, details: str) -> None:
    element = ET.SubElement(case, tag, {"message": _xml_text(message), "type": kind})
    element.text = _xml_text(details)


# Characters that XML 1.0 does not allow, even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Escape the characters that XML cannot hold, such as NUL in a solver's
    counterexample, as `\\xNN`."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
