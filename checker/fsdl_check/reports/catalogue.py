"""The rule catalogue as users read it: `--list-rules` (text or JSON) and `--explain CODE` (one rule's full page).

The explain page follows ruff's shape (what it checks, why, an example, how to fix) so it reads the same in a
terminal and pasted into Markdown.
"""

from __future__ import annotations

import json
from typing import Any

from fsdl_check.model import Rule, all_rules


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
    }


def list_text() -> str:
    rules = all_rules()
    rows = [(r.code, r.severity.label, r.area().title, _title_with_scope(r)) for r in rules]
    header = ("code", "severity", "area", "title")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3] for row in rows]
    top = "  ".join(h.ljust(w) for h, w in zip(header[:3], widths, strict=True)) + "  " + header[3]
    return "\n".join([top, *lines, f"\n{len(rules)} rules. `fsdl-check --explain CODE` shows one in full."]) + "\n"


def _title_with_scope(rule: type[Rule]) -> str:
    return rule.title() + (" (training projects only)" if rule.training_only else "")


def list_json() -> str:
    return json.dumps([metadata(r) for r in all_rules()], indent=2, ensure_ascii=False) + "\n"


def explain_text(rule: type[Rule]) -> str:
    area = rule.area()
    scope = "training projects only" if rule.training_only else "every project"
    facts = [
        f"Code: {rule.code}",
        f"Area: {area.title} ({area.prefix})",
        f"Severity: {rule.severity.label}",
        f"Applies to: {scope}",
        f"Requires: {', '.join(rule.requires) if rule.requires else 'nothing (always evaluated when selected)'}",
        f"Template file: {rule.template_file or 'none'}",
    ]
    parts = [f"# {rule.code}: {rule.title()}", "\n".join(facts), "## What it checks", f"{rule.title()}."]
    if rule.rationale():
        parts += ["## Why it matters", rule.rationale()]
    if rule.example:
        parts += ["## Example", f"```\n{rule.example.strip()}\n```"]
    fix = rule.fix
    if rule.template_file:
        fix += f"\n\nA project generated from the fsdl-stack template satisfies it in `{rule.template_file}`."
    parts += ["## How to fix", fix]
    parts += [
        "## Suppressing it",
        f"On one line: `# fsdl: ignore[{rule.code}] reason`.\n"
        f"For a whole file: `# fsdl: ignore-file[{rule.code}] reason`.\n"
        f'For the repository: `[tool.fsdl-check] ignore = {{{rule.code} = "reason"}}` in pyproject.toml.',
    ]
    return "\n\n".join(parts) + "\n"


def explain_json(rule: type[Rule]) -> str:
    return json.dumps(metadata(rule), indent=2, ensure_ascii=False) + "\n"
