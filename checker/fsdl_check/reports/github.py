"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` annotation per finding.

Escaping follows the runner's rules: in the message, ``%``, CR and LF are percent-encoded; in a property value
(file, title) ``:`` and ``,`` are as well, since they separate properties. Every other character that does not print
(ESC and the other controls, bidirectional overrides such as U+202E) is shown as its escape (``\\x1b``, ``\\u202e``):
a file name must not recolour the log or reorder what a reviewer reads.
"""

from __future__ import annotations

from fsdl_check.engine import Report
from fsdl_check.model import Finding, Severity
from fsdl_check.reports.common import safe

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(value: str) -> str:
    if not value.isprintable():
        value = "".join(c if c.isprintable() or c in "\r\n" else _visible(c) for c in value)
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _visible(char: str) -> str:
    """A character that does not print, as Python writes it in a string (`\\x1b`, `\\u202e`, `\\t`)."""
    return ascii(char)[1:-1]


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    props = []
    if finding.path != ".":  # a repository-level finding has no file to attach to
        props.append(f"file={escape_property(finding.display_path)}")
        if finding.line is not None:
            props.append(f"line={finding.line}")
            if finding.column is not None:
                props.append(f"col={finding.column}")
    props.append(f"title={escape_property(finding.code)}")
    return f"::{COMMANDS[finding.severity]} {','.join(props)}::{escape_data(safe(finding.message))}"


def render(report: Report) -> str:
    return "".join(annotation(f) + "\n" for f in report.findings)
