"""SARIF 2.1.0 report of a run, for GitHub code scanning and other SARIF
viewers.

A refuted policy gives one `new-access` result per statement of the new
version that grants new access, located at that statement's line. A
violated property of the config file gives one result per statement that
allows the offending request, with the property as its rule. An
unknown verdict and an invalid document give one result each, at the
policy's location. Proved and removed policies give no result of their
own. Each note of a check, whatever its verdict, gives a `check-note`
result, a warning for a Deny that the new version dropped. A Terraform
resource has no line in the plan file, so its results carry the resource
address as a logical location. File paths are written as given, relative to
the working directory, which for code scanning must be the repository root.
An error that stops the run before any check, such as an unknown git
revision, is a failed invocation with the error as its notification.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import PurePath
from typing import Any

from verifier import __version__
from verifier.check import is_weakened_deny_note
from verifier.findings import NO_NEW_ACCESS, Finding, Location, Outcome, Run
from verifier.policy.document import Statement
from verifier.report import request_json

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# Actions named in a result's message; the `newlyAllowedActions` property
# keeps them all.
MAX_MESSAGE_ACTIONS = 20

_RULES = [
    {
        "id": "new-access",
        "name": "NewAccess",
        "shortDescription": {"text": "A policy change grants access that the old version did not grant"},
        "fullDescription": {
            "text": (
                "The new version of the policy allows at least one request that the old version does not "
                "allow. The result names the statement that grants it and a concrete request as evidence."
            )
        },
        "help": {
            "text": (
                "Narrow the statement so that it allows only what the old version allowed, or accept the "
                "new access deliberately in review."
            )
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "iam"], "security-severity": "7.0"},
    },
    {
        "id": "unknown-verdict",
        "name": "UnknownVerdict",
        "shortDescription": {"text": "The policy change could be neither proved nor refuted"},
        "fullDescription": {
            "text": (
                "No verdict was reached: the check timed out, the policy uses a construct the encoder "
                "cannot represent exactly, or a value is known only after deployment."
            )
        },
        "help": {"text": "Read the reason in the message; raise --timeout or make the value known before the check."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["iam"]},
    },
    {
        "id": "check-note",
        "name": "CheckNote",
        "shortDescription": {"text": "A check found something that its verdict does not show"},
        "fullDescription": {
            "text": (
                "A note of a check, whatever its verdict. A Deny statement that the new version dropped or "
                "narrowed is a warning, because other policies that it used to block now get through."
            )
        },
        "help": {"text": "Read the note; restore the Deny statement if the requests it names must stay blocked."},
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["iam"]},
    },
    {
        "id": "invalid-policy",
        "name": "InvalidPolicy",
        "shortDescription": {"text": "A policy document is invalid"},
        "fullDescription": {"text": "The document is not a valid IAM policy, so no access check was made."},
        "help": {"text": "Fix each listed problem at its JSON path."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["iam"]},
    },
]
_PROPERTY_RULES = {
    "no-external-access": ("NoExternalAccess", "A caller outside the zone of trust can assume the role or use the resource"),
    "no-public-access": ("NoPublicAccess", "An anonymous caller or an arbitrary account can assume the role or use the resource"),
    "no-confused-deputy": ("NoConfusedDeputy", "A service or an outside account can act for a party outside the zone of trust"),
    "deny-resources": ("DenyResources", "The policy allows a request on a resource that the config file denies to it"),
}
for _rule_id, (_name, _text) in _PROPERTY_RULES.items():
    _RULES.append(
        {
            "id": _rule_id,
            "name": _name,
            "shortDescription": {"text": _text},
            "fullDescription": {
                "text": (
                    "A [[properties]] entry of the config file requires this property of the policy file, and the "
                    "policy violates it. The result names the statement that allows the request and a concrete request."
                )
            },
            "help": {"text": "Narrow the statement, or change the [[properties]] entry if the access is intended."},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["security", "iam"], "security-severity": "7.0"},
        }
    )
_RULE_INDEX = {rule["id"]: index for index, rule in enumerate(_RULES)}


def render_sarif(run: Run) -> str:
    results: list[dict[str, Any]] = []
    for finding in run.findings:
        results.extend(finding_results(finding))
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "iamverify",
                        "version": __version__,
                        "rules": _RULES,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    if run.error is not None:
        log["runs"][0]["invocations"] = [
            {
                "executionSuccessful": False,
                "exitCode": run.exit_code,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": run.error}}],
            }
        ]
    return json.dumps(log, indent=2)


def finding_results(finding: Finding) -> list[dict[str, Any]]:
    results = _outcome_results(finding)
    notes = _config_notes(finding)
    for result in results:
        if notes:
            result["message"]["text"] += " " + " ".join(notes)
    for note in finding.notes:
        result = _result("check-note", f"{finding.title}: {note}.", finding.location, finding.location.line)
        result["level"] = "warning" if is_weakened_deny_note(note) else "note"
        results.append(result)
    return results


def _outcome_results(finding: Finding) -> list[dict[str, Any]]:
    if finding.outcome is Outcome.REFUTED:
        if finding.check != NO_NEW_ACCESS:
            return [_property_result(finding, statement) for statement in finding.responsible_statements]
        return [_new_access_result(finding, statement) for statement in finding.responsible_statements]
    if finding.outcome is Outcome.UNKNOWN:
        text = f"{finding.title}: no verdict: {finding.reason}"
        return [_result("unknown-verdict", text, finding.location, finding.location.line)]
    if finding.outcome is Outcome.INVALID:
        what = "invalid policy" if finding.check == NO_NEW_ACCESS else "invalid check"
        text = f"{finding.title}: {what}: " + "; ".join(finding.issues)
        return [_result("invalid-policy", text, finding.location, finding.location.line)]
    return []


def _config_notes(finding: Finding) -> list[str]:
    """Sentences naming the config entries behind a finding."""
    notes = []
    if finding.origin:
        notes.append(f"Required by {finding.origin}.")
    notes += [f"Counted as allowed: {entry.describe()}." for entry in finding.accepted]
    notes += [f"Expired, so no longer counted: {entry.describe()}." for entry in finding.expired]
    return notes


def _property_result(finding: Finding, statement: Statement) -> dict[str, Any]:
    """Build the result of a violated property, located at a statement that allows the request."""
    if finding.proof is not None:
        request = finding.proof.counterexample
        text = f"{statement.label} in {finding.location.label} violates {finding.check}: {finding.proof.explanation}."
    else:
        request = finding.result.counterexample if finding.result is not None else None
        globs = " or ".join(finding.denied_resources)
        text = f"{statement.label} in {finding.location.label} allows a request on a resource matching {globs}."
    if request is not None:
        text += f" For example: action {request.action} on {request.resource}."
    sarif_result = _result(finding.check, text, finding.location, statement.line or finding.location.line)
    if request is not None:
        sarif_result["properties"] = {"counterexample": request_json(request)}
    return sarif_result


def _new_access_result(finding: Finding, statement: Statement) -> dict[str, Any]:
    result = finding.result
    parts = [f"{statement.label} in {finding.location.label} allows requests that {finding.old_name} does not allow."]
    properties: dict[str, Any] = {}
    if result is not None and any(s.index == statement.index for s in result.new_statements):
        request = result.counterexample
        if request is not None:
            parts.append(f"For example: action {request.action} on {request.resource}.")
            properties["counterexample"] = request_json(request)
    actions = finding.actions_granted_by(statement)
    if actions:
        action_list = ", ".join(actions[:MAX_MESSAGE_ACTIONS])
        if len(actions) > MAX_MESSAGE_ACTIONS:
            action_list += f" and {len(actions) - MAX_MESSAGE_ACTIONS} more"
        parts.append(f"Newly allowed actions ({len(actions)}): {action_list}.")
        properties["newlyAllowedActions"] = actions
    sarif_result = _result("new-access", " ".join(parts), finding.location, statement.line or finding.location.line)
    if properties:
        sarif_result["properties"] = properties
    return sarif_result


def _result(rule_id: str, text: str, location: Location, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(location.file)}}
    if line is not None:
        physical["region"] = {"startLine": line}
    sarif_location: dict[str, Any] = {"physicalLocation": physical}
    if location.resource is not None:
        name = f"{location.resource}.{location.attribute}" if location.attribute else location.resource
        sarif_location["logicalLocations"] = [{"fullyQualifiedName": name, "kind": "resource"}]
    return {
        "ruleId": rule_id,
        "ruleIndex": _RULE_INDEX[rule_id],
        "level": "error",
        "message": {"text": text},
        "locations": [sarif_location],
    }


def artifact_uri(path: str) -> str:
    """Return a file path as a URI reference: relative paths stay relative."""
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + urllib.parse.quote(pure.as_posix())
    return urllib.parse.quote(pure.as_posix())
