"""`--statistics`: how many findings each rule produced, most frequent first (text or JSON)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from fsdl_check.engine import Report
from fsdl_check.reports.common import plural


def rows(report: Report) -> list[dict[str, Any]]:
    counted = Counter(f.code for f in report.findings)
    results = {r.code: r for r in report.results}
    return [
        {"code": code, "count": n, "severity": results[code].severity.label, "title": results[code].rule.title()}
        for code, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    ]


def render_text(report: Report) -> str:
    table = rows(report)
    if not table:
        return "No findings.\n"
    width = max(len(str(r["count"])) for r in table)
    lines = [f"{r['count']:>{width}}  {r['code']}  {r['severity']:<7}  {r['title']}" for r in table]
    lines.append(f"{plural(sum(r['count'] for r in table), 'finding')} from {plural(len(table), 'rule')}.")
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return json.dumps(rows(report), indent=2, ensure_ascii=False) + "\n"
