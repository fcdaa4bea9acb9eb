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
from typing import TYPE_CHECKING, Iterable

from verifier.check import CheckResult, check_no_new_access
from verifier.errors import EXIT_INVALID, EXIT_PROVED, EXIT_REFUTED, EXIT_UNKNOWN, PolicyError, VerifierError
from verifier.new_access import NewAccessListing, list_new_access
from verifier.policy.document import PolicyDocument, Statement
from verifier.solver import Deadline, Verdict

if TYPE_CHECKING:
    from verifier.config import AcceptedChange
    from verifier.prove import ProveResult

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


# The check of a policy change; the properties of the config file name the others.
NO_NEW_ACCESS = "no-new-access"


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
    # `no-new-access` for a change, or the property of a config entry.
    check: str = NO_NEW_ACCESS
    # The config entry that requires the property, such as
    # `properties[0] in .iamverify.toml`.
    origin: str | None = None
    # Verdict of a property of a role trust or resource policy.
    proof: ProveResult | None = None
    # Resource globs that a `deny-resources` check keeps the policy off.
    denied_resources: tuple[str, ...] = ()
    # Accepted changes that counted as allowed in the check, and those that
    # match the file but have expired.
    accepted: list[AcceptedChange] = field(default_factory=list)
    expired: list[AcceptedChange] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The location, followed by the property for a property check."""
        if self.check == NO_NEW_ACCESS:
            return self.location.label
        return f"{self.location.label}: {self.check}"

    @property
    def notes(self) -> list[str]:
        """Notes of the check or proof, such as a Deny that the new version
        dropped, which the verdict alone does not show."""
        notes = list(self.result.notes) if self.result is not None else []
        if self.proof is not None:
            notes += [note for note in self.proof.notes if note not in notes]
        return notes

    @property
    def responsible_statements(self) -> list[Statement]:
        """Statements of the new version that grant new access: the one that
        allows the counterexample first, then those of the listing, each once."""
        found: dict[tuple[int, str | None], Statement] = {}
        if self.proof is not None:
            for statement in self.proof.statements:
                found.setdefault((statement.index, statement.sid), statement)
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
    return [item if isinstance(item, Finding) else check_change(item, timeout, known_actions_only) for item in items]


def check_change(
    change: PolicyChange,
    timeout: float,
    known_actions_only: bool = False,
    accepted: list[AcceptedChange] | None = None,
    expired: list[AcceptedChange] | None = None,
) -> Finding:
    """Check one change within `timeout` seconds. Requests that an entry of
    `accepted` allows do not count as new access. The finding names the
    entries only when the check without them finds new access, and it
    reports the `expired` entries without using them."""
    finding = Finding(
        change.location,
        Outcome.UNKNOWN,
        old_name=change.old_name,
        new_name=change.new_name,
        renamed_from=change.renamed_from,
        expired=list(expired or []),
    )
    deadline = Deadline(timeout)
    try:
        result = check_no_new_access(change.old, change.new, timeout=timeout, known_actions_only=known_actions_only)
        accepted_policy = None
        if result.verdict is Verdict.REFUTED and accepted:
            from verifier.config import union_of

            accepted_policy = union_of(accepted)
            remaining = max(0.1, deadline.remaining_ms() / 1000)
            result = check_no_new_access(
                change.old, change.new, timeout=remaining, known_actions_only=known_actions_only, accepted=accepted_policy
            )
            finding.accepted = list(accepted)
            labels = " and ".join(entry.title for entry in accepted)
            finding.old_name = f"{change.old_name} or {labels}"
        finding.result = result
        finding.outcome = {Verdict.PROVED: Outcome.PROVED, Verdict.REFUTED: Outcome.REFUTED}.get(
            result.verdict, Outcome.UNKNOWN
        )
        finding.reason = result.reason
        if result.verdict is Verdict.REFUTED:
            remaining = max(0.1, deadline.remaining_ms() / 1000)
            finding.listing = list_new_access(change.old, change.new, timeout=remaining, accepted=accepted_policy)
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
    changes = [f for f in findings if f.check == NO_NEW_ACCESS]
    properties = [f for f in findings if f.check != NO_NEW_ACCESS]
    counts = _counts(changes)
    checked = len(changes) - counts[Outcome.REMOVED]
    sections = []
    if changes or not properties:
        sections.append(f"{checked} {'policy' if checked == 1 else 'policies'} checked: {_verdict_counts(counts)}")
    if counts[Outcome.REMOVED]:
        sections.append(f"{counts[Outcome.REMOVED]} removed")
    if properties:
        noun = "property check" if len(properties) == 1 else "property checks"
        sections.append(f"{len(properties)} {noun}: {_verdict_counts(_counts(properties))}")
    line = "; ".join(sections)
    if skipped:
        line += f"; {skipped} {'file' if skipped == 1 else 'files'} skipped as not policies"
    return line


def _counts(findings: list[Finding]) -> dict[Outcome, int]:
    return {outcome: sum(1 for f in findings if f.outcome is outcome) for outcome in Outcome}


def _verdict_counts(counts: dict[Outcome, int]) -> str:
    return ", ".join(f"{counts[o]} {o.value}" for o in (Outcome.PROVED, Outcome.REFUTED, Outcome.UNKNOWN, Outcome.INVALID))


@dataclass
class Run:
    """Every finding of one command, and the files it passed over because
    they hold no policy."""

    findings: list[Finding]
    skipped: list[str] = field(default_factory=list)
    # The message of an error that stopped the run before any policy was
    # checked, such as a usage error or an unknown git revision, and its
    # exit code. Reports still get written, so that CI steps reading them
    # find a file that names the error.
    error: str | None = None
    error_exit_code: int = 2

    @property
    def exit_code(self) -> int:
        return self.error_exit_code if self.error is not None else exit_code(self.findings)

    @property
    def summary(self) -> str:
        if self.error is not None:
            return f"no policy was checked: {self.error}"
        return summary_line(self.findings, len(self.skipped))
