"""The rule catalogue as users read it: `--list-rules` (text or JSON) and `--explain CODE` (one rule's full page).

The explain page follows ruff's shape (what it checks, why, an example, how to fix) so it reads the same in a
terminal and pasted into Markdown.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fsdl_check.fixes import fix_summary, has_fix
from fsdl_check.model import Area, Rule, all_rules


def metadata(rule: type[Rule]) -> dict[str, Any]:
    """Everything a report or a user needs to know about a rule, as plain JSON-able values."""
    area = rule.area()
    return {
        "code": rule.code,
        "title": rule.title(),
        "area": area.prefix,
        "area_title": area.title,
        "severity": rule.severity.label,
        "training_only": rule.training_only,
        "requires": list(rule.requires),
        "rationale": rule.rationale(),
        "example": rule.example or None,
        "fix": rule.fix,
        "template_file": rule.template_file,
        "fixable": has_fix(rule.code),
    }


def list_text() -> str:
    rules = all_rules()
    rows = [
        (r.code, r.severity.label, r.area().title, "yes" if has_fix(r.code) else "", _title_with_scope(r))
        for r in rules
    ]
    header = ("code", "severity", "area", "fix", "title")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4] for row in rows]
    top = "  ".join(h.ljust(w) for h, w in zip(header[:4], widths, strict=True)) + "  " + header[4]
    fixable = sum(1 for r in rules if has_fix(r.code))
    end = f"\n{len(rules)} rules, {fixable} with a fix (`fsdl-check --diff` shows it, `--fix` applies it)."
    return "\n".join([top, *lines, end + " `fsdl-check --explain CODE` shows one in full."]) + "\n"


def _title_with_scope(rule: type[Rule]) -> str:
    return rule.title() + (" (training projects only)" if rule.training_only else "")


def list_json() -> str:
    return json.dumps([metadata(r) for r in all_rules()], indent=2, ensure_ascii=False) + "\n"


#: The heading of the per-rule suppression help (the rule reference says it once for all rules instead).
SUPPRESSING = "Suppressing it"
#: Why a rule has no template file, for the areas where none can exist.
NO_TEMPLATE_FILE = {
    Area.FC: "it checks the audit's own inputs, such as parse errors and stale suppressions, not a project practice",
}


def template_file_note(rule: type[Rule]) -> str:
    """Where a generated project satisfies the rule, or why no template file does."""
    if rule.template_file:
        return rule.template_file
    reason = NO_TEMPLATE_FILE.get(rule.area())
    return f"none: {reason}" if reason else "none: the template does not take this route (see how to fix)"


def facts(rule: type[Rule]) -> list[tuple[str, str]]:
    """The rule's one-line facts as (label, value): code, area, severity, scope, prerequisites, template file."""
    area = rule.area()
    scope = "training projects only" if rule.training_only else "every project"
    return [
        ("Code", rule.code),
        ("Area", f"{area.title} ({area.prefix})"),
        ("Severity", rule.severity.label),
        ("Applies to", scope),
        ("Requires", ", ".join(rule.requires) if rule.requires else "nothing (always evaluated when selected)"),
        ("Template file", template_file_note(rule)),
        ("Automatic fix", _fix_note(rule)),
    ]


def _fix_note(rule: type[Rule]) -> str:
    summary = fix_summary(rule.code)
    return f"yes, `fsdl-check --fix` {summary}" if summary else "none (see how to fix)"


def sections(rule: type[Rule]) -> list[tuple[str, str]]:
    """The rule's page as (heading, Markdown body) pairs, shared by `--explain` and the rule reference."""
    parts = [("What it checks", f"{rule.title()}.")]
    if rule.rationale():
        parts.append(("Why it matters", rule.rationale()))
    if rule.example:
        example = rule.example.strip()
        fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", example))])  # longer than any run inside
        parts.append(("Example", f"{fence}\n{example}\n{fence}"))
    fix = rule.fix
    if rule.template_file:
        fix += f"\n\nA project generated from the fsdl-stack template satisfies it in `{rule.template_file}`."
    parts.append(("How to fix", fix))
    parts.append(
        (
            SUPPRESSING,
            f"On one line: `# fsdl: ignore[{rule.code}] reason`.\n"
            f"For a whole file: `# fsdl: ignore-file[{rule.code}] reason`.\n"
            f'For the repository: `[tool.fsdl-check] ignore = {{{rule.code} = "reason"}}` in pyproject.toml.',
        )
    )
    return parts


def explain_text(rule: type[Rule]) -> str:
    parts = [f"# {rule.code}: {rule.title()}", "\n".join(f"{label}: {value}" for label, value in facts(rule))]
    for heading, body in sections(rule):
        parts += [f"## {heading}", body]
    return "\n\n".join(parts) + "\n"


def explain_json(rule: type[Rule]) -> str:
    return json.dumps(metadata(rule), indent=2, ensure_ascii=False) + "\n"
