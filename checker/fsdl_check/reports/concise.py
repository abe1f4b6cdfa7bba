"""One finding per line, ``path:line:col: CODE message``, the shape editors and `grep` understand (like ruff's)."""

from __future__ import annotations

from fsdl_check.engine import Report
from fsdl_check.reports.common import describe_counts, one_line


def render(report: Report) -> str:
    findings = report.findings
    # A whole-file finding points at the file's first line so that editors can still jump to it.
    lines = [
        f"{one_line(f.display_path)}:{f.line or 1}:{f.column or 1}: {f.code} {one_line(f.message)}" for f in findings
    ]
    lines.append(f"Found {describe_counts(findings)}." if findings else "All selected checks passed.")
    return "\n".join(lines) + "\n"
