"""Read policy files and validate them into `PolicyDocument` models.

Validation collects every problem of a document before it fails, so that a
user fixes a file in one pass. Each problem names its JSON path, the value
found and what would be valid.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from verifier.errors import Issue, PolicyError
from verifier.policy.document import (
    VERSION_2008,
    VERSION_2012,
    Condition,
    Effect,
    PolicyDocument,
    Principal,
    Statement,
)
from verifier.policy.lines import statement_lines
from verifier.policy.operators import Family, OperatorSyntaxError, parse_operator
from verifier.policy.values import parse_bool, parse_date, parse_network, parse_number

_TOP_KEYS = ("Version", "Id", "Statement")
_STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
)
_PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")
# A service prefix is lowercase letters, digits and hyphens; IAM rejects a
# wildcard in it.
# The name part is not restricted further: AWS managed policies contain names
# such as `amplifybackend: *`, which the encoder reports as unsupported.
_ACTION = re.compile(r"^([A-Za-z0-9-]+):(.+)$")
_MAX_NESTING = 64


class JsonNumber(str):
    """A JSON number kept as its source text, so `1.50` is not read as `1.5`."""


def load_policy_file(path: str | Path) -> PolicyDocument:
    """Read and validate one policy file (JSON or YAML, bare or CLI-wrapped)."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise PolicyError(source, [Issue("", "file not found")]) from None
    except IsADirectoryError:
        raise PolicyError(source, [Issue("", "is a directory, expected a policy file")]) from None
    except OSError as error:
        raise PolicyError(source, [Issue("", f"cannot read file: {error.strerror}")]) from None
    return parse_policy_bytes(data, source)


def parse_policy_bytes(data: bytes, source: str = "<policy>") -> PolicyDocument:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PolicyError(
            source, [Issue("", f"invalid UTF-8 at byte {error.start}; save the file as UTF-8")]
        ) from None
    return parse_policy_text(text, source)


def parse_policy_text(text: str, source: str = "<policy>") -> PolicyDocument:
    """Parse JSON or YAML text, unwrap AWS CLI output, then validate."""
    value = _decode_document(text, source)
    value = _unwrap(value, source)
    document = validate_policy(value, source)
    lines = statement_lines(text)
    if lines is None or len(lines) != len(document.statements):
        return document
    statements = tuple(s.model_copy(update={"line": line}) for s, line in zip(document.statements, lines))
    return document.model_copy(update={"statements": statements})


def _decode_document(text: str, source: str) -> Any:
    stripped = text.lstrip()
    if not stripped:
        raise PolicyError(source, [Issue("", "file is empty, expected a policy document")])
    if stripped.startswith(("{", "[", '"')):
        value = _load_json(text, source)
        if isinstance(value, str):
            return _decode_embedded(value, source, "")
        return value
    if stripped.startswith("%7B") or stripped.startswith("%7b"):
        return _load_json(urllib.parse.unquote(stripped), source)
    try:
        value = yaml.load(text, Loader=_StrictYamlLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise PolicyError(source, [Issue("", f"invalid JSON or YAML{where}: {problem}")]) from None
    except RecursionError:
        raise PolicyError(source, [Issue("", "document is nested too deeply")]) from None
    if isinstance(value, str) and not isinstance(value, JsonNumber):
        return _decode_embedded(value, source, "")
    return value


def _load_json(text: str, source: str) -> Any:
    try:
        return json.loads(
            text,
            parse_int=JsonNumber,
            parse_float=JsonNumber,
            parse_constant=_reject_constant,
            object_pairs_hook=_reject_duplicates,
        )
    except json.JSONDecodeError as error:
        raise PolicyError(
            source,
            [Issue("", f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}")],
        ) from None
    except _DuplicateKey as error:
        raise PolicyError(source, [Issue("", f"duplicate key `{error.key}` in a JSON object")]) from None
    except RecursionError:
        raise PolicyError(source, [Issue("", "document is nested too deeply")]) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"`{name}` is not valid JSON", name, 0)


# Aliases let a short YAML file stand for a document of exponential size
# (the "billion laughs" pattern), which validation would walk value by value.
_MAX_YAML_VALUES = 1_000_000


class _StrictYamlLoader(yaml.SafeLoader):
    """Safe YAML loader that keeps numbers and dates as their source text,
    rejects duplicate and unhashable keys, as the JSON reader does, and
    rejects documents whose aliases expand to more than _MAX_YAML_VALUES values."""

    def construct_document(self, node: yaml.Node) -> Any:
        if _expanded_size(node, {}) > _MAX_YAML_VALUES:
            raise yaml.constructor.ConstructorError(
                None, None, f"aliases expand the document to more than {_MAX_YAML_VALUES:,} values", node.start_mark
            )
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, f"{_kind(key)} is not a valid mapping key", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key `{key}` in a mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, sizes: dict[int, float]) -> float:
    """Count the values of `node` with every alias expanded, counting each
    shared node once per use. A node that contains itself counts as infinite."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = math.inf
    size: float = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value)
    sizes[id(node)] = size
    return size


def _construct_scalar_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return JsonNumber(loader.construct_scalar(node))


for _tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
    _StrictYamlLoader.add_constructor(_tag, _construct_scalar_text)
_StrictYamlLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def _decode_embedded(text: str, source: str, path: str) -> Any:
    """Decode a document stored as a string, plain or URL-encoded, as AWS CLI
    commands such as `get-role` and `get-account-authorization-details` print."""
    candidate = text.strip()
    if candidate.startswith(("%7B", "%7b")):
        candidate = urllib.parse.unquote(candidate)
    if not candidate.startswith("{"):
        raise PolicyError(
            source, [Issue(path, f"expected a policy document object, found the string `{_clip(text)}`")]
        )
    return _load_json(candidate, source)


# Wrappers that AWS CLI output puts around a policy document, outermost first.
_WRAPPERS = (
    ("PolicyVersion", "Document"),
    ("Role", "AssumeRolePolicyDocument"),
    ("PolicyDocument",),
    ("AssumeRolePolicyDocument",),
    ("Policy",),
    ("Document",),
)


def _unwrap(value: Any, source: str) -> Any:
    if not isinstance(value, dict) or "Statement" in value:
        return value
    for wrapper in _WRAPPERS:
        inner: Any = value
        path: list[str] = []
        for key in wrapper:
            if not isinstance(inner, dict) or key not in inner:
                break
            inner = inner[key]
            path.append(key)
        else:
            if isinstance(inner, str):
                inner = _decode_embedded(inner, source, ".".join(path))
            return inner
    return value


def validate_policy(value: Any, source: str = "<policy>") -> PolicyDocument:
    """Validate a decoded document; raise PolicyError listing every problem."""
    issues: list[Issue] = []
    if _depth(value) > _MAX_NESTING:
        raise PolicyError(source, [Issue("", f"document is nested deeper than {_MAX_NESTING} levels")])
    if not isinstance(value, dict):
        raise PolicyError(
            source, [Issue("", f"expected a JSON object with a `Statement`, found {_kind(value)}")]
        )
    for key in value:
        if key not in _TOP_KEYS:
            issues.append(Issue(str(key), f"unknown key `{key}`; valid keys are {_list(_TOP_KEYS)}"))

    version = value.get("Version")
    if version is not None and version not in (VERSION_2012, VERSION_2008):
        issues.append(
            Issue("Version", f"invalid version `{_clip(version)}`; expected `{VERSION_2012}` or `{VERSION_2008}`")
        )
        version = None
    policy_id = value.get("Id")
    if policy_id is not None and not _is_text(policy_id):
        issues.append(Issue("Id", f"expected a string, found {_kind(policy_id)}"))
        policy_id = None

    statements: list[Statement] = []
    raw_statements = value.get("Statement")
    if raw_statements is None:
        issues.append(Issue("Statement", "missing `Statement`; add a statement object or a list of them"))
    elif isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
        single = True
    elif isinstance(raw_statements, list):
        single = False
        if not raw_statements:
            issues.append(Issue("Statement", "empty list; a policy needs at least one statement"))
    else:
        issues.append(Issue("Statement", f"expected an object or a list of objects, found {_kind(raw_statements)}"))
        raw_statements = None

    for index, raw in enumerate(raw_statements or []):
        path = "Statement" if single else f"Statement[{index}]"
        statement = _validate_statement(raw, index, path, version, issues)
        if statement is not None:
            statements.append(statement)

    if issues:
        raise PolicyError(source, issues)
    return PolicyDocument(version=version, id=policy_id, statements=tuple(statements), source=source)


def _validate_statement(
    raw: Any, index: int, path: str, version: str | None, issues: list[Issue]
) -> Statement | None:
    if not isinstance(raw, dict):
        issues.append(Issue(path, f"expected a statement object, found {_kind(raw)}"))
        return None
    start = len(issues)
    for key in raw:
        if key not in _STATEMENT_KEYS:
            issues.append(Issue(f"{path}.{key}", f"unknown key `{key}`; valid keys are {_list(_STATEMENT_KEYS)}"))

    sid = raw.get("Sid")
    if sid is not None and not _is_text(sid):
        issues.append(Issue(f"{path}.Sid", f"expected a string, found {_kind(sid)}"))
        sid = None

    effect = raw.get("Effect")
    if effect is None:
        issues.append(Issue(f"{path}.Effect", "missing `Effect`; expected `Allow` or `Deny`"))
    elif effect not in ("Allow", "Deny"):
        issues.append(Issue(f"{path}.Effect", f"invalid effect `{_clip(effect)}`; expected `Allow` or `Deny`"))

    actions = _pair(raw, "Action", "NotAction", path, issues, required=True)
    for key, values in actions.items():
        for i, action in enumerate(values or ()):
            if action is None:
                continue
            _check_action(action, f"{path}.{key}" + (f"[{i}]" if isinstance(raw[key], list) else ""), issues)

    has_principal = "Principal" in raw or "NotPrincipal" in raw
    resources = _pair(raw, "Resource", "NotResource", path, issues, required=not has_principal)
    for key, values in resources.items():
        for i, resource in enumerate(values or ()):
            if resource is None:
                continue
            if resource != "*" and not resource.startswith("arn:") and "${" not in resource:
                where = f"{path}.{key}" + (f"[{i}]" if isinstance(raw[key], list) else "")
                issues.append(Issue(where, f"invalid resource `{_clip(resource)}`; expected `*` or an ARN starting with `arn:`"))

    principals: dict[str, Principal | None] = {}
    if "Principal" in raw and "NotPrincipal" in raw:
        issues.append(Issue(f"{path}.NotPrincipal", "`Principal` and `NotPrincipal` cannot both appear in a statement"))
    for key in ("Principal", "NotPrincipal"):
        if key in raw:
            principals[key] = _validate_principal(raw[key], f"{path}.{key}", issues)

    conditions: tuple[Condition, ...] = ()
    if "Condition" in raw:
        conditions = _validate_conditions(raw["Condition"], f"{path}.Condition", version, issues)

    if len(issues) > start:
        return None
    return Statement(
        index=index,
        sid=sid,
        effect=Effect(effect),
        actions=actions.get("Action"),
        not_actions=actions.get("NotAction"),
        resources=resources.get("Resource"),
        not_resources=resources.get("NotResource"),
        principal=principals.get("Principal"),
        not_principal=principals.get("NotPrincipal"),
        conditions=conditions,
        version=version,
    )


def _pair(
    raw: dict[str, Any], positive: str, negative: str, path: str, issues: list[Issue], required: bool
) -> dict[str, tuple[str, ...] | None]:
    """Validate an element that comes as `X` or `NotX`, exactly one of them."""
    present = [key for key in (positive, negative) if key in raw]
    if len(present) == 2:
        issues.append(Issue(f"{path}.{negative}", f"`{positive}` and `{negative}` cannot both appear in a statement"))
    if not present and required:
        issues.append(Issue(path, f"missing `{positive}` or `{negative}`"))
    result: dict[str, tuple[str, ...] | None] = {}
    for key in present:
        result[key] = _string_list(raw[key], f"{path}.{key}", issues)
    return result


def _string_list(value: Any, path: str, issues: list[Issue]) -> tuple[str, ...] | None:
    if isinstance(value, str) and not isinstance(value, JsonNumber):
        items = [value]
        is_list = False
    elif isinstance(value, list):
        items = value
        is_list = True
        if not items:
            issues.append(Issue(path, "empty list; give at least one value"))
            return None
    else:
        issues.append(Issue(path, f"expected a string or a list of strings, found {_kind(value)}"))
        return None
    # Invalid items stay as None so that the other items keep their index
    # and are still checked; a statement with any issue is never built.
    result: list[str | None] = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]" if is_list else path
        if not _is_text(item):
            issues.append(Issue(where, f"expected a string, found {_kind(item)}"))
            result.append(None)
        elif item == "":
            issues.append(Issue(where, "empty string; give a non-empty value"))
            result.append(None)
        else:
            result.append(item)
    return tuple(result)  # type: ignore[return-value]


def _check_action(action: str, path: str, issues: list[Issue]) -> None:
    if action == "*":
        return
    match = _ACTION.match(action)
    if match is None:
        if ":" in action and any(c in action.split(":", 1)[0] for c in "*?"):
            issues.append(Issue(path, f"invalid action `{_clip(action)}`: a wildcard cannot appear in the service prefix"))
        else:
            issues.append(Issue(path, f"invalid action `{_clip(action)}`; expected `*` or `service:ActionName`, such as `s3:GetObject` or `s3:Get*`"))


def _validate_principal(value: Any, path: str, issues: list[Issue]) -> Principal | None:
    if value == "*":
        return Principal(wildcard=True)
    if not isinstance(value, dict):
        issues.append(Issue(path, f"expected `*` or an object with {_list(_PRINCIPAL_KEYS)}, found {_kind(value)}"))
        return None
    if not value:
        issues.append(Issue(path, f"empty object; give at least one of {_list(_PRINCIPAL_KEYS)}"))
        return None
    fields: dict[str, tuple[str, ...]] = {}
    ok = True
    for key, item in value.items():
        if key not in _PRINCIPAL_KEYS:
            issues.append(Issue(f"{path}.{key}", f"unknown principal type `{key}`; valid types are {_list(_PRINCIPAL_KEYS)}"))
            ok = False
            continue
        names = _string_list(item, f"{path}.{key}", issues)
        if names is None or None in names:
            ok = False
            continue
        fields[key] = names
    if not ok:
        return None
    return Principal(
        aws=fields.get("AWS", ()),
        service=fields.get("Service", ()),
        federated=fields.get("Federated", ()),
        canonical_user=fields.get("CanonicalUser", ()),
    )


def _validate_conditions(
    value: Any, path: str, version: str | None, issues: list[Issue]
) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        issues.append(Issue(path, f"expected an object mapping condition operators to keys, found {_kind(value)}"))
        return ()
    conditions: list[Condition] = []
    for operator_text, block in value.items():
        block_path = f"{path}.{operator_text}"
        try:
            operator = parse_operator(operator_text)
        except OperatorSyntaxError as error:
            issues.append(Issue(block_path, str(error)))
            continue
        if not isinstance(block, dict):
            issues.append(Issue(block_path, f"expected an object mapping condition keys to values, found {_kind(block)}"))
            continue
        if not block:
            issues.append(Issue(block_path, "empty object; give at least one condition key"))
            continue
        for key, raw_values in block.items():
            key_path = f"{block_path}.{key}"
            if not key or not isinstance(key, str):
                issues.append(Issue(key_path, "condition key must be a non-empty string"))
                continue
            values = _condition_values(raw_values, key_path, issues)
            if values is None:
                continue
            if all(_check_condition_value(operator.family, v, f"{key_path}" + (f"[{i}]" if isinstance(raw_values, list) else ""), version, issues) for i, v in enumerate(values)):
                conditions.append(Condition(operator=operator, key=key, values=values, path=key_path))
    return tuple(conditions)


def _condition_values(value: Any, path: str, issues: list[Issue]) -> tuple[str, ...] | None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        issues.append(Issue(path, "empty list; give at least one value"))
        return None
    result: list[str] = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]" if isinstance(value, list) else path
        if isinstance(item, bool):
            result.append("true" if item else "false")
        elif isinstance(item, str):
            result.append(str(item))
        elif isinstance(item, (int, float)):
            result.append(str(item))
        else:
            issues.append(Issue(where, f"expected a string, number or boolean, found {_kind(item)}"))
    return tuple(result) if len(result) == len(items) else None


def _check_condition_value(family: Family, value: str, path: str, version: str | None, issues: list[Issue]) -> bool:
    has_variable = version == VERSION_2012 and "${" in value
    problem = None
    if family is Family.NUMERIC and parse_number(value) is None:
        problem = "expected a number such as `10` or `2.5`"
    elif family is Family.DATE and parse_date(value) is None:
        problem = "expected an ISO 8601 date such as `2024-01-31T00:00:00Z` or epoch seconds"
    elif family is Family.BOOL and parse_bool(value) is None and not has_variable:
        problem = "expected `true` or `false`"
    elif family is Family.NULL and parse_bool(value) is None:
        problem = "expected `true` (key is absent) or `false` (key is present)"
    elif family is Family.IP and parse_network(value) is None:
        problem = "expected an IPv4 or IPv6 address or CIDR block such as `203.0.113.0/24`"
    if problem:
        issues.append(Issue(path, f"invalid value `{_clip(value)}`: {problem}"))
        return False
    return True


def _depth(value: Any, level: int = 0) -> int:
    if level > _MAX_NESTING:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and not isinstance(value, JsonNumber)


def _kind(value: Any) -> str:
    if isinstance(value, JsonNumber):
        return f"the number `{value}`"
    if isinstance(value, bool):
        return f"the boolean `{str(value).lower()}`"
    if value is None:
        return "`null`"
    if isinstance(value, str):
        return f"the string `{_clip(value)}`"
    if isinstance(value, (int, float)):
        return f"the number `{value}`"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _clip(value: Any, limit: int = 80) -> str:
    # Control characters are escaped so that each message stays on one line.
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _list(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)
