"""Report formats, one module each. Every renderer turns a finished `Report` into a string; none reads a file.

Shared helpers live in `common`; the catalogue (`--list-rules`, `--explain`) and `--statistics` have their own
modules.
"""

from __future__ import annotations

from fsdl_check.engine import Report

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "markdown")


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """The report in format `fmt` (one of FORMATS). Only the text format uses `color`."""
    # Imported on demand: a run renders one format.
    if fmt == "text":
        from fsdl_check.reports import text

        return text.render(report, color=color)
    if fmt == "concise":
        from fsdl_check.reports import concise

        return concise.render(report)
    if fmt == "json":
        from fsdl_check.reports import json

        return json.render(report)
    if fmt == "sarif":
        from fsdl_check.reports import sarif

        return sarif.render(report)
    if fmt == "github":
        from fsdl_check.reports import github

        return github.render(report)
    if fmt == "gitlab":
        from fsdl_check.reports import gitlab

        return gitlab.render(report)
    if fmt == "junit":
        from fsdl_check.reports import junit

        return junit.render(report)
    if fmt == "markdown":
        from fsdl_check.reports import markdown

        return markdown.render(report)
    raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
