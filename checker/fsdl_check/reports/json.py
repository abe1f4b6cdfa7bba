"""The JSON report: every rule with its status, findings and suppressed findings (schema: data/report.schema.json).

`SCHEMA_VERSION` follows semantic versioning: a new optional field bumps the minor version; removing or changing
the meaning of a field bumps the major one.
"""

from __future__ import annotations

import json
from typing import Any

from fsdl_check.config import Config
from fsdl_check.engine import Report, RuleResult
from fsdl_check.model import Finding, Status
from fsdl_check.reports.common import safe, severity_counts

SCHEMA_VERSION = "1.1"


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"


def as_dict(report: Report) -> dict[str, Any]:
    findings = report.findings
    suppressed = [f for r in report.results for f in r.suppressed]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "fsdl-check", "version": report.version},
        "root": safe(str(report.root)),
        "project_kind": report.kind.value,
        "project_kind_reason": safe(report.kind_reason),
        "files": report.files,
        "duration_s": round(report.duration_s, 4),
        "config": config_summary(report.config),
        "summary": {
            "rules": len(report.results),
            "passed": sum(r.status is Status.PASS for r in report.results),
            "failed": sum(r.status is Status.FAIL for r in report.results),
            "skipped": sum(r.status is Status.SKIP for r in report.results),
            "findings": len(findings),
            "by_severity": {sev.label: n for sev, n in severity_counts(findings).items()},
            "suppressed": len(suppressed),
            "fail_on": report.config.fail_on.label,
            "failing": len(report.failing()),
        },
        "scores": {
            "overall": report.score,
            "areas": [
                {
                    "area": s.area.prefix,
                    "title": s.area.title,
                    "passed": s.passed,
                    "failed": s.failed,
                    "skipped": s.skipped,
                    "score": s.score,
                }
                for s in report.area_scores()
            ],
        },
        "rules": [_rule(r) for r in report.results],
        # Since 1.1: the unsuppressed findings of every rule in one list, for consumers that only count or list.
        "findings": [finding_dict(f) for f in findings],
    }


def config_summary(config: Config) -> dict[str, Any]:
    return {
        "source": config.source,
        "select": list(config.select),
        "extend_select": list(config.extend_select),
        "ignore": dict(config.ignore),
        "per_path_ignores": {safe(p): list(codes) for p, codes in config.per_path_ignores.items()},
        "severity": {code: sev.label for code, sev in config.severity.items()},
        "fail_on": config.fail_on.label,
        "project_kind": config.project_kind.value if config.project_kind else None,
        "large_file_mb": config.large_file_mb,
        "type_hint_share": config.type_hint_share,
        "exclude": [safe(p) for p in config.exclude],
    }


def _rule(result: RuleResult) -> dict[str, Any]:
    rule = result.rule
    return {
        "code": rule.code,
        "title": rule.title(),
        "area": rule.area().prefix,
        "severity": result.severity.label,
        "default_severity": rule.severity.label,
        "training_only": rule.training_only,
        "requires": list(rule.requires),
        "status": result.status.value,
        "reason": result.reason,
        "fix": rule.fix,
        "findings": [finding_dict(f) for f in result.findings],
        "suppressed": [finding_dict(f) for f in result.suppressed],
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": finding.code,
        "path": finding.display_path,
        "line": finding.line,
        "column": finding.column,
        "severity": finding.severity.label,
        "message": safe(finding.message),
    }
    if finding.suppressed_by is not None:
        out["suppressed_by"] = safe(finding.suppressed_by)
    return out
