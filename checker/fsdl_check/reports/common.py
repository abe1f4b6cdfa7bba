"""Helpers the report formats share: where a finding is, counts by severity, safe text, the closing hints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from fsdl_check.model import Finding, Severity, display

SUPPRESS_HINT = '`# fsdl: ignore[CODE] reason` on the line, or `[tool.fsdl-check] ignore = {CODE = "reason"}`'
EXPLAIN_HINT = "`fsdl-check --explain CODE`"


def safe(text: str) -> str:
    """Text that always encodes: lone surrogates (from non-UTF-8 file names) become U+FFFD."""
    return display(text)


def one_line(text: str) -> str:
    """Safe text on one line, without control characters (so a file name cannot drive the terminal)."""
    text = safe(text)
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


def location(finding: Finding) -> str:
    """``path:line`` (or just ``path`` for a whole-file finding), safe to print."""
    path = finding.display_path
    return f"{path}:{finding.line}" if finding.line is not None else path


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """Findings per severity, most severe first, every severity present (zero when none)."""
    counted = Counter(f.severity for f in findings)
    return {sev: counted.get(sev, 0) for sev in sorted(Severity, reverse=True)}


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 or word == "info" else f"{count} {word}s"


def describe_counts(findings: list[Finding]) -> str:
    """'3 findings (1 error, 2 warnings)'."""
    parts = [plural(n, sev.label) for sev, n in severity_counts(findings).items() if n]
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"{plural(len(findings), 'finding')}{detail}"


def percent(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.0%}"
