"""Read CloudFormation templates in JSON or YAML, keeping source lines.

The YAML short forms of intrinsic functions (`!Ref`, `!Sub`, `!GetAtt`,
`!Join` and the others) are turned into their long JSON forms (`{"Ref": ...}`,
`{"Fn::Sub": ...}`), so that later stages see one form. Every mapping and
sequence remembers the 1-based line where it starts, in `line`.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from verifier.errors import Issue, PolicyError
from verifier.policy.parse import JsonNumber

# Short tags whose long form is `Fn::<Name>`; `!Ref` and `!Condition` keep
# their name.
_FUNCTION_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


class LineDict(dict):
    """A mapping of the template, with the line where it starts."""

    line: int | None = None


class LineList(list):
    """A sequence of the template, with the line where it starts."""

    line: int | None = None


class _TemplateLoader(yaml.SafeLoader):
    """Safe YAML loader for templates: short tags become long forms, numbers
    and dates keep their source text, and containers keep their line."""


def _construct_mapping(loader: _TemplateLoader, node: yaml.MappingNode) -> LineDict:
    value = LineDict(loader.construct_mapping(node, deep=True))
    value.line = node.start_mark.line + 1
    return value


def _construct_sequence(loader: _TemplateLoader, node: yaml.SequenceNode) -> LineList:
    value = LineList(loader.construct_sequence(node, deep=True))
    value.line = node.start_mark.line + 1
    return value


def _construct_node(loader: _TemplateLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return _construct_mapping(loader, node)
    if isinstance(node, yaml.SequenceNode):
        return _construct_sequence(loader, node)
    return loader.construct_scalar(node)


def _short_tag(name: str):
    def construct(loader: _TemplateLoader, node: yaml.Node) -> LineDict:
        argument = _construct_node(loader, node)
        if name == "Fn::GetAtt" and isinstance(argument, str):
            # `!GetAtt Bucket.Arn` is the short form of `["Bucket", "Arn"]`.
            logical_id, _, attribute = argument.partition(".")
            argument = [logical_id, attribute]
        value = LineDict({name: argument})
        value.line = node.start_mark.line + 1
        return value

    return construct


_TemplateLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_TemplateLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
for _tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
    _TemplateLoader.add_constructor(_tag, lambda loader, node: JsonNumber(loader.construct_scalar(node)))
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
_TemplateLoader.add_constructor("!Ref", _short_tag("Ref"))
_TemplateLoader.add_constructor("!Condition", _short_tag("Condition"))
_TemplateLoader.add_constructor("!GetAtt", _short_tag("Fn::GetAtt"))
for _name in _FUNCTION_TAGS:
    _TemplateLoader.add_constructor(f"!{_name}", _short_tag(f"Fn::{_name}"))


def parse_template(text: str, source: str) -> LineDict:
    """Parse template text; raise PolicyError when it is not a template."""
    try:
        value = yaml.load(text, Loader=_TemplateLoader)
    except yaml.YAMLError as error:
        if not text.lstrip().startswith("{"):
            raise PolicyError(source, [Issue("", f"invalid YAML template: {_yaml_problem(error)}")]) from None
        # JSON that PyYAML rejects (tabs, for example) is read without lines.
        try:
            value = json.loads(text, object_hook=LineDict, parse_int=JsonNumber, parse_float=JsonNumber)
        except json.JSONDecodeError as json_error:
            raise PolicyError(
                source, [Issue("", f"invalid JSON at line {json_error.lineno}, column {json_error.colno}: {json_error.msg}")]
            ) from None
    except RecursionError:
        raise PolicyError(source, [Issue("", "template is nested too deeply")]) from None
    if not isinstance(value, dict):
        raise PolicyError(source, [Issue("", "expected a CloudFormation template: a mapping with `Resources`")])
    resources = value.get("Resources")
    if not isinstance(resources, dict):
        raise PolicyError(source, [Issue("Resources", "missing or not a mapping; a template needs `Resources`")])
    return value if isinstance(value, LineDict) else LineDict(value)


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem}{where}"
