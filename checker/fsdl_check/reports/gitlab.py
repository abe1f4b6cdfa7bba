"""GitLab Code Quality: the subset of the Code Climate issue format GitLab reads (`artifacts: reports: codequality:`).

A JSON array with, per finding, the `description`, the `check_name` (the rule code), a `fingerprint` (see
`scanning`: stable across line moves, distinct for two findings of one rule in one file), a `severity` (`info`,
`minor`, `major`, `critical`, `blocker`) and a `location` with the file's `path` and `lines.begin`. GitLab can show
an issue only on a file, so repository-level findings are placed as in SARIF. Suppressed findings are left out:
the format has no way to say a finding was suppressed, and GitLab would count it.
"""

from __future__ import annotations

import json
from typing import Any

from fsdl_check.engine import Report
from fsdl_check.model import Finding, Severity
from fsdl_check.reports import scanning
from fsdl_check.reports.common import safe

SEVERITIES = {Severity.INFO: "info", Severity.WARNING: "minor", Severity.ERROR: "major"}


def severity(finding: Finding, security_severity: float | None) -> str:
    """GitLab's word: errors are `major`, or `critical` for a security rule scored 9 or more (a leaked secret)."""
    if finding.severity is Severity.ERROR and security_severity is not None and security_severity >= 9.0:
        return "critical"
    return SEVERITIES[finding.severity]


def render(report: Report) -> str:
    findings = report.findings
    prints = scanning.fingerprints(findings)
    scores = {r.code: r.rule.security_severity for r in report.results}
    placer = scanning.Placer(report.root)
    issues: list[dict[str, Any]] = []
    for finding in findings:
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
    return json.dumps(issues, ensure_ascii=False, indent=2) + "\n"
