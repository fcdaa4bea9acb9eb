"""Render check results as text or as the JSON output contract.

The JSON shape is a stable interface that other tools parse:
`{"verdict", "reason", "counterexample", "new_statements", "old_statements"}`
for `check`, and `{"relation", "a_not_b", "b_not_a", "reason"}` for `compare`.
"""

from __future__ import annotations

from typing import Any

from verifier.check import CheckResult
from verifier.prove import ProveResult
from verifier.evaluate import Decision, Request
from verifier.policy.document import Statement
from verifier.solver import Verdict


def request_json(request: Request | None) -> dict[str, Any] | None:
    if request is None:
        return None
    context = {key: list(value) if isinstance(value, tuple) else value for key, value in request.context.items()}
    return {
        "principal": request.principal,
        "action": request.action,
        "resource": request.resource,
        "context": context,
    }


def statement_json(statement: Statement) -> dict[str, Any]:
    return {"index": statement.index, "sid": statement.sid, "path": statement.path, "line": statement.line}


def check_json(result: CheckResult) -> dict[str, Any]:
    return {
        "verdict": result.verdict.value,
        "reason": result.reason,
        "counterexample": request_json(result.counterexample),
        "new_statements": [statement_json(s) for s in result.new_statements],
        "old_statements": [statement_json(s) for s in result.old_statements],
        "notes": list(result.notes),
    }


def check_text(result: CheckResult, old_name: str, new_name: str) -> str:
    notes = [f"  note: {note}" for note in result.notes]
    if result.verdict is Verdict.PROVED:
        return "\n".join([f"PROVED: every request that {new_name} allows is also allowed by {old_name}.", *notes])
    if result.verdict is Verdict.UNKNOWN:
        return "\n".join([f"UNKNOWN: {result.reason}", *notes])
    lines = [f"REFUTED: {new_name} allows a request that {old_name} does not allow."]
    lines += request_lines(result.counterexample)
    lines += [f"  note: {note}" for note in result.notes]
    lines.append("  allowed in the new version by: " + ", ".join(s.label for s in result.new_statements))
    if result.old_statements:
        lines.append("  denied in the old version by: " + ", ".join(s.label for s in result.old_statements))
    else:
        lines.append("  the old version has no statement that allows it")
    return "\n".join(lines)


def request_lines(request: Request | None) -> list[str]:
    if request is None:
        return []
    lines = [
        f"  action:   {_printable(request.action)}",
        f"  resource: {_printable(request.resource)}",
    ]
    if request.principal is not None:
        lines.append(f"  principal: {_printable(request.principal)}")
    if request.context:
        lines.append("  context:")
        for key, value in request.context.items():
            shown = "[" + ", ".join(_quote(v) for v in value) + "]" if isinstance(value, tuple) else _quote(value)
            lines.append(f"    {key} = {shown}")
    else:
        lines.append("  context:  (no condition keys present)")
    return lines


def _printable(text: str) -> str:
    """Escape characters that a terminal cannot show, such as a lone surrogate."""
    return text if text.isprintable() else repr(text)[1:-1]


def _quote(value: str) -> str:
    return repr(value) if (not value or value != value.strip() or not value.isprintable()) else value


def decision_text(decision: Decision) -> str:
    if decision.allowed:
        return "ALLOWED by " + ", ".join(s.label for s in decision.allow_statements)
    if decision.explicit_deny:
        return "DENIED explicitly by " + ", ".join(s.label for s in decision.deny_statements)
    return "DENIED implicitly: no statement allows the request"


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "decision": _decision_name(decision),
        "allow_statements": [statement_json(s) for s in decision.allow_statements],
        "deny_statements": [statement_json(s) for s in decision.deny_statements],
    }


def _decision_name(decision: Decision) -> str:
    if decision.allowed:
        return "allowed"
    if decision.explicit_deny:
        return "explicitly_denied"
    return "implicitly_denied"


def prove_json(result: ProveResult) -> dict[str, Any]:
    return {
        "property": result.property.value,
        "verdict": result.verdict.value,
        "policy_kind": result.policy_kind,
        "reason": result.reason,
        "counterexample": request_json(result.counterexample),
        "explanation": result.explanation,
        "statements": [statement_json(s) for s in result.statements],
        "notes": list(result.notes),
    }


def prove_text(result: ProveResult, name: str) -> str:
    kind = "trust policy" if result.policy_kind == "trust" else "resource policy"
    prop = result.property.value
    notes = [f"  note: {note}" for note in result.notes]
    if result.verdict is Verdict.PROVED:
        return "\n".join([f"PROVED: {prop} holds for {name} ({kind}).", *notes])
    if result.verdict is Verdict.UNKNOWN:
        return "\n".join([f"UNKNOWN: {prop} for {name} ({kind}): {result.reason}", *notes])
    explanation = result.explanation or ""
    lines = [f"REFUTED: {name} ({kind}) allows a request that {prop} excludes: {explanation}."]
    lines += request_lines(result.counterexample)
    lines += notes
    lines.append("  allowed by: " + ", ".join(s.label for s in result.statements))
    return "\n".join(lines)
