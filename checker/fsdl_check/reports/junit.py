"""JUnit XML: one testsuite per area, one testcase per rule; a failing rule is a failure listing its findings,
a skipped rule is skipped with its reason. CI systems that show test results (GitLab, Jenkins, Azure) show these.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fsdl_check.engine import Report
from fsdl_check.model import Area, Status
from fsdl_check.reports.common import describe_counts, location, safe

# Characters XML 1.0 cannot carry at all, even escaped (control characters other than tab, LF and CR).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", safe(text))


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name="fsdl-check")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for area in Area:
        results = [r for r in report.results if r.rule.area() is area]
        if not results:
            continue
        counts = {
            "tests": len(results),
            "failures": sum(r.status is Status.FAIL for r in results),
            "skipped": sum(r.status is Status.SKIP for r in results),
        }
        attributes = {"name": f"{area.prefix} {area.title}", "errors": "0", **{k: str(v) for k, v in counts.items()}}
        suite = ET.SubElement(suites, "testsuite", attributes)
        for key, value in counts.items():
            totals[key] += value
        for result in results:
            case = ET.SubElement(
                suite, "testcase", classname=f"fsdl-check.{area.prefix}", name=f"{result.code} {result.rule.title()}"
            )
            if result.status is Status.FAIL:
                failure = ET.SubElement(
                    case, "failure", message=clean(describe_counts(result.findings)), type=result.severity.label
                )
                lines = [f"{location(f)}: {f.code} [{f.severity.label}] {f.message}" for f in result.findings]
                failure.text = clean("\n".join([*lines, f"fix: {result.rule.fix}"]))
            elif result.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=clean(result.reason or "skipped"))
    suites.set("errors", "0")
    suites.set("time", f"{report.duration_s:.3f}")
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
