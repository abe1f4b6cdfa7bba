"""Markdown for a GitHub job summary (`$GITHUB_STEP_SUMMARY`) or a pull-request comment: the score table, the
findings table, and the passed and skipped rules folded away in a `<details>` block.
"""

from __future__ import annotations

from fsdl_check.engine import Report
from fsdl_check.model import Status
from fsdl_check.regex import lazy
from fsdl_check.reports.common import EXPLAIN_HINT, SUPPRESS_HINT, describe_counts, location, percent, plural, safe

_SPECIAL = lazy(r"([\\`*_\[\]|#<>~&])")
#: GitHub caps a pull-request comment at 65,536 characters; past this many rows the table points to the full report.
MAX_FINDING_ROWS = 200
ICONS = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def cell(text: str) -> str:
    """Text that stays inside one table cell and renders literally (Markdown and HTML characters escaped)."""
    return _SPECIAL.sub(r"\\\1", safe(text)).replace("\r", " ").replace("\n", " ")


def render(report: Report) -> str:
    findings = report.findings
    headline = f"score {percent(report.score)}, {describe_counts(findings)}" if findings else "all checks passed"
    out = [
        f"## fsdl-check: {headline}",
        "",
        f"{report.kind.value} project · {plural(report.files, 'file')} · fsdl-check {report.version} · "
        f"fails on {report.config.fail_on.label} and above",
        "",
        "| area | passed | failed | skipped | score |",
        "|:--|--:|--:|--:|--:|",
    ]
    for s in report.area_scores():
        out.append(
            f"| {cell(s.area.title)} ({s.area.prefix}) | {s.passed} | {s.failed} | {s.skipped} | {percent(s.score)} |"
        )
    count = {st: sum(r.status is st for r in report.results) for st in Status}
    out.append(
        f"| **overall** | {count[Status.PASS]} | {count[Status.FAIL]} | {count[Status.SKIP]} | "
        f"**{percent(report.score)}** |"
    )
    if findings:
        out += ["", "### Findings", "", "| | code | severity | location | message |", "|--|--|--|--|--|"]
        for f in findings[:MAX_FINDING_ROWS]:
            sev = f.severity.label
            out.append(f"| {ICONS[sev]} | {f.code} | {sev} | {cell(location(f))} | {cell(f.message)} |")
        if len(findings) > MAX_FINDING_ROWS:
            more = len(findings) - MAX_FINDING_ROWS
            out += ["", f"… and {more} more; run `fsdl-check --format concise` for the full list."]
        out += ["", f"Suppress with {SUPPRESS_HINT}; {EXPLAIN_HINT} explains a rule and its fix."]
    passed = [r for r in report.results if r.status is Status.PASS]
    skipped = [r for r in report.results if r.status is Status.SKIP]
    if passed or skipped:
        out += ["", f"<details><summary>{len(passed)} passed and {len(skipped)} skipped rules</summary>", ""]
        out += ["| code | status | rule |", "|--|--|--|"]
        for r in passed:
            out.append(f"| {r.code} | passed | {cell(r.rule.title())} |")
        for r in skipped:
            out.append(f"| {r.code} | skipped: {cell(r.reason or '')} | {cell(r.rule.title())} |")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
