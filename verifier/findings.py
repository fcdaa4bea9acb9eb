"""The multi-policy run model behind `check --base`, `--terraform-plan` and
`--cloudformation`.

A source (a git diff, a Terraform plan, a pair of CloudFormation templates)
yields `PolicyChange`s, which pair an old and a new policy version. It also
yields the findings it decides without the solver: an invalid document, a
value known only after deployment, a removed policy. `run_changes` checks each change and
returns one `Finding` per policy. The run's exit code is the most severe
outcome: invalid input (2) before unknown (3) before refuted (1) before
proved or removed (0), so a CI build fails whenever any policy could not be
proved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable

from verifier.check import CheckResult, check_no_new_access
from verifier.errors import EXIT_INVALID, EXIT_PROVED, EXIT_REFUTED, EXIT_UNKNOWN, PolicyError, VerifierError
from verifier.new_access import NewAccessListing, list_new_access
from verifier.policy.document import PolicyDocument, Statement
from verifier.solver import Deadline, Verdict

logger = logging.getLogger(__name__)


class Outcome(str, Enum):
    """Result of one policy in a run, in increasing severity."""

    REMOVED = "removed"  # the policy no longer exists; nothing can be newly allowed
    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"
    INVALID = "invalid"


_SEVERITY = [Outcome.REMOVED, Outcome.PROVED, Outcome.REFUTED, Outcome.UNKNOWN, Outcome.INVALID]
_EXIT_CODES = {
    Outcome.REMOVED: EXIT_PROVED,
    Outcome.PROVED: EXIT_PROVED,
    Outcome.REFUTED: EXIT_REFUTED,
    Outcome.UNKNOWN: EXIT_UNKNOWN,
    Outcome.INVALID: EXIT_INVALID,
}


@dataclass(frozen=True)
class Location:
    """Where a policy comes from: a file, and inside it an optional line,
    resource (Terraform address or CloudFormation logical ID) and the
    attribute or property path that contains the document."""

    file: str
    line: int | None = None
    resource: str | None = None
    attribute: str | None = None

    @property
    def label(self) -> str:
        if self.resource is None:
            return self.file
        inside = f"{self.resource}.{self.attribute}" if self.attribute else self.resource
        return f"{inside} in {self.file}"


@dataclass
class PolicyChange:
    """An old and a new version of one policy, ready for the check.

    `old` is the empty policy for a policy that did not exist before.
    """

    location: Location
    old: PolicyDocument
    new: PolicyDocument
    old_name: str
    new_name: str
    renamed_from: str | None = None


@dataclass
class Finding:
    location: Location
    outcome: Outcome
    old_name: str | None = None
    new_name: str | None = None
    reason: str | None = None
    result: CheckResult | None = None
    listing: NewAccessListing | None = None
    # One line per problem of an invalid document, as `FILE: PATH: message`.
    issues: list[str] = field(default_factory=list)
    renamed_from: str | None = None

    @property
    def responsible_statements(self) -> list[Statement]:
        """Statements of the new version that grant new access: the one that
        allows the counterexample first, then those of the listing, each once."""
        found: dict[tuple[int, str | None], Statement] = {}
        if self.result is not None:
            for statement in self.result.new_statements:
                found.setdefault((statement.index, statement.sid), statement)
        if self.listing is not None:
            for entry in self.listing.entries:
                for statement in entry.statements:
                    found.setdefault((statement.index, statement.sid), statement)
        return list(found.values())

    def actions_granted_by(self, statement: Statement) -> list[str]:
        if self.listing is None:
            return []
        return [e.action for e in self.listing.entries if any(s.index == statement.index for s in e.statements)]


def invalid_finding(location: Location, error: PolicyError) -> Finding:
    return Finding(location, Outcome.INVALID, issues=[issue.format(error.source) for issue in error.issues])


def run_changes(
    items: Iterable[PolicyChange | Finding], timeout: float, known_actions_only: bool = False
) -> list[Finding]:
    """Check every change, each within `timeout` seconds, and return the
    findings in source order."""
    return [item if isinstance(item, Finding) else _check_change(item, timeout, known_actions_only) for item in items]


def _check_change(change: PolicyChange, timeout: float, known_actions_only: bool) -> Finding:
    finding = Finding(
        change.location,
        Outcome.UNKNOWN,
        old_name=change.old_name,
        new_name=change.new_name,
        renamed_from=change.renamed_from,
    )
    deadline = Deadline(timeout)
    try:
        result = check_no_new_access(change.old, change.new, timeout=timeout, known_actions_only=known_actions_only)
        finding.result = result
        finding.outcome = {Verdict.PROVED: Outcome.PROVED, Verdict.REFUTED: Outcome.REFUTED}.get(
            result.verdict, Outcome.UNKNOWN
        )
        finding.reason = result.reason
        if result.verdict is Verdict.REFUTED:
            remaining = max(0.1, deadline.remaining_ms() / 1000)
            finding.listing = list_new_access(change.old, change.new, timeout=remaining)
    except VerifierError as error:
        finding.outcome = Outcome.UNKNOWN if finding.result is None else finding.outcome
        finding.reason = f"{finding.reason + '; ' if finding.reason else ''}{error}"
    except RecursionError:
        finding.outcome = Outcome.UNKNOWN
        finding.reason = "the policy is nested too deeply to encode"
    except Exception as error:  # noqa: BLE001 - one failing policy must not hide the others
        logger.debug("internal error while checking %s", change.location.label, exc_info=True)
        finding.outcome = Outcome.UNKNOWN
        finding.reason = f"internal error: {type(error).__name__}: {error}"
    return finding


def worst_outcome(findings: list[Finding]) -> Outcome | None:
    if not findings:
        return None
    return max((f.outcome for f in findings), key=_SEVERITY.index)


def exit_code(findings: list[Finding]) -> int:
    """Exit code of a run: that of its most severe finding, 0 for no findings."""
    worst = worst_outcome(findings)
    return EXIT_PROVED if worst is None else _EXIT_CODES[worst]


def summary_line(findings: list[Finding], skipped: int = 0) -> str:
    counts = {outcome: sum(1 for f in findings if f.outcome is outcome) for outcome in Outcome}
    checked = len(findings) - counts[Outcome.REMOVED]
    parts = [f"{counts[o]} {o.value}" for o in (Outcome.PROVED, Outcome.REFUTED, Outcome.UNKNOWN, Outcome.INVALID)]
    line = f"{checked} {'policy' if checked == 1 else 'policies'} checked: {', '.join(parts)}"
    if counts[Outcome.REMOVED]:
        line += f"; {counts[Outcome.REMOVED]} removed"
    if skipped:
        line += f"; {skipped} {'file' if skipped == 1 else 'files'} skipped as not policies"
    return line


@dataclass
class Run:
    """Every finding of one command, and the files it passed over because
    they hold no policy."""

    findings: list[Finding]
    skipped: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return exit_code(self.findings)

    @property
    def summary(self) -> str:
        return summary_line(self.findings, len(self.skipped))
