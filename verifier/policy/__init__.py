"""The IAM policy language: models, parsing and validation. Never imports z3."""

from verifier.policy.document import (
    EMPTY_POLICY,
    Condition,
    Effect,
    PolicyDocument,
    Principal,
    Statement,
)
from verifier.policy.parse import load_policy_file, parse_policy_text, validate_policy

__all__ = [
    "EMPTY_POLICY",
    "Condition",
    "Effect",
    "PolicyDocument",
    "Principal",
    "Statement",
    "load_policy_file",
    "parse_policy_text",
    "validate_policy",
]
