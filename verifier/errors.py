"""Exception hierarchy of iamverify.

Every exception that reaches the command line carries its exit code, so the CLI
maps errors to the documented codes in one place: 2 for invalid input or usage,
3 for a verdict the tool cannot give (unsupported construct, timeout, internal
inconsistency).
"""

from __future__ import annotations

from dataclasses import dataclass


EXIT_PROVED = 0
EXIT_REFUTED = 1
EXIT_INVALID = 2
EXIT_UNKNOWN = 3


class VerifierError(Exception):
    """Base class of every error iamverify raises on purpose."""

    exit_code = EXIT_UNKNOWN


@dataclass(frozen=True)
class Issue:
    """One problem found in an input document, located by its JSON path."""

    path: str
    message: str

    def format(self, source: str) -> str:
        location = f"{source}: {self.path}" if self.path else source
        line = f"{location}: {self.message}"
        # Keys and values from the file may hold control characters; escape
        # them so that every issue stays on one line.
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


class PolicyError(VerifierError):
    """An input document is invalid; `issues` lists every problem found in it."""

    exit_code = EXIT_INVALID

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__("\n".join(issue.format(source) for issue in issues))


class UsageError(VerifierError):
    """A command-line argument is invalid."""

    exit_code = EXIT_INVALID


class UnsupportedFeatureError(VerifierError):
    """A policy construct that the encoding cannot represent exactly.

    Raising it makes the verdict UNKNOWN; the encoder never approximates.
    """

    exit_code = EXIT_UNKNOWN


class InternalError(VerifierError):
    """An inconsistency between the verifier's own components, such as a
    counterexample that the concrete evaluator does not confirm."""

    exit_code = EXIT_UNKNOWN
