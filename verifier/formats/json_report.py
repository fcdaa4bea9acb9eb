"""JSON report of a run: `{"findings": [...], "summary": {...}}`.

Each finding carries `location` (`file`, `line`, `resource`, `attribute`),
`property` (`no-new-access` for a change, else the property of a config
entry named in `origin`), `outcome`, the names of both versions, `reason`,
`issues` for an invalid document, and for a checked policy the same `check`
object and `new_access` list that `iamverify check OLD NEW --format json` prints. A property check
carries `proof` (the `prove` JSON object) or, for `deny-resources`,
`denied_resources` and the query's `check` object. `accepted` and `expired`
list the config's accepted changes that counted or had expired. `error` is
the message of an error that stopped the run before any check, else null.
"""

from __future__ import annotations

import json
from typing import Any

from verifier.findings import Finding, Outcome, Run
from verifier.report import check_json, prove_json


def render_json(run: Run) -> str:
    counts = {outcome.value: sum(1 for f in run.findings if f.outcome is outcome) for outcome in Outcome}
    payload = {
        "findings": [finding_json(finding) for finding in run.findings],
        "skipped": list(run.skipped),
        "summary": {**counts, "exit_code": run.exit_code, "text": run.summary},
        "error": run.error,
    }
    return json.dumps(payload, indent=2)


def finding_json(finding: Finding) -> dict[str, Any]:
    location = finding.location
    listing = finding.listing
    return {
        "location": {
            "file": location.file,
            "line": location.line,
            "resource": location.resource,
            "attribute": location.attribute,
        },
        "property": finding.check,
        "origin": finding.origin,
        "outcome": finding.outcome.value,
        "old": finding.old_name,
        "new": finding.new_name,
        "renamed_from": finding.renamed_from,
        "reason": finding.reason,
        "issues": list(finding.issues),
        "check": check_json(finding.result) if finding.result is not None else None,
        "proof": prove_json(finding.proof) if finding.proof is not None else None,
        "denied_resources": list(finding.denied_resources),
        "accepted": [entry.to_json() for entry in finding.accepted],
        "expired": [entry.to_json() for entry in finding.expired],
        "new_access": [entry.to_json() for entry in listing.entries] if listing else [],
        "new_access_complete": bool(listing and listing.complete and not listing.undecided) if listing else None,
    }
