"""A rule whose `check` names an input the `Repo` lacks fails when the rules are imported, not during an audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsdl_check.model import REGISTRY, Finding, Rule, Severity, all_rules
from fsdl_check.repo import RepoFile
from fsdl_check.rules import check_inputs


def test_every_registered_rule_asks_for_inputs_the_repo_has() -> None:
    check_inputs(all_rules())


def test_a_typo_in_an_input_name_is_a_type_error_naming_the_rule_and_the_input() -> None:
    class Typo(Rule):
        """A rule with a typo in its input name"""

        code, severity, fix = "FC990", Severity.INFO, "Spell it right."

        def check(self, fils: list[RepoFile]) -> Iterator[Finding]:
            yield from ()

    try:
        with pytest.raises(TypeError, match=r"Typo \(FC990\): check\(\) asks for 'fils'"):
            check_inputs([Typo])
    finally:
        REGISTRY.pop("FC990", None)


def test_inputs_set_in_the_repos_constructor_and_the_repo_itself_are_accepted() -> None:
    class Fine(Rule):
        """A rule that reads the root, the options and the repository"""

        code, severity, fix = "FC991", Severity.INFO, "Nothing."

        def check(self, root: object, options: object, repo: object, files: list[RepoFile]) -> Iterator[Finding]:
            yield from ()

    try:
        check_inputs([Fine])
    finally:
        REGISTRY.pop("FC991", None)
