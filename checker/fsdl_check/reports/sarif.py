"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

What code scanning needs and this provides: one run; `tool.driver` with name, version and full rule metadata; each
result with `ruleId` and `ruleIndex`, a level, a message, and a location whose URI is relative to `%SRCROOT%` with
a region (whole-file findings point at line 1); `partialFingerprints` so an alert keeps its identity across runs
when unrelated lines move. Findings hidden by a suppression are included with a SARIF `suppressions` entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from importlib import metadata as distribution
from typing import Any
from urllib.parse import quote

from fsdl_check.engine import Report, RuleResult
from fsdl_check.model import Finding, Severity
from fsdl_check.reports import catalogue
from fsdl_check.reports.common import safe

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "fsdlCheckFinding/v1"
SRCROOT = "%SRCROOT%"


def render(report: Report) -> str:
    # Compact: SARIF is read by machines, and without `indent` json uses its C encoder (several times faster).
    return json.dumps(as_dict(report), ensure_ascii=False, separators=(",", ":")) + "\n"


def as_dict(report: Report) -> dict[str, Any]:
    index = {r.code: i for i, r in enumerate(report.results)}
    driver: dict[str, Any] = {
        "name": "fsdl-check",
        "version": report.version,
        "semanticVersion": report.version,
    }
    homepage = project_urls().get("homepage")
    if homepage:
        driver["informationUri"] = homepage
    driver["rules"] = [_descriptor(r, enabled=report.config.selected(r.code)) for r in report.results]
    results = [_result(f, index[f.code]) for r in report.results for f in (*r.findings, *r.suppressed)]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(report)}},
                "invocations": [{"executionSuccessful": True}],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _directory_uri(report: Report) -> str:
    uri = report.root.as_uri()
    return uri if uri.endswith("/") else uri + "/"  # SARIF wants a trailing slash on a base URI


def _descriptor(result: RuleResult, enabled: bool) -> dict[str, Any]:
    rule = result.rule
    area = rule.area()
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.__name__,
        "shortDescription": {"text": rule.title()},
        "fullDescription": {"text": rule.rationale() or rule.title()},
        "help": {"text": rule.fix, "markdown": catalogue.explain_text(rule)},
        "defaultConfiguration": {"level": LEVELS[result.severity], "enabled": enabled},
        "properties": {
            "tags": ["fsdl-check", area.title, *(["training-only"] if rule.training_only else [])],
            "precision": "high",
        },
    }
    docs = project_urls().get("documentation")
    if docs:
        descriptor["helpUri"] = f"{docs.rstrip('/')}/rules/{rule.code}"
    return descriptor


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(finding.line or 1, 1)}
    if finding.column is not None and finding.column >= 1:
        region["startColumn"] = finding.column
    out: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": safe(finding.message)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": SRCROOT},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
    }
    if finding.suppressed_by is not None:
        # Inline comments live in the source; per-path ignores come from configuration.
        kind = "external" if finding.suppressed_by.startswith("per-path-ignores") else "inSource"
        out["suppressions"] = [{"kind": kind, "justification": safe(finding.suppressed_by)}]
    return out


def artifact_uri(path: str) -> str:
    """A relative URI reference for a repository path: percent-encoded bytes, so any file name survives."""
    return quote(os.fsencode(path), safe="/")


def fingerprint(finding: Finding) -> str:
    """Stable across runs and line moves: the rule, the file and the message, not the line number."""
    key = "\0".join((finding.code, finding.path, finding.message))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


@cache
def project_urls() -> dict[str, str]:
    """The distribution's Project-URL entries by lower-cased label (empty when none are declared)."""
    try:
        entries = distribution.metadata("fsdl-check").get_all("Project-URL") or []
    except distribution.PackageNotFoundError:
        return {}
    urls = {}
    for entry in entries:
        label, _, url = str(entry).partition(",")
        if url.strip():
            urls[label.strip().lower()] = url.strip()
    return urls
