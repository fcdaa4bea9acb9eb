"""Resolve CloudFormation intrinsic functions over values known offline.

Known values are the `--parameter NAME=VALUE` values (for template
parameters, pseudo parameters such as `AWS::AccountId`, a resource's `Ref`
as `LogicalId` and its `Fn::GetAtt` as `LogicalId.Attribute`), the
template's `Mappings`, and conditions built from them. `Ref`, `Fn::Sub`,
`Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::If` and
`Fn::GetAtt` are resolved over them, and `Ref: AWS::NoValue` removes the
property that contains it. A parameter's `Default` is not used, because a
deployment may override it.

Anything else stays unresolved: the result contains an `Unresolved` marker in
its place, which names the function, so that the caller can report it.
Intrinsic functions reference:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from verifier.sources.template import LineDict, LineList

PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
)
_NO_VALUE = "AWS::NoValue"
# `${Name}` or `${Logical.Attribute}` in `Fn::Sub`; `${!Text}` is the literal `${Text}`.
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Unresolved:
    """A value that cannot be known offline, such as `!GetAtt Bucket.Arn`,
    or an expression that CloudFormation itself would reject, such as a
    `Fn::FindInMap` of a missing entry (`template_error`)."""

    expression: str
    hint: str
    template_error: bool = False

    def __str__(self) -> str:
        return f"`{self.expression}`"


class _Removed:
    """The value of `Ref: AWS::NoValue`: the property is left out."""


REMOVED = _Removed()


class Resolver:
    def __init__(self, template: dict[str, Any], values: dict[str, str]) -> None:
        self.values = values
        self.parameters = template.get("Parameters") if isinstance(template.get("Parameters"), dict) else {}
        self.mappings = template.get("Mappings") if isinstance(template.get("Mappings"), dict) else {}
        self.conditions = template.get("Conditions") if isinstance(template.get("Conditions"), dict) else {}
        self.resources = template.get("Resources") if isinstance(template.get("Resources"), dict) else {}
        self._evaluating: set[str] = set()

    def resolve(self, value: Any) -> Any:
        """Return `value` with every intrinsic function resolved, or replaced
        by an `Unresolved` marker where it cannot be."""
        if isinstance(value, dict):
            if len(value) == 1:
                (name, argument), = value.items()
                if name == "Ref" or name == "Condition" or str(name).startswith("Fn::"):
                    return self._function(str(name), argument)
            result = LineDict()
            result.line = getattr(value, "line", None)
            for key, item in value.items():
                resolved = self.resolve(item)
                if resolved is not REMOVED:
                    result[key] = resolved
            return result
        if isinstance(value, list):
            items = LineList(r for r in (self.resolve(item) for item in value) if r is not REMOVED)
            items.line = getattr(value, "line", None)
            return items
        return value

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Ref":
            return self._ref(argument)
        if name == "Fn::GetAtt":
            return self._get_att(argument)
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::Join":
            return self._join(argument)
        if name == "Fn::Select":
            return self._select(argument)
        if name == "Fn::Split":
            return self._split(argument)
        if name == "Fn::FindInMap":
            return self._find_in_map(argument)
        if name == "Fn::If":
            return self._if(argument)
        return Unresolved(f"{name} {_short(argument)}", f"`{name}` is not evaluated offline")

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unresolved(f"Ref {_short(name)}", "`Ref` takes a name", template_error=True)
        if name == _NO_VALUE:
            return REMOVED
        if name in self.values:
            return self.values[name]
        if name in PSEUDO_PARAMETERS or name in self.parameters or name in self.resources:
            return Unresolved(f"Ref {name}", f"pass --parameter {name}=VALUE")
        return Unresolved(f"Ref {name}", f"`{name}` is not a parameter or resource of the template", template_error=True)

    def _get_att(self, argument: Any) -> Any:
        argument = self.resolve(argument)
        if isinstance(argument, list) and len(argument) == 2 and all(isinstance(a, str) for a in argument):
            name = f"{argument[0]}.{argument[1]}"
            if name in self.values:
                return self.values[name]
            return Unresolved(f"Fn::GetAtt {name}", f"pass --parameter {name}=VALUE")
        return Unresolved(f"Fn::GetAtt {_short(argument)}", "expected [LogicalId, Attribute]", template_error=True)

    def _sub(self, argument: Any) -> Any:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str) and isinstance(argument[1], dict):
            text, variables = argument[0], argument[1]
        else:
            return Unresolved(f"Fn::Sub {_short(argument)}", "expected a string or [string, {variables}]", template_error=True)
        missing: list[Unresolved] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = self.resolve(variables[name])
            elif "." in name and name not in self.values and name.split(".", 1)[0] in self.resources:
                value = self._get_att(name.split(".", 1))
            else:
                value = self._ref(name)
            if isinstance(value, Unresolved):
                missing.append(value)
                return match.group(0)
            if not isinstance(value, str):
                missing.append(Unresolved(f"${{{name}}}", "the value is not a string"))
                return match.group(0)
            return value

        result = _SUB_VARIABLE.sub(replace, text)
        if missing:
            hints = "; ".join(f"{m.expression}: {m.hint}" for m in missing)
            return Unresolved(f"Fn::Sub {_short(text)}", hints, template_error=any(m.template_error for m in missing))
        return result

    def _join(self, argument: Any) -> Any:
        argument = self.resolve(argument)
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            return _first_unresolved(argument) or Unresolved(f"Fn::Join {_short(argument)}", "expected [delimiter, [values]]", template_error=True)
        delimiter, items = argument
        if not isinstance(items, list):
            return _first_unresolved(items) or Unresolved(f"Fn::Join {_short(argument)}", "expected a list of values", template_error=True)
        unresolved = _first_unresolved(items)
        if unresolved is not None:
            return unresolved
        if not all(isinstance(item, str) for item in items):
            return Unresolved(f"Fn::Join {_short(argument)}", "every joined value must be a string", template_error=True)
        return delimiter.join(items)

    def _select(self, argument: Any) -> Any:
        argument = self.resolve(argument)
        unresolved = _first_unresolved(argument)
        if unresolved is not None:
            return unresolved
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
            try:
                return argument[1][int(str(argument[0]))]
            except (ValueError, IndexError):
                pass
        return Unresolved(f"Fn::Select {_short(argument)}", "expected [index, [values]] with the index in range", template_error=True)

    def _split(self, argument: Any) -> Any:
        argument = self.resolve(argument)
        unresolved = _first_unresolved(argument)
        if unresolved is not None:
            return unresolved
        if isinstance(argument, list) and len(argument) == 2 and all(isinstance(a, str) for a in argument) and argument[0]:
            return LineList(argument[1].split(argument[0]))
        return Unresolved(f"Fn::Split {_short(argument)}", "expected [delimiter, string]", template_error=True)

    def _find_in_map(self, argument: Any) -> Any:
        argument = self.resolve(argument)
        unresolved = _first_unresolved(argument)
        if unresolved is not None:
            return unresolved
        if isinstance(argument, list) and len(argument) == 3:
            value: Any = self.mappings
            for key in argument:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                return self.resolve(value)
        return Unresolved(f"Fn::FindInMap {_short(argument)}", "no such entry in `Mappings`", template_error=True)

    def _if(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
            return Unresolved(f"Fn::If {_short(argument)}", "expected [condition, value if true, value if false]", template_error=True)
        decided = self.condition(argument[0])
        if isinstance(decided, Unresolved):
            return decided
        return self.resolve(argument[1] if decided else argument[2])

    def condition(self, name: str) -> bool | Unresolved:
        """Evaluate a condition of the template's `Conditions` section."""
        if name not in self.conditions or name in self._evaluating:
            return Unresolved(f"Condition {name}", "no such condition, or it refers to itself", template_error=True)
        self._evaluating.add(name)
        try:
            return self._condition_value(self.conditions[name])
        finally:
            self._evaluating.discard(name)

    def _condition_value(self, value: Any) -> bool | Unresolved:
        if isinstance(value, dict) and len(value) == 1:
            (name, argument), = value.items()
            if name == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if name == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
                left, right = self.resolve(argument[0]), self.resolve(argument[1])
                unresolved = _first_unresolved([left, right])
                return unresolved if unresolved is not None else str(left) == str(right)
            if name in ("Fn::And", "Fn::Or", "Fn::Not") and isinstance(argument, list):
                parts = [self._condition_value(part) for part in argument]
                unresolved = next((p for p in parts if isinstance(p, Unresolved)), None)
                if unresolved is not None:
                    return unresolved
                if name == "Fn::And":
                    return all(parts)
                if name == "Fn::Or":
                    return any(parts)
                if len(parts) == 1:
                    return not parts[0]
        return Unresolved(f"condition {_short(value)}", "expected Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition", template_error=True)


def _first_unresolved(value: Any) -> Unresolved | None:
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, list):
        return next((u for u in (_first_unresolved(item) for item in value) if u is not None), None)
    if isinstance(value, dict):
        return next((u for u in (_first_unresolved(item) for item in value.values()) if u is not None), None)
    return None


def unresolved_values(value: Any) -> list[Unresolved]:
    """List every `Unresolved` marker inside a resolved value."""
    if isinstance(value, Unresolved):
        return [value]
    if isinstance(value, list):
        return [u for item in value for u in unresolved_values(item)]
    if isinstance(value, dict):
        return [u for item in value.values() for u in unresolved_values(item)]
    return []


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
