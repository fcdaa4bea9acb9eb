"""Fixtures shared by the test modules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PolicyWriter = Callable[[str, Any], str]


@pytest.fixture
def write_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PolicyWriter:
    """Return a function that writes a policy file into the working directory.

    The working directory is a fresh temporary one, so the file name that the
    function returns is also the name that the CLI prints in its messages.
    A dict or list is written as JSON, a string as it is.
    """
    monkeypatch.chdir(tmp_path)

    def write(name: str, content: Any) -> str:
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        (tmp_path / name).write_text(text, encoding="utf-8")
        return name

    return write
