"""FC: findings about the audit itself — inputs it could not read or parse, suppressions that suppress nothing."""

from __future__ import annotations

from collections.abc import Iterator

from fsdl_check.model import Finding, Rule, Severity
from fsdl_check.repo import ParseError


class UnusedSuppression(Rule):
    """Every `# fsdl: ignore[...]` comment suppresses a finding

    A suppression that no longer matches anything hides nothing today but will silently hide a real problem
    tomorrow, and it misleads readers about what the code does. The engine evaluates this rule after all the
    others, from the suppressions it actually applied.
    """

    code, severity = "FC001", Severity.INFO
    fix = "Delete the comment, or correct the code in its brackets."
    example = "x = 1  # fsdl: ignore[VC005] nothing on this line looks like a secret"

    def check(self) -> Iterator[Finding]:
        return iter(())  # filled in by the engine, which alone knows which suppressions were used


class ParseFailure(Rule):
    """Configuration and notebook files parse (TOML, YAML, notebook JSON)

    A file that does not parse cannot be audited — and usually cannot be used by the tool it configures either:
    a broken pyproject.toml breaks installs, a broken workflow never runs. Files with template markers
    (`{{ }}` or `{% %}`) are templates, not data, and are left alone. Files and directories the audit could not
    read (permission denied) and Python files over the read limit are reported here too, as ruff's E902 does:
    what was not read was not audited.
    """

    code, severity = "FC002", Severity.ERROR
    fix = "Fix the syntax error at the reported line (a TOML/YAML linter in pre-commit catches these early)."

    def check(self, parse_errors: list[ParseError]) -> Iterator[Finding]:
        for error in parse_errors:
            yield self.finding(error.path, error.line, error.message)
