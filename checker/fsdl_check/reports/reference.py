"""The rule reference page (`docs/rules.md`), generated from the rule registry so it cannot drift from the rules.

Each rule's section is built from the same pieces as `fsdl-check --explain` (`catalogue.facts` and
`catalogue.sections`); this module adds the page around them: what codes, severities and training-only rules mean,
how to select, ignore and suppress rules, and an index. Regenerate the page after changing a rule with

    python -m fsdl_check.reports.reference docs/rules.md

and check that it is current (exit 1 when it is not) with ``--check``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from fsdl_check.model import Area, Rule, Severity, all_rules
from fsdl_check.regex import lazy
from fsdl_check.reports.catalogue import SUPPRESSING, facts, sections, template_file_note

COMMAND = "python -m fsdl_check.reports.reference"
REGENERATE = f"{COMMAND} docs/rules.md"
#: What each severity means to a user deciding what to fix first.
SEVERITY_MEANING = {
    Severity.ERROR: "the practice is broken in a way that bites soon: a secret in git, no tests, a file that "
    "does not parse",
    Severity.WARNING: "the practice is missing or weakened; fix it before the project grows",
    Severity.INFO: "a good habit worth adopting; below the default failure threshold",
}
_CODE_SPAN = lazy(r"(`+)(.+?)\1", re.DOTALL)


def render(rules: Sequence[type[Rule]] | None = None) -> str:
    """The whole reference page as Markdown (every registered rule when `rules` is None)."""
    rules = list(all_rules() if rules is None else rules)
    areas = [area for area in Area if any(rule.area() is area for rule in rules)]
    parts = [
        "# fsdl-check rule reference",
        f"<!-- Generated from the rule registry by `{REGENERATE}`; edit the rules, not this page. -->",
        _intro(rules, areas),
        _index(rules, areas),
    ]
    for area in areas:
        parts.append(f"## {area.prefix}: {area.title}")
        parts.extend(_rule_section(rule) for rule in rules if rule.area() is area)
    return "\n\n".join(parts) + "\n"


def _intro(rules: list[type[Rule]], areas: list[Area]) -> str:
    count = {severity: sum(rule.severity is severity for rule in rules) for severity in Severity}
    training = [rule for rule in rules if rule.training_only]
    severity_rows = "\n".join(
        f"| {severity.label} | {count[severity]} | {SEVERITY_MEANING[severity]} |"
        for severity in sorted(Severity, reverse=True)
    )
    training_list = ", ".join(_link(rule) for rule in training) if training else "none"
    example = rules[0].code if rules else "PK001"
    area_rows = "\n".join(
        f"| `{area.prefix}` | {area.title} | {sum(rule.area() is area for rule in rules)} |" for area in areas
    )
    return f"""\
fsdl-check has {len(rules)} rules in {len(areas)} areas. Each checks one infrastructure practice from Full Stack Deep
Learning's "Infrastructure and Tooling", says where each finding is (the file, and the line where there is one),
and names the file of a project generated from the fsdl-stack template that shows the practice satisfied.
`fsdl-check --explain CODE` prints a rule's section in the terminal; `fsdl-check --list-rules` lists them all.

## Codes and areas

A code is an area prefix and three digits (`{example}`). Codes never change meaning once released, and a prefix
selects a whole area (`PK`) or part of one (`PK00`); `ALL` selects everything.

| prefix | area | rules |
|---|---|---|
{area_rows}

## Severities

| severity | rules | meaning |
|---|---|---|
{severity_rows}

`fsdl-check` exits 1 when a finding reaches the failure threshold (`fail-on`, `warning` by default), 0 when none
does, and 2 on a usage or configuration error. `severity = {{ CODE = "error" }}` in the configuration changes a
rule's severity (the longest matching code or prefix wins).

## Training-only rules and prerequisites

Some practices only make sense for a project that trains models: seeding the entry point, tracking runs, a smoke
test of the training loop. fsdl-check detects what a repository is (a **training** project, a **library** or a
collection of **notebooks**) from the files it has already parsed, and skips training-only rules unless it is a
training project; `project-kind = "training"` in the configuration (or `--project-kind`) overrides the detection.
Training-only rules: {training_list}.

A rule that **requires** another is skipped while that one fails, so one missing file does not cascade into a list
of findings that all say the same thing.

## Selecting, ignoring and suppressing rules

Configuration lives in `[tool.fsdl-check]` in `pyproject.toml`, or the same keys at the top of
`.fsdl-check.toml`:

```toml
[tool.fsdl-check]
select = ["ALL"]                                   # codes or prefixes
extend-select = []                                 # added to select
ignore = {{ NB002 = "teaching notebooks keep their outputs" }}   # code or prefix = reason
per-path-ignores = {{ "scripts/*" = ["RP003"] }}    # gitignore-style pattern = codes
severity = {{ QA007 = "warning" }}
fail-on = "warning"                                # error | warning | info
exclude = ["vendor/**"]                            # paths left out of the audit entirely
```

On the command line, `--select`, `--extend-select` and `--ignore` take comma-separated codes or prefixes.
Unknown keys or codes are an error (exit 2), never silently ignored.

In any file whose comments start with `#` (Python, YAML, TOML, shell, Dockerfile, Makefile, requirements,
ignore files), `# fsdl: ignore[CODE] reason` suppresses the findings of `CODE` on its line and
`# fsdl: ignore-file[CODE] reason` suppresses them in the whole file. A suppression that no longer matches a
finding is itself reported ({_link_code("FC001", rules)}), so stale ones do not pile up."""


def _index(rules: list[type[Rule]], areas: list[Area]) -> str:
    rows = ["| code | rule | severity | scope |", "|---|---|---|---|"]
    for area in areas:
        for rule in (r for r in rules if r.area() is area):
            scope = "training projects" if rule.training_only else "all projects"
            rows.append(f"| {_link(rule)} | {_table_text(rule.title())} | {rule.severity.label} | {scope} |")
    return "## All rules\n\n" + "\n".join(rows)


def _rule_section(rule: type[Rule]) -> str:
    # `facts` is the terminal's plain text; here code, area and the template file are formatted for Markdown.
    labels = dict(facts(rule))
    template = f"`{rule.template_file}`" if rule.template_file else prose(template_file_note(rule))
    requires = ", ".join(f"[{code}](#{code.lower()})" for code in rule.requires) or labels["Requires"]
    lines = [
        f"- **Severity**: {labels['Severity']}",
        f"- **Applies to**: {labels['Applies to']}",
        f"- **Requires**: {requires}",
        f"- **Template file**: {template}",
        f"- **Automatic fix**: {prose(labels['Automatic fix'])}",
    ]
    parts = [f'<a id="{rule.code.lower()}"></a>\n\n### {rule.code}: {rule.title()}', "\n".join(lines)]
    for heading, body in sections(rule):
        if heading != SUPPRESSING:  # the page says once, in its introduction, how to suppress any rule
            parts += [f"#### {heading}", body if heading == "Example" else prose(body)]
    return "\n\n".join(parts)


def _link(rule: type[Rule]) -> str:
    return f"[{rule.code}](#{rule.code.lower()})"


def _link_code(code: str, rules: list[type[Rule]]) -> str:
    return f"[{code}](#{code.lower()})" if any(rule.code == code for rule in rules) else code


def prose(text: str) -> str:
    """Text with `<` outside code spans escaped, so a `<package>` placeholder is not taken for an HTML tag."""
    out, last = [], 0
    for span in _CODE_SPAN.finditer(text):
        out += [text[last : span.start()].replace("<", "&lt;"), span.group(0)]
        last = span.end()
    out.append(text[last:].replace("<", "&lt;"))
    return "".join(out)


def _table_text(text: str) -> str:
    return prose(text).replace("|", "\\|")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="Write the rule reference page generated from the rule registry.",
    )
    parser.add_argument("path", type=Path, help="the Markdown file to write, e.g. docs/rules.md")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is not current")
    args = parser.parse_args(argv)
    page = render()
    path: Path = args.path
    try:
        if args.check:
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            if current != page:
                print(f"{path} is out of date; regenerate it with: {COMMAND} {path}", file=sys.stderr)
                return 1
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {path}: {exc.strerror if isinstance(exc, OSError) else exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
