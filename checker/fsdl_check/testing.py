"""Helpers for testing rules (this project's tests use them; so can anyone writing rules of their own)."""

from __future__ import annotations

from pathlib import Path

from fsdl_check.model import REGISTRY, Finding, all_rules
from fsdl_check.repo import Options, Repo


def run_rule(code: str, root: str | Path, **options: object) -> list[Finding]:
    """Run one rule's `check` on the repository at `root`, as the engine would give it its inputs, but without
    configuration, suppressions or prerequisites: the rule's own findings, sorted."""
    all_rules()
    rule = REGISTRY[code]()
    repo = Repo(root, Options(**options))  # type: ignore[arg-type]
    return sorted(rule.check(**{name: repo if name == "repo" else getattr(repo, name) for name in rule.inputs()}))
