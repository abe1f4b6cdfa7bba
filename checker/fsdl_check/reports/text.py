"""The terminal report: findings grouped by area, a score table (rich), and how to suppress or fix.

Text from the repository (paths, messages) is printed as plain text on one line, with control characters replaced,
so neither rich markup like ``[project]`` nor terminal escape sequences in a file name can change the output.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fsdl_check.engine import Report, RuleResult
from fsdl_check.model import Area, Severity, Status
from fsdl_check.reports.common import EXPLAIN_HINT, SUPPRESS_HINT, describe_counts, location, one_line, percent, plural

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
# ANSI codes for the styles used outside the table: findings are written directly, since rendering each line
# through rich costs a quarter of a millisecond, and a large repository has thousands of findings.
SGR = {
    "bold": "1", "dim": "2", "bold red": "1;31", "yellow": "33", "blue": "34", "bold cyan": "1;36",
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


def render(report: Report, *, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    out = _Writer(buffer, color)
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
    )
    _header(out, report)
    _findings(out, report)
    _ignored(out, report)
    _scores(console, report)
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


def _scores(console: Console, report: Report) -> None:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("area")
    for name in ("passed", "failed", "skipped", "score"):
        table.add_column(name, justify="right")
    for score in report.area_scores():
        style = "" if score.score is None or score.score == 1 else ("red" if score.score < 0.5 else "yellow")
        table.add_row(
            f"{score.area.title} ({score.area.prefix})",
            str(score.passed),
            str(score.failed),
            str(score.skipped),
            Text(percent(score.score), style=style),
        )
    count = {s: sum(r.status is s for r in report.results) for s in Status}
    table.add_section()
    table.add_row(
        Text("overall", style="bold"),
        str(count[Status.PASS]),
        str(count[Status.FAIL]),
        str(count[Status.SKIP]),
        Text(percent(report.score), style="bold"),
    )
    console.print()
    console.print(table)
    console.print(Text("score: passed / applicable rules, weighted by severity (error 3, warning 2, info 1)", "dim"))


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
