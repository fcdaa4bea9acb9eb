"""Pydantic models of an IAM policy document after validation.

The models are normalized: every element that IAM accepts as a string or a
list is a tuple here, condition values are strings (JSON numbers and booleans
keep their text), and each statement records its index and JSON path. Grammar:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict

from verifier.policy.operators import Operator
from verifier.policy.pattern import Pattern, parse_pattern

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"


class Effect(str, Enum):
    ALLOW = "Allow"
    DENY = "Deny"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class Principal(_Frozen):
    """A `Principal` or `NotPrincipal` element.

    `wildcard` is true for `"*"`; `{"AWS": "*"}` keeps `"*"` in `aws`.
    """

    wildcard: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()

    def is_everyone(self) -> bool:
        """True for `"*"` and `{"AWS": "*"}`, which both match every caller."""
        return self.wildcard or (
            self.aws == ("*",) and not (self.service or self.federated or self.canonical_user)
        )


class Condition(_Frozen):
    """One operator applied to one key with one or more values."""

    operator: Operator
    key: str
    values: tuple[str, ...]
    path: str

    @property
    def key_name(self) -> str:
        """The key in lowercase: condition key names are case-insensitive."""
        return self.key.lower()


class Statement(_Frozen):
    index: int
    sid: str | None = None
    effect: Effect
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principal: Principal | None = None
    not_principal: Principal | None = None
    conditions: tuple[Condition, ...] = ()
    version: str | None = None
    # Line of the statement's opening brace in the source file, when known.
    line: int | None = None

    @property
    def path(self) -> str:
        return f"Statement[{self.index}]"

    @property
    def label(self) -> str:
        """Human-readable name: the Sid when present, else the JSON path."""
        label = f"{self.path} (Sid {self.sid!r})" if self.sid else self.path
        return f"{label} at line {self.line}" if self.line else label

    @property
    def substitutes_variables(self) -> bool:
        return self.version == VERSION_2012

    def resource_patterns(self, negated: bool = False) -> tuple[Pattern, ...] | None:
        texts = self.not_resources if negated else self.resources
        if texts is None:
            return None
        return tuple(
            parse_pattern(text, variables=self.substitutes_variables, wildcards=True)
            for text in texts
        )

    def condition_pattern(self, value: str, wildcards: bool) -> Pattern:
        return parse_pattern(value, variables=self.substitutes_variables, wildcards=wildcards)


class PolicyDocument(_Frozen):
    version: str | None = None
    id: str | None = None
    statements: tuple[Statement, ...]
    source: str = "<policy>"

    @property
    def allow_statements(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.effect is Effect.ALLOW)

    @property
    def deny_statements(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.effect is Effect.DENY)

    @property
    def names_principals(self) -> bool:
        """Whether a statement has a Principal or NotPrincipal element, as
        trust and resource policies do and identity policies do not."""
        return any(s.principal is not None or s.not_principal is not None for s in self.statements)


EMPTY_POLICY = PolicyDocument(version=VERSION_2012, statements=(), source="<empty policy>")
