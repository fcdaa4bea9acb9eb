"""Reports of a multi-policy run: text, JSON, SARIF 2.1.0, JUnit XML and
Markdown. Each `render_*` function takes a `Run` and returns the whole
report as one string."""

from __future__ import annotations

from typing import Callable

from verifier.findings import Run

FORMATS = ("text", "json", "sarif", "junit", "markdown")


def renderer(name: str) -> Callable[[Run], str]:
    """Return the render function of a format in `FORMATS`."""
    if name == "text":
        from verifier.formats.text import render_text

        return render_text
    if name == "json":
        from verifier.formats.json_report import render_json

        return render_json
    if name == "sarif":
        from verifier.formats.sarif import render_sarif

        return render_sarif
    if name == "junit":
        from verifier.formats.junit import render_junit

        return render_junit
    if name == "markdown":
        from verifier.formats.markdown import render_markdown

        return render_markdown
    raise ValueError(f"unknown report format `{name}`; valid formats are {', '.join(FORMATS)}")
