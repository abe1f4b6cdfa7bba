"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

What code scanning needs and this provides: one run; `tool.driver` with name, version and full rule metadata (help
text in plain text and Markdown, a `helpUri` to the rule's section of docs/rules.md, `security-severity` and the
`security` tag on security rules); each result with `ruleId` and `ruleIndex`, a level, a message, and a location on
a real file whose URI is relative to `%SRCROOT%` with a region (whole-file and repository-level findings point at
line 1; see `scanning` for where a repository-level finding is shown); `partialFingerprints` that survive line
moves and tell two findings of one rule in one file apart. Findings hidden by a suppression are included with a
SARIF `suppressions` entry. At most 5,000 results, under a size cap; what was left out is said in the run's
invocation notifications and on stderr.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from importlib import metadata as distribution
from typing import Any
from urllib.parse import quote

from fsdl_check.engine import Report, RuleResult
from fsdl_check.model import Finding, Severity
from fsdl_check.reports import scanning
from fsdl_check.reports.common import safe

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "fsdlCheckFinding/v2"
SRCROOT = "%SRCROOT%"


def render(report: Report, *, max_results: int = scanning.MAX_RESULTS, max_bytes: int = scanning.MAX_BYTES) -> str:
    log = as_dict(report, max_results=max_results)
    text = _dump(log)
    while len(text.encode("utf-8", "surrogateescape")) > max_bytes and log["runs"][0]["results"]:
        # Over the size cap: as many results as fit at their average size beside the fixed part (rules, run).
        results = log["runs"][0]["results"]
        sizes = sum(len(_dump(r)) for r in results)
        room = max_bytes - (len(text) - sizes) - 1000  # the cap note's own room
        fit = min(len(results) - 1, max(0, int(room / (sizes / len(results)) * 0.95)))
        log = as_dict(report, max_results=fit, size_limit=max_bytes)
        text = _dump(log)
    for note in log["runs"][0]["invocations"][0].get("toolExecutionNotifications", []):
        if note.get("descriptor", {}).get("id") == "results-capped":
            print(f"fsdl-check: SARIF: {note['message']['text']}", file=sys.stderr)
    return text


def _dump(value: Any) -> str:
    # Compact: SARIF is read by machines, and without `indent` json uses its C encoder (several times faster).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def as_dict(
    report: Report, *, max_results: int = scanning.MAX_RESULTS, size_limit: int | None = None
) -> dict[str, Any]:
    """The SARIF log with at most `max_results` results; `size_limit` names the byte cap that set that number."""
    index = {r.code: i for i, r in enumerate(report.results)}
    driver: dict[str, Any] = {
        "name": "fsdl-check",
        "version": report.version,
        "semanticVersion": report.version,
        "informationUri": project_urls().get("homepage", scanning.REPOSITORY_URL),
    }
    driver["rules"] = [_descriptor(r, report) for r in report.results]
    everything = [f for r in report.results for f in (*r.findings, *r.suppressed)]
    prints = scanning.fingerprints(everything)
    kept, left_out = scanning.capped(everything, max(max_results, 0))
    placer = scanning.Placer(report.root)
    results, notifications = [], []
    for finding in kept:
        place = placer.place(finding)
        if place.path:
            results.append(_result(finding, index[finding.code], prints[id(finding)], place))
        else:  # nothing in the repository to show it on: a notification of the run
            notifications.append(_notification(finding, index[finding.code], "warning"))
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if left_out:
        reason = (
            f"GitHub code scanning shows at most {scanning.MAX_RESULTS:,} results of a run"
            if size_limit is None
            else f"the file is kept under {size_limit:,} bytes"
        )
        notifications.append(
            {
                "descriptor": {"id": "results-capped"},
                "level": "warning",
                "message": {"text": scanning.cap_note(left_out, len(everything), reason)},
            }
        )
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(report)}},
                "invocations": [invocation],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _directory_uri(report: Report) -> str:
    uri = report.root.as_uri()
    return uri if uri.endswith("/") else uri + "/"  # SARIF wants a trailing slash on a base URI


def _descriptor(result: RuleResult, report: Report) -> dict[str, Any]:
    rule = result.rule
    area = rule.area()
    tags = ["fsdl-check", area.title, *(["training-only"] if rule.training_only else [])]
    properties: dict[str, Any] = {"tags": tags, "precision": "high"}
    if rule.security_severity is not None:
        tags.append("security")
        properties["security-severity"] = f"{rule.security_severity:.1f}"  # a string, as code scanning reads it
    return {
        "id": rule.code,
        "name": rule.__name__,
        "shortDescription": {"text": rule.title()},
        "fullDescription": {"text": rule.rationale() or rule.title()},
        "help": {"text": scanning.help_text(rule), "markdown": scanning.help_markdown(rule, report.version)},
        "helpUri": scanning.rule_uri(rule, report.version),
        "defaultConfiguration": {"level": LEVELS[result.severity], "enabled": report.config.selected(rule.code)},
        "properties": properties,
    }


def _result(finding: Finding, rule_index: int, fingerprint: str, place: scanning.Placement) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(place.line or 1, 1)}
    if place.line is not None and finding.column is not None and finding.column >= 1:
        region["startColumn"] = finding.column
    out: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": safe(finding.message + place.note)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(place.path), "uriBaseId": SRCROOT},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.suppressed_by is not None:
        # Inline comments live in the source; per-path ignores come from configuration.
        kind = "external" if finding.suppressed_by.startswith("per-path-ignores") else "inSource"
        out["suppressions"] = [{"kind": kind, "justification": safe(finding.suppressed_by)}]
    return out


def _notification(finding: Finding, rule_index: int, level: str) -> dict[str, Any]:
    return {
        "associatedRule": {"id": finding.code, "index": rule_index},
        "level": level,
        "message": {"text": safe(f"{finding.code} {finding.message} (about {finding.path or 'the repository'})")},
    }


def artifact_uri(path: str) -> str:
    """A relative URI reference for a repository path: percent-encoded bytes, so any file name survives."""
    return quote(os.fsencode(path), safe="/")


def fingerprint(finding: Finding) -> str:
    """The finding's fingerprint on its own (rank 0 among identical findings); see `scanning.fingerprints`."""
    return scanning.fingerprints([finding])[id(finding)]


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
