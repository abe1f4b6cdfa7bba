"""GitLab Code Quality: the subset of the Code Climate issue format GitLab reads (`artifacts: reports: codequality:`).

A JSON array with, per finding, the `description`, the `check_name` (the rule code), a `fingerprint` (see
`scanning`: stable across line moves, distinct for two findings of one rule in one file), a `severity` (`info`,
`minor`, `major`, `critical`, `blocker`) and a `location` with the file's `path` and `lines.begin`. GitLab can show
an issue only on a file, so repository-level findings are placed as in SARIF. Suppressed findings are left out:
the format has no way to say a finding was suppressed, and GitLab would count it.

At most 5,000 issues, as in SARIF (`scanning.MAX_RESULTS`): a merge request's Code Quality widget and its diff
annotations are for reading, and GitLab parses the whole artifact to build them. The format has no notifications,
so what was left out is said in one last `info` issue (`check_name` `results-capped`, on the file repository-level
findings are shown on) and on stderr.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

from fsdl_check.engine import Report
from fsdl_check.model import Finding, Severity
from fsdl_check.reports import scanning
from fsdl_check.reports.common import safe

#: The `check_name` of the issue that says how many findings were left out.
CAPPED = "results-capped"
SEVERITIES = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}


def severity(finding: Finding, security_severity: float | None) -> str:
    """GitLab's word: errors are `major`, or `critical` for a security rule scored 9 or more (a leaked secret)."""
    if finding.severity is Severity.ERROR and security_severity is not None and security_severity >= 9.0:
        return "critical"
    return SEVERITIES[finding.severity]


def render(report: Report, *, max_results: int = scanning.MAX_RESULTS) -> str:
    findings = report.findings
    prints = scanning.fingerprints(findings)  # of every finding: a kept one's fingerprint does not depend on the cap
    scores = {r.code: r.rule.security_severity for r in report.results}
    placer = scanning.Placer(report.root)
    kept, left_out = scanning.capped(findings, max(max_results, 0))
    issues: list[dict[str, Any]] = []
    for finding in kept:
        place = placer.place(finding)
        issues.append(
            {
                "description": safe(f"{finding.message}{place.note}"),
                "check_name": finding.code,
                "fingerprint": prints[id(finding)],
                "severity": severity(finding, scores.get(finding.code)),
                "location": {"path": safe(place.path or "."), "lines": {"begin": max(place.line or 1, 1)}},
            }
        )
    if left_out:
        note = cap_note(left_out, len(findings), max(max_results, 0))
        print(f"fsdl-check: GitLab Code Quality: {note}", file=sys.stderr)
        issues.append(
            {
                "description": note,
                "check_name": CAPPED,
                "fingerprint": hashlib.sha256(f"fsdl-check\0{CAPPED}".encode()).hexdigest(),
                "severity": "info",
                "location": {"path": safe(placer.anchor() or "."), "lines": {"begin": 1}},
            }
        )
    return json.dumps(issues, ensure_ascii=False, indent=2) + "\n"


def cap_note(left_out: int, total: int, limit: int) -> str:
    return (
        f"{left_out} of {total} findings left out (this report keeps at most {limit:,}); the most severe are kept. "
        "`fsdl-check --format json` lists every finding; narrowing the audit (--select, --ignore, exclude) shows "
        "the rest here."
    )
