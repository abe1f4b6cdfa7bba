"""The terminal report: findings grouped by area, a score table, and how to suppress or fix.

Text from the repository (paths, messages) is printed as plain text on one line, with control characters replaced,
so no terminal escape sequence in a file name can change the output. The score table is laid out here too, in
plain columns, without a terminal library (importing rich, which drew it before, took about 45 ms of every run).
"""

from __future__ import annotations

import io

from fsdl_check.engine import Report, RuleResult
from fsdl_check.model import Area, Severity, Status
from fsdl_check.reports.common import EXPLAIN_HINT, SUPPRESS_HINT, describe_counts, location, one_line, percent, plural

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
# ANSI codes for the styles (the table's too): every line is written directly.
SGR = {
    "bold": "1", "dim": "2", "bold red": "1;31", "red": "31", "yellow": "33", "blue": "34", "bold cyan": "1;36",
    "bold underline": "1;4", "bold green": "1;32",
}  # fmt: skip
CONFIG_IGNORE = "ignored in configuration"


class _Writer:
    def __init__(self, buffer: io.StringIO, color: bool) -> None:
        self.buffer = buffer
        self.color = color

    def paint(self, text: str, style: str) -> str:
        return f"\x1b[{SGR[style]}m{text}\x1b[0m" if self.color else text

    def line(self, *parts: str) -> None:
        self.buffer.write("".join(parts) + "\n")


def render(report: Report, *, color: bool = False) -> str:
    """The report as text, with ANSI colours when `color`. No line is wrapped: each finding stays one line, for grep
    and for editors that jump to `path:line`."""
    buffer = io.StringIO()
    out = _Writer(buffer, color)
    _header(out, report)
    _findings(out, report)
    _ignored(out, report)
    _scores(out, report)
    _summary(out, report)
    return buffer.getvalue()


def _header(out: _Writer, report: Report) -> None:
    out.line(
        out.paint(f"fsdl-check {report.version}", "bold"),
        f"  {one_line(str(report.root))}  ·  {report.kind.value} project ({one_line(report.kind_reason)})  ·  ",
        f"{plural(report.files, 'file')}  ·  {report.duration_s:.2f}s",
    )


def _findings(out: _Writer, report: Report) -> None:
    failed = [r for r in report.results if r.findings]
    for area in Area:
        in_area = [r for r in failed if r.rule.area() is area]
        if not in_area:
            continue
        out.line()
        out.line(out.paint(f"{area.title} ({area.prefix})", "bold underline"))
        for result in in_area:
            _result(out, result)


def _result(out: _Writer, result: RuleResult) -> None:
    for finding in result.findings:
        style = STYLES[finding.severity]
        out.line(
            "  ",
            out.paint(one_line(location(finding)), "bold cyan"),
            "  ",
            out.paint(finding.code, style),
            " ",
            out.paint(finding.severity.label, style),
            "  ",
            one_line(finding.message),
        )
    out.line(out.paint(f"    fix: {result.rule.fix}", "dim"))


def _ignored(out: _Writer, report: Report) -> None:
    ignored = [r for r in report.results if r.status is Status.SKIP and (r.reason or "").startswith(CONFIG_IGNORE)]
    if not ignored:
        return
    out.line()
    out.line(out.paint("Ignored in configuration", "bold"))
    for result in ignored:
        why = (result.reason or "")[len(CONFIG_IGNORE) :].lstrip(": ") or "no reason given"
        out.line("  ", out.paint(result.code, "bold"), f"  {result.rule.title()}  —  {one_line(why)}")


def _scores(out: _Writer, report: Report) -> None:
    """One row per area and an overall row: the area left-aligned, the counts and the score right-aligned, three
    spaces between columns, a rule under the header and a blank line before the overall row."""
    rows: list[tuple[list[str], str]] = []  # cells, and the style of the score
    for score in report.area_scores():
        style = "" if score.score is None or score.score == 1 else ("red" if score.score < 0.5 else "yellow")
        cells = [f"{score.area.title} ({score.area.prefix})", str(score.passed), str(score.failed), str(score.skipped)]
        rows.append(([*cells, percent(score.score)], style))
    count = {s: sum(r.status is s for r in report.results) for s in Status}
    overall = ["overall", str(count[Status.PASS]), str(count[Status.FAIL]), str(count[Status.SKIP])]
    overall.append(percent(report.score))
    header = ["area", "passed", "failed", "skipped", "score"]
    widths = [max(len(row[i]) for row in [header, overall, *(cells for cells, _ in rows)]) for i in range(5)]

    def line(cells: list[str], styles: list[str]) -> str:
        parts = [cells[0].ljust(widths[0]), *(cell.rjust(w) for cell, w in zip(cells[1:], widths[1:], strict=True))]
        return "   ".join(out.paint(part, style) if style else part for part, style in zip(parts, styles, strict=True))

    out.line()
    out.line(line(header, ["bold"] * 5))
    out.line("\u2500" * (sum(widths) + 3 * (len(widths) - 1)))
    for cells, style in rows:
        out.line(line(cells, ["", "", "", "", style]))
    out.line()
    out.line(line(overall, ["bold", "", "", "", "bold"]))
    out.line(out.paint("score: passed / applicable rules, weighted by severity (error 3, warning 2, info 1)", "dim"))


def _summary(out: _Writer, report: Report) -> None:
    findings = report.findings
    suppressed = sum(len(r.suppressed) for r in report.results)
    out.line()
    if findings:
        failing = len(report.failing())
        head = out.paint(f"Found {describe_counts(findings)}", "bold")
        head += f"; {failing} at or above fail-on={report.config.fail_on.label}"
    else:
        head = out.paint("All selected checks passed", "bold green")
    tail = f"; {suppressed} suppressed." if suppressed else "."
    out.line(head, tail)
    if findings:
        out.line(f"Suppress one with {SUPPRESS_HINT}; {EXPLAIN_HINT} says why it matters and how to fix it.")
