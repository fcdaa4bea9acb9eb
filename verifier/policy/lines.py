"""Find the source line of each statement, for reports that point into a file.

Only documents written directly in the file get lines: a document embedded in
a string (URL-encoded CLI output, for example) has none.
"""

from __future__ import annotations

import re
from typing import Iterator

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
    # Lines are counted as the scan goes, so a long file is read once.
    line = text.count("\n", 0, position) + 1
    counted = position
    for index, char in _outside_strings(text, position):
        if char in "[{":
            if depth == 1 and char == "{":
                line += text.count("\n", counted, index)
                counted = index
                lines.append(line)
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return lines
    return None


_COLON_AHEAD = re.compile(r"\s*:")


def _find_key(text: str, key: str) -> int | None:
    """Return the position just after `key` used as an object key."""
    for index, char in _outside_strings(text, 0):
        if char == '"' and text.startswith(key, index) and _COLON_AHEAD.match(text, index + len(key)):
            return index + len(key)
    return None


def _outside_strings(text: str, start: int) -> Iterator[tuple[int, str]]:
    """Yield the characters of JSON text outside string literals, with the
    opening quote of each string."""
    in_string = False
    index = start
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        else:
            if char == '"':
                in_string = True
            yield index, char
        index += 1


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
