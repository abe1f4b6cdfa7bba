"""Every report format, rendered from one audit: valid against its schema, escaped, and complete."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fsdl_check.config import Config
from fsdl_check.engine import Report, audit
from fsdl_check.model import Area, ProjectKind, Severity, all_rules
from fsdl_check.reports import FORMATS, gitlab, render, sarif, scanning, text

pytestmark = pytest.mark.usefixtures("marker_rules")

MakeRepo = Callable[..., Path]

# One repository that exercises every branch a report has: each severity, a whole-file finding, an inline and a
# per-path suppression, an unused suppression, a parse error, a rule ignored with a reason, and skipped rules.
FILES = {
    "src/app.py": 'x = "MARK-ERROR [project] <b>&amp; 100%, a:b"\ny = "MARK-WARNING"\n'
    'z = "MARK-INFO"  # fsdl: ignore[FC903] shown to users\n',
    "scripts/tool.py": 'x = "MARK-ERROR"\n',
    "notes/whole-file.txt": "",
    "old.sh": "echo ok  # fsdl: ignore[FC901] stale\n",
    "broken.yml": "key: [unclosed\n",
}
CONFIG = Config(
    select=("FC",),
    ignore={"FC906": "no training here | really"},
    per_path_ignores={"scripts/**": ("FC901",)},
    project_kind=ProjectKind.LIBRARY,
    source="test",
)


@pytest.fixture
def report(make_repo: MakeRepo) -> Report:
    return audit(make_repo(FILES), CONFIG)


def load_json(name: str) -> Any:
    return json.loads(files("fsdl_check").joinpath(f"data/{name}").read_text(encoding="utf-8"))


# -- JSON ---------------------------------------------------------------------------------------------------------
def test_json_report_matches_its_schema(report: Report) -> None:
    schema = load_json("report.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(json.loads(render(report, "json")))


def test_json_report_lists_every_rule_with_status_and_reason(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert data["schema_version"] == "1.1"
    by_rule = [f for rule in data["rules"] for f in rule["findings"]]
    assert sorted(data["findings"], key=json.dumps) == sorted(by_rule, key=json.dumps)  # the same, in one list
    assert data["tool"] == {"name": "fsdl-check", "version": report.version}
    assert data["project_kind"] == "library"
    assert data["files"] == 5
    rules = {r["code"]: r for r in data["rules"]}
    assert list(rules) == [r.code for r in all_rules()]
    assert rules["PK001"]["status"] == "skip"
    assert rules["PK001"]["reason"] == "not selected"
    assert rules["FC906"]["reason"] == "ignored in configuration: no training here | really"
    assert rules["FC905"]["reason"] == "requires FC904, which fails"
    assert rules["FC904"]["findings"] == [
        {
            "code": "FC904",
            "path": "notes/whole-file.txt",
            "line": None,
            "column": None,
            "severity": "warning",
            "message": "this file should not exist",
        }
    ]
    assert [(f["path"], f["line"]) for f in rules["FC901"]["findings"]] == [("src/app.py", 1)]
    assert [(f["path"], f["suppressed_by"]) for f in rules["FC901"]["suppressed"]] == [
        ("scripts/tool.py", "per-path-ignores: FC901")
    ]
    assert rules["FC903"]["suppressed"][0]["suppressed_by"] == "ignore[FC903] shown to users"
    assert [(f["path"], f["line"]) for f in rules["FC001"]["findings"]] == [("old.sh", 1)]
    assert rules["FC002"]["findings"][0]["path"] == "broken.yml"
    summary = data["summary"]
    assert summary["by_severity"] == {"error": 2, "warning": 2, "info": 1}
    assert (summary["findings"], summary["suppressed"], summary["failing"]) == (5, 2, 4)
    assert summary["rules"] == summary["passed"] + summary["failed"] + summary["skipped"]
    assert data["scores"]["overall"] == pytest.approx(report.score)
    assert [a["area"] for a in data["scores"]["areas"]] == [s.area.prefix for s in report.area_scores()]
    assert data["config"]["per_path_ignores"] == {"scripts/**": ["FC901"]}


# -- SARIF --------------------------------------------------------------------------------------------------------
DATA = Path(__file__).parent / "data"


def official_sarif_schema() -> Any:
    # The OASIS SARIF 2.1.0 schema (draft-04), vendored from oasis-tcs/sarif-spec (see data/README.md).
    return json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def test_sarif_is_valid_against_the_official_schema(report: Report) -> None:
    schema = official_sarif_schema()
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator(schema).validate(json.loads(render(report, "sarif")))


def test_sarif_meets_github_code_scanning_requirements(report: Report) -> None:
    log = json.loads(render(report, "sarif"))
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("fsdl-check", report.version)
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()]
    fc901 = next(r for r in rules if r["id"] == "FC901")
    assert fc901["shortDescription"]["text"] == "No line carries the error marker"
    rationale = "A test rule: it fires on every line containing its marker."
    assert fc901["help"]["text"] == f"{rationale}\n\nHow to fix: Remove the marker."
    assert fc901["help"]["markdown"].startswith("A test rule: it fires on every line containing its marker.\n\n")
    assert "**How to fix:** Remove the marker." in fc901["help"]["markdown"]
    assert fc901["helpUri"].startswith("https://github.com/OWNER/fsdl-stack/blob/")
    assert fc901["helpUri"].endswith("/docs/rules.md#fc901") and fc901["helpUri"] in fc901["help"]["markdown"]
    assert fc901["defaultConfiguration"]["level"] == "error"
    assert "fsdl-check itself" in fc901["properties"]["tags"]
    enabled = {r["id"]: r["defaultConfiguration"]["enabled"] for r in rules}
    assert (enabled["FC901"], enabled["FC906"], enabled.get("PK001", False)) == (True, False, False)
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == report.root.as_uri() + "/"
    results = run["results"]
    assert len(results) == 7  # 5 reported + 2 suppressed
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert location["region"]["startLine"] >= 1
        assert result["message"]["text"]
        assert len(result["partialFingerprints"][sarif.FINGERPRINT_KEY]) == 64
    by_rule = {r["ruleId"]: r for r in results if "suppressions" not in r}
    assert by_rule["FC904"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}  # whole file
    assert by_rule["FC001"]["level"] == "note"
    assert by_rule["FC902"]["level"] == "warning"
    suppressed = [r for r in results if "suppressions" in r]
    assert sorted(s["suppressions"][0]["kind"] for s in suppressed) == ["external", "inSource"]


def test_sarif_fingerprints_survive_moved_lines_and_tell_findings_apart(make_repo: MakeRepo) -> None:
    def prints(source: str) -> list[str]:
        log = json.loads(render(audit(make_repo({"a.py": source}), CONFIG), "sarif"))
        return [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in log["runs"][0]["results"]]

    before = prints('x = "MARK-ERROR"\n')
    assert prints('\n\n\nx = "MARK-ERROR"\n') == before
    assert prints('y = "MARK-ERROR"\n') != before


# Two GitHub-token-shaped strings, built at run time so this file itself holds no token-shaped literal.
PREFIX = "gh" + "p_"
SECRETS = "".join(f'{name} = "{PREFIX}{body}"\n' for name, body in (("A", "aB3dE5fG7h" * 4), ("B", "Zx9Yw8Vu7T" * 4)))


def sarif_results(root: Path, **config: Any) -> list[dict[str, Any]]:
    log = json.loads(render(audit(root, Config(**config)), "sarif"))
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


def test_two_secrets_in_one_file_are_two_alerts_that_keep_their_fingerprints_when_lines_move(
    make_repo: MakeRepo,
) -> None:
    def prints(source: str) -> list[str]:
        results = sarif_results(make_repo({"app.py": source}), select=("VC005",))
        return [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in results]

    before = prints(SECRETS)
    assert len(before) == 2 and len(set(before)) == 2  # same rule, file and message: still two alerts
    assert prints("import os\n\n" + SECRETS) == before


def test_security_rules_carry_a_security_severity_and_tag(report: Report) -> None:
    rules = {r["id"]: r for r in json.loads(render(audit(report.root), "sarif"))["runs"][0]["tool"]["driver"]["rules"]}
    for code in ("VC005", "GA001", "GA002", "DK003"):
        score = float(rules[code]["properties"]["security-severity"])
        assert 0.1 <= score <= 10.0 and "security" in rules[code]["properties"]["tags"]
    assert float(rules["VC005"]["properties"]["security-severity"]) >= 9.0  # a leaked secret is critical
    assert "security-severity" not in rules["QA001"]["properties"]
    assert "security" not in rules["QA001"]["properties"]["tags"]


@pytest.mark.parametrize(
    ("files", "shown_on"),
    [
        ({"README.md": "# x\n", "pyproject.toml": "[project]\nname = 'x'\n"}, "README.md"),
        ({"pyproject.toml": "[project]\nname = 'x'\n", "b.txt": "x\n"}, "pyproject.toml"),
        ({"b.txt": "x\n", "a.txt": "x\n"}, "a.txt"),
    ],
)
def test_repository_level_findings_are_placed_on_a_real_file(
    make_repo: MakeRepo, marker_rules: object, files: dict[str, str], shown_on: str
) -> None:
    results = sarif_results(make_repo(files), select=("FC906",), project_kind=ProjectKind.TRAINING)
    [result] = results
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == shown_on and location["region"] == {"startLine": 1}
    assert result["message"]["text"] == f"training-only rule ran (about the repository; shown on {shown_on})"


def test_a_finding_about_a_missing_file_is_placed_on_the_readme(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "# x\n", "a.py": "x = 1\n"})
    results = sarif_results(root, select=("VC003",))
    assert results, "VC003 reports the missing .gitignore"
    for result in results:
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "README.md"
        assert "(about .gitignore; shown on README.md)" in result["message"]["text"]


def test_a_repository_with_no_file_to_show_a_finding_on_reports_it_as_a_notification(
    make_repo: MakeRepo, marker_rules: object
) -> None:
    root = make_repo({})
    log = json.loads(render(audit(root, Config(select=("FC906",), project_kind=ProjectKind.TRAINING)), "sarif"))
    [run] = log["runs"]
    assert run["results"] == []
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["associatedRule"]["id"] == "FC906" and "training-only rule ran" in note["message"]["text"]
    jsonschema.Draft4Validator(official_sarif_schema()).validate(log)


def test_results_are_capped_with_a_note_in_the_run_and_on_stderr(
    make_repo: MakeRepo, marker_rules: object, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = "".join(f'x{i} = "MARK-WARNING"\n' for i in range(30)) + 'e = "MARK-ERROR"\n'
    finished = audit(make_repo({"a.py": lines}), Config(select=("FC901", "FC902")))
    log = json.loads(sarif.render(finished, max_results=10))
    [run] = log["runs"]
    assert len(run["results"]) == 10
    assert "FC901" in {r["ruleId"] for r in run["results"]}  # the most severe are kept
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "results-capped" and note["message"]["text"].startswith("21 of 31 results")
    assert "21 of 31 results left out" in capsys.readouterr().err
    jsonschema.Draft4Validator(official_sarif_schema()).validate(log)


def test_a_report_over_the_size_cap_is_cut_to_fit(make_repo: MakeRepo, marker_rules: object) -> None:
    lines = "".join(f'x{i} = "MARK-WARNING {"y" * 200}"\n' for i in range(300))
    finished = audit(make_repo({"a.py": lines}), Config(select=("FC902",)))
    full, empty = sarif.render(finished), sarif.render(finished, max_results=0)
    limit = (len(full) + len(empty)) // 2  # room for about half of the results beside the rules
    text = sarif.render(finished, max_bytes=limit)
    assert len(text.encode()) <= limit
    log = json.loads(text)
    assert 100 < len(log["runs"][0]["results"]) < 160
    [note] = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "the file is kept under" in note["message"]["text"]


def test_the_default_cap_is_githubs_5000(make_repo: MakeRepo, marker_rules: object) -> None:
    finished = audit(make_repo({"a.py": 'x = "MARK-INFO"\n' * 5003}), Config(select=("FC903",)))
    assert len(json.loads(sarif.render(finished))["runs"][0]["results"]) == 5000


# -- GitHub annotations -------------------------------------------------------------------------------------------
def test_github_annotations_one_per_finding_with_escaping(report: Report) -> None:
    lines = render(report, "github").splitlines()
    assert len(lines) == 5
    assert "::error file=broken.yml,line=2,title=FC002::" in lines[0]
    assert "::notice file=old.sh,line=1,title=FC001::suppression of FC901 matches no finding" in lines
    assert "::warning file=notes/whole-file.txt,title=FC904::this file should not exist" in lines
    assert '::warning file=src/app.py,line=2,title=FC902::marker on this line: y = "MARK-WARNING"' in lines
    error = next(line for line in lines if "title=FC901" in line)
    assert error.endswith('marker on this line: x = "MARK-ERROR [project] <b>&amp; 100%25, a:b"')


def test_github_escapes_properties_and_newlines() -> None:
    from fsdl_check.model import Finding
    from fsdl_check.reports.github import annotation

    finding = Finding("dir,a:b/f%.py", 3, "FC901", "line one\r\nline two 50%", Severity.ERROR, column=7)
    assert (
        annotation(finding) == "::error file=dir%2Ca%3Ab/f%25.py,line=3,col=7,title=FC901::line one%0D%0Aline two 50%25"
    )
    assert annotation(Finding(".", None, "FC906", "repo-wide", Severity.INFO)) == "::notice title=FC906::repo-wide"


def test_github_shows_control_and_bidi_characters_instead_of_passing_them_through() -> None:
    from fsdl_check.model import Finding
    from fsdl_check.reports.github import annotation

    name = "a\x1b[31m\u202egnp.py\x00\x7f\u2066"
    line = annotation(Finding(name, 1, "FC901", f"tab\there {name}\x9b", Severity.ERROR))
    assert line == (
        "::error file=a\\x1b[31m\\u202egnp.py\\x00\\x7f\\u2066,line=1,title=FC901::"
        "tab\\there a\\x1b[31m\\u202egnp.py\\x00\\x7f\\u2066\\x9b"
    )
    assert line.isprintable()


# -- JUnit ----------------------------------------------------------------------------------------------------------
def test_junit_is_xml_with_a_suite_per_area_and_a_case_per_rule(report: Report) -> None:
    tree = ET.fromstring(render(report, "junit").encode("utf-8"))
    assert tree.tag == "testsuites"
    suites = tree.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        f"{a.prefix} {a.title}" for a in Area if any(r.rule.area() is a for r in report.results)
    ]
    cases = tree.findall("testsuite/testcase")
    assert len(cases) == len(report.results) == int(tree.get("tests", "0"))
    by_code = {c.get("name", "").split()[0]: c for c in cases}
    failure = by_code["FC901"].find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert 'src/app.py:1: FC901 [error] marker on this line: x = "MARK-ERROR [project] <b>&amp; 100%, a:b"' in (
        failure.text or ""
    )
    skipped = by_code["FC906"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "ignored in configuration: no training here | really"
    assert by_code["FC905"].find("skipped") is not None
    fc_suite = next(s for s in suites if s.get("name", "").startswith("FC"))
    assert int(fc_suite.get("failures", "0")) == sum(c.find("failure") is not None for c in fc_suite)
    assert int(tree.get("failures", "0")) == sum(r.status.value == "fail" for r in report.results)


def junit_schema() -> Any:
    """The vendored Jenkins JUnit XSD, with `file` and `line` declared on testcase (see data/README.md)."""
    import xmlschema

    xsd = (DATA / "junit-10.xsd").read_text(encoding="utf-8")
    declared = '<xs:attribute name="group" type="xs:string"/>\n        </xs:complexType>\n    </xs:element>'
    assert xsd.count(declared) == 1  # testcase's last attribute: the published file is what the README says
    extra = '<xs:attribute name="file" type="xs:string"/><xs:attribute name="line" type="xs:positiveInteger"/>'
    return xmlschema.XMLSchema10(xsd.replace(declared, extra + declared))


def test_junit_is_valid_against_the_jenkins_schema_and_cases_carry_file_and_line(report: Report) -> None:
    document = render(report, "junit")
    junit_schema().validate(document)
    cases = {c.get("name", "").split()[0]: c for c in ET.fromstring(document.encode()).iter("testcase")}
    assert (cases["FC901"].get("file"), cases["FC901"].get("line")) == ("src/app.py", "1")
    assert cases["FC904"].get("file") == "notes/whole-file.txt" and cases["FC904"].get("line") == "1"
    assert cases["FC905"].get("file") is None  # skipped: no finding, no place


def test_junit_schema_check_can_fail(report: Report) -> None:
    import xmlschema

    broken = render(report, "junit").replace('line="1"', 'line="one"', 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        junit_schema().validate(broken)


# -- GitLab Code Quality --------------------------------------------------------------------------------------------
def gitlab_schema() -> Any:
    return json.loads((DATA / "gitlab-code-quality.schema.json").read_text(encoding="utf-8"))


def test_gitlab_code_quality_is_valid_against_its_documented_format(report: Report) -> None:
    issues = json.loads(render(report, "gitlab"))
    jsonschema.Draft7Validator(gitlab_schema()).validate(issues)
    assert len(issues) == len(report.findings) == 5  # suppressed findings are left out
    by_code = {i["check_name"]: i for i in issues}
    assert by_code["FC901"]["severity"] == "major" and by_code["FC902"]["severity"] == "minor"
    assert by_code["FC001"]["severity"] == "info"
    assert by_code["FC901"]["location"] == {"path": "src/app.py", "lines": {"begin": 1}}
    assert by_code["FC904"]["location"] == {"path": "notes/whole-file.txt", "lines": {"begin": 1}}
    assert len({i["fingerprint"] for i in issues}) == 5


def test_gitlab_schema_rejects_what_gitlab_would(report: Report) -> None:
    issues = json.loads(render(report, "gitlab"))
    validator = jsonschema.Draft7Validator(gitlab_schema())
    for broken in ({"severity": "warning"}, {"location": {"path": "a.py"}}, {"check_name": ""}):
        assert not validator.is_valid([{**issues[0], **broken}])


def test_gitlab_secrets_are_critical_two_issues_and_keep_fingerprints_when_lines_move(make_repo: MakeRepo) -> None:
    def issues(source: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(
            render(audit(make_repo({"app.py": source}), Config(select=("VC005",))), "gitlab")
        )
        return found

    before = issues(SECRETS)
    assert [i["severity"] for i in before] == ["critical", "critical"]
    assert [i["location"]["lines"]["begin"] for i in before] == [1, 2]
    after = issues("\n\n" + SECRETS)
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]
    assert len({i["fingerprint"] for i in before}) == 2


def test_gitlab_repository_level_findings_are_on_a_real_file(make_repo: MakeRepo, marker_rules: object) -> None:
    root = make_repo({"README.md": "# x\n"})
    [issue] = json.loads(render(audit(root, Config(select=("FC906",), project_kind=ProjectKind.TRAINING)), "gitlab"))
    assert issue["location"] == {"path": "README.md", "lines": {"begin": 1}}
    assert issue["description"].endswith("(about the repository; shown on README.md)")


def test_gitlab_issues_are_capped_with_a_last_info_issue_and_a_note_on_stderr(
    make_repo: MakeRepo, marker_rules: object, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = "".join(f'x{i} = "MARK-WARNING"\n' for i in range(30)) + 'e = "MARK-ERROR"\n'
    finished = audit(make_repo({"README.md": "# x\n", "a.py": lines}), Config(select=("FC901", "FC902")))
    full = json.loads(gitlab.render(finished))
    assert len(full) == 31 and capsys.readouterr().err == ""  # under the cap: every finding, no note
    issues = json.loads(gitlab.render(finished, max_results=10))
    jsonschema.Draft7Validator(gitlab_schema()).validate(issues)
    *kept, note = issues
    assert len(kept) == 10 and "FC901" in {i["check_name"] for i in kept}  # the most severe are kept
    by_print = {i["fingerprint"]: i for i in full}
    assert all(by_print[i["fingerprint"]] == i for i in kept)  # fingerprints do not depend on the cap
    assert note["check_name"] == "results-capped" and note["severity"] == "info"
    assert note["location"] == {"path": "README.md", "lines": {"begin": 1}}
    assert note["description"].startswith("21 of 31 findings left out")
    assert "fsdl-check --format json" in note["description"]
    assert "GitLab Code Quality: 21 of 31 findings left out" in capsys.readouterr().err


def test_the_default_gitlab_cap_is_the_sarif_one(make_repo: MakeRepo, marker_rules: object) -> None:
    finished = audit(make_repo({"a.py": 'x = "MARK-INFO"\n' * 5003}), Config(select=("FC903",)))
    issues = json.loads(gitlab.render(finished))
    assert len(issues) == scanning.MAX_RESULTS + 1 and issues[-1]["check_name"] == "results-capped"
    assert issues[-1]["location"]["path"] == "a.py"  # the file repository-level findings are shown on


# -- Markdown -------------------------------------------------------------------------------------------------------
def test_markdown_has_score_table_findings_table_and_folded_rules(report: Report) -> None:
    md = render(report, "markdown")
    assert md.startswith("## fsdl-check: score ")
    assert "| area | passed | failed | skipped | score |" in md
    assert "| fsdl-check itself (FC) |" in md
    assert "| **overall** |" in md
    row = next(line for line in md.splitlines() if "| FC901 |" in line)
    assert "\\[project\\] \\<b\\>\\&amp; 100%, a:b" in row  # Markdown and HTML escaped, the cell intact
    assert "<details><summary>" in md
    assert "ignored in configuration: no training here \\| really" in md
    assert md.rstrip().endswith("</details>")


def test_markdown_findings_table_stays_within_a_pull_request_comment(make_repo: MakeRepo) -> None:
    finished = audit(make_repo({"a.py": 'x = "MARK-WARNING"\n' * 300}), CONFIG)
    md = render(finished, "markdown")
    assert sum(line.startswith("| 🟠 | FC902 |") for line in md.splitlines()) == 200
    assert "… and 100 more" in md
    assert len(md) < 65_536


# -- text and concise -------------------------------------------------------------------------------------------------
def test_text_report_groups_findings_and_scores(report: Report) -> None:
    out = text.render(report)
    assert "\x1b[" not in out
    assert "fsdl-check itself (FC)" in out
    assert '  src/app.py:1  FC901 error  marker on this line: x = "MARK-ERROR [project] <b>&amp; 100%, a:b"' in out
    assert "  notes/whole-file.txt  FC904 warning  this file should not exist" in out
    assert "    fix: Remove the marker." in out
    assert "overall" in out
    assert f"{report.score:.0%}" in out
    assert "library project" in out
    assert "5 files" in out
    assert "FC906  A rule for training projects that always fires  —  no training here | really" in out
    assert "Found 5 findings (2 errors, 2 warnings, 1 info); 4 at or above fail-on=warning; 2 suppressed." in out
    assert "# fsdl: ignore[CODE] reason" in out
    assert "[tool.fsdl-check] ignore" in out
    assert "fsdl-check --explain CODE" in out


def test_text_report_in_colour(report: Report) -> None:
    out = text.render(report, color=True)
    assert "\x1b[" in out
    assert "[project]" in out  # user text is printed as it is, never read as markup


def test_concise_is_one_line_per_finding(report: Report) -> None:
    lines = render(report, "concise").splitlines()
    assert lines[0].startswith("broken.yml:2:1: FC002 invalid YAML")
    assert lines[1:3] == [
        "notes/whole-file.txt:1:1: FC904 this file should not exist",
        "old.sh:1:1: FC001 suppression of FC901 matches no finding",
    ]
    assert lines[3] == 'src/app.py:1:1: FC901 marker on this line: x = "MARK-ERROR [project] <b>&amp; 100%, a:b"'
    assert lines[-1] == "Found 5 findings (2 errors, 2 warnings, 1 info)."


# -- all formats ----------------------------------------------------------------------------------------------------
def test_formats_never_read_the_repository_again(make_repo: MakeRepo) -> None:
    root = make_repo(FILES)
    finished = audit(root, CONFIG)
    shutil.rmtree(root)
    for fmt in FORMATS:
        assert "FC901" in render(finished, fmt)


def test_non_utf8_file_names_print_in_every_format(make_repo: MakeRepo) -> None:
    root = make_repo({"ok.py": ""})
    name = b"caf\xe9.py"
    with open(os.path.join(os.fsencode(root), name), "wb") as fh:
        fh.write(b'x = "MARK-ERROR"\n')
    finished = audit(root, CONFIG)
    for fmt in FORMATS:
        out = render(finished, fmt)
        out.encode("utf-8")  # no lone surrogates left
        if fmt != "junit":  # JUnit shows paths only in failure text, checked below
            assert "caf\ufffd.py" in out or "caf%E9.py" in out
    sarif_log = json.loads(render(finished, "sarif"))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif_log["runs"][0]["results"]]
    assert uris == ["caf%E9.py"]
    assert "caf\ufffd.py:1: FC901" in render(finished, "junit")


def test_control_characters_in_names_cannot_reach_the_terminal(make_repo: MakeRepo) -> None:
    finished = audit(make_repo({"evil\x1b[2J.py": 'x = "MARK-ERROR"\n'}), CONFIG)
    for fmt in ("text", "concise"):
        out = render(finished, fmt)
        assert "\x1b" not in out
        assert "evil [2J.py:1" in out


def test_a_clean_report_in_every_format(make_repo: MakeRepo) -> None:
    finished = audit(make_repo({"a.py": "x = 1\n"}), CONFIG)
    assert finished.findings == []
    assert render(finished, "github") == ""
    assert render(finished, "concise") == "All selected checks passed.\n"
    assert "All selected checks passed." in render(finished, "text")
    assert render(finished, "markdown").startswith("## fsdl-check: all checks passed")
    assert json.loads(render(finished, "sarif"))["runs"][0]["results"] == []
    assert ET.fromstring(render(finished, "junit").encode()).get("failures") == "0"
