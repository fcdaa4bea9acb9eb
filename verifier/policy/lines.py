"""Find the source line of each statement, for reports that point into a file.

Only documents written directly in the file get lines: a document embedded in
a string (URL-encoded CLI output, for example) has none.
"""

from __future__ import annotations

import yaml


def statement_lines(text: str) -> list[int] | None:
    """Return the 1-based line of each statement's opening, in order, or None
    when the statements cannot be located."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _json_statement_lines(text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    return _yaml_statement_lines(node)


def _json_statement_lines(text: str) -> list[int] | None:
    """Scan JSON text for the first `"Statement"` key and the objects of its value."""
    position = _find_key(text, '"Statement"')
    if position is None:
        return None
    position = text.index(":", position) + 1
    while position < len(text) and text[position].isspace():
        position += 1
    if position >= len(text):
        return None
    if text[position] == "{":
        return [text.count("\n", 0, position) + 1]
    if text[position] != "[":
        return None
    lines: list[int] = []
    depth = 0
    in_string = False
    index = position
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            if depth == 1 and char == "{":
                lines.append(text.count("\n", 0, index) + 1)
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return lines
        index += 1
    return None


def _find_key(text: str, key: str) -> int | None:
    """Position just after `key` used as an object key outside any string."""
    in_string = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            if text.startswith(key, index) and text[index + len(key) :].lstrip().startswith(":"):
                return index + len(key)
            in_string = True
        index += 1
    return None


def _yaml_statement_lines(node: yaml.Node | None) -> list[int] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "Statement":
            if isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
            return [value.start_mark.line + 1]
    for _, value in node.value:
        found = _yaml_statement_lines(value)
        if found is not None:
            return found
    return None
