"""The rule reference `docs/rules.md` is exactly what the registry generates, and every rule carries what the page
(and `--explain`) needs: a title, a rationale, a fix, a code in its module's area, and a template file or a reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fsdl_check.model import Area, Rule, all_rules
from fsdl_check.reports import catalogue, reference

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs" / "rules.md"
RULES = all_rules()
CODE = re.compile(r"^[A-Z]{2}\d{3}$")


def test_docs_page_is_current() -> None:
    # A rule changed without regenerating the page: run the command in the message and commit the result.
    assert DOCS.read_text(encoding="utf-8") == reference.render(), (
        f"docs/rules.md is out of date; regenerate it with: {reference.REGENERATE}"
    )


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_has_title_rationale_and_fix(rule: type[Rule]) -> None:
    assert rule.title(), f"{rule.code}: empty title (the docstring's first line)"
    assert not rule.title().endswith("."), f"{rule.code}: the title is a heading, without a full stop"
    assert len(rule.rationale()) >= 80, f"{rule.code}: the rationale (the docstring after the title) is missing"
    assert rule.fix.strip(), f"{rule.code}: empty fix"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_template_file_or_a_reason_for_none(rule: type[Rule]) -> None:
    if rule.template_file:
        return
    # Without a template file, the area has a stated reason, or the fix says how the template does it instead.
    assert rule.area() in catalogue.NO_TEMPLATE_FILE or "template" in rule.fix, (
        f"{rule.code} has no template_file and neither its area nor its fix says why"
    )
    assert catalogue.template_file_note(rule).startswith("none: ")


def test_codes_match_the_area_of_their_module() -> None:
    # One module per area: a rule filed in the wrong module, or given another area's prefix, shows up here.
    areas_by_module: dict[str, set[str]] = {}
    for rule in RULES:
        assert CODE.fullmatch(rule.code), rule.code
        assert rule.area() is Area[rule.code[:2]]
        areas_by_module.setdefault(rule.__module__, set()).add(rule.code[:2])
    mixed = {module: areas for module, areas in areas_by_module.items() if len(areas) > 1}
    assert mixed == {}, f"rule modules holding more than one area: {mixed}"


def test_page_has_one_section_per_rule_under_its_area() -> None:
    page = reference.render()
    headings = re.findall(r"^(##|###) (.+)$", page, flags=re.MULTILINE)
    sections = [(level, text) for level, text in headings if level == "###" or re.match(r"[A-Z]{2}: ", text)]
    expected = []
    for area in Area:
        in_area = [rule for rule in RULES if rule.area() is area]
        if in_area:
            expected.append(("##", f"{area.prefix}: {area.title}"))
            expected += [("###", f"{rule.code}: {rule.title()}") for rule in in_area]
    assert sections == expected
    for rule in RULES:
        assert f'<a id="{rule.code.lower()}"></a>' in page
        assert f"[{rule.code}](#{rule.code.lower()})" in page  # the index links to it


def test_page_sections_carry_fix_rationale_and_template_file() -> None:
    page = reference.render()
    for rule in RULES:
        section = page.split(f"### {rule.code}: ", 1)[1].split("\n### ", 1)[0]
        assert f"- **Severity**: {rule.severity.label}" in section
        assert ("training projects only" in section) is rule.training_only
        for required in rule.requires:
            assert f"[{required}](#{required.lower()})" in section
        assert rule.rationale().split("\n", 1)[0] in section
        template = f"`{rule.template_file}`" if rule.template_file else catalogue.template_file_note(rule)
        assert f"- **Template file**: {template}" in section
        assert f"#### How to fix\n\n{reference.prose(rule.fix)}" in section
        if rule.example:
            assert rule.example.strip() in section


def test_placeholders_outside_code_are_escaped() -> None:
    text = "Put it in `src/<package>/` or src/<package>/ itself."
    assert reference.prose(text) == "Put it in `src/<package>/` or src/&lt;package>/ itself."
    page = reference.render()
    outside_code = re.sub(r"```.*?```|`[^`\n]*`", "", page, flags=re.DOTALL)
    tags = set(re.findall(r"<[^ >]*", outside_code))
    assert tags <= {"<a", "<!--", "</a"}, f"raw HTML-like text in the page: {tags}"


def test_generator_writes_and_checks_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "docs" / "rules.md"
    assert reference.main([str(target), "--check"]) == 1  # missing counts as out of date
    capsys.readouterr()
    assert reference.main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == reference.render()
    assert reference.main([str(target), "--check"]) == 0
    target.write_text(reference.render() + "edited by hand\n", encoding="utf-8")
    assert reference.main([str(target), "--check"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"{target} is out of date; regenerate it with: {reference.COMMAND} {target}"]


def test_generator_reports_an_unwritable_path_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert reference.main([str(blocker / "rules.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {blocker / 'rules.md'}: ")
