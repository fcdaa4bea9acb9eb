"""Checks of the config file's `[[properties]]` entries on one policy, as
findings of a multi-policy run.

`require` runs the proofs of `verifier.prove`. `deny_resources` checks whether
the policy allows some request whose resource matches one of the globs,
where `*` matches any characters including `:` and `/`. It is the
no-new-access query of `verifier.check` from the empty policy to the policy,
restricted to those resources. That question is exact, and its
counterexample is replayed through `verifier.evaluate` like any other.
"""

from __future__ import annotations

import logging

from verifier.check import check_no_new_access
from verifier.config import PropertyRule
from verifier.errors import UsageError, VerifierError
from verifier.findings import Finding, Location, Outcome
from verifier.new_access import list_new_access
from verifier.policy.document import EMPTY_POLICY, PolicyDocument
from verifier.prove import prove
from verifier.solver import Deadline, Verdict
from verifier.zone import Zone

logger = logging.getLogger(__name__)

DENY_RESOURCES = "deny-resources"

_OUTCOMES = {Verdict.PROVED: Outcome.PROVED, Verdict.REFUTED: Outcome.REFUTED, Verdict.UNKNOWN: Outcome.UNKNOWN}


def property_findings(
    location: Location, name: str, policy: PolicyDocument, rules: list[PropertyRule], zone: Zone, timeout: float
) -> list[Finding]:
    """Check every property that `rules` require of `policy`, each within
    `timeout` seconds, and return one finding per property."""
    findings = []
    for rule in rules:
        for prop in rule.require:
            finding = Finding(location, Outcome.UNKNOWN, new_name=name, check=prop.value, origin=rule.title)
            findings.append(_guarded(finding, lambda f, p=prop: _prove(f, policy, p, zone, timeout)))
        if rule.deny_resources:
            finding = Finding(location, Outcome.UNKNOWN, new_name=name, check=DENY_RESOURCES, origin=rule.title)
            findings.append(_guarded(finding, lambda f, r=rule: _deny_resources(f, policy, r.deny_resources, timeout)))
    return findings


def _guarded(finding: Finding, action) -> Finding:  # type: ignore[no-untyped-def]
    """Run one check, turning a failure into the finding's verdict so that
    it does not hide the other findings."""
    try:
        action(finding)
    except UsageError as error:
        finding.outcome = Outcome.INVALID
        finding.issues = [f"{finding.check} does not apply: {error}"]
    except VerifierError as error:
        finding.outcome = Outcome.UNKNOWN
        finding.reason = str(error)
    except RecursionError:
        finding.outcome = Outcome.UNKNOWN
        finding.reason = "the policy is nested too deeply to encode"
    except Exception as error:  # noqa: BLE001 - one failing check must not hide the others
        logger.debug("internal error while checking %s of %s", finding.check, finding.location.label, exc_info=True)
        finding.outcome = Outcome.UNKNOWN
        finding.reason = f"internal error: {type(error).__name__}: {error}"
    return finding


def _prove(finding: Finding, policy: PolicyDocument, prop, zone: Zone, timeout: float) -> None:  # type: ignore[no-untyped-def]
    result = prove(policy, prop, zone, timeout=timeout)
    finding.proof = result
    finding.outcome = _OUTCOMES[result.verdict]
    finding.reason = result.reason


def _deny_resources(finding: Finding, policy: PolicyDocument, globs: tuple[str, ...], timeout: float) -> None:
    deadline = Deadline(timeout)
    result = check_no_new_access(EMPTY_POLICY, policy, timeout=timeout, resource_globs=globs)
    finding.result = result
    finding.denied_resources = globs
    finding.outcome = _OUTCOMES[result.verdict]
    finding.reason = result.reason
    if result.verdict is Verdict.REFUTED:
        remaining = max(0.1, deadline.remaining_ms() / 1000)
        finding.listing = list_new_access(EMPTY_POLICY, policy, timeout=remaining, resource_globs=globs)
