"""Marker rules for the CLI, report, configuration and suppression tests.

They fire on a marker string in any text file, so a test controls exactly which findings exist, in which file type
and on which line, whatever the real rule set looks like while it grows. They are registered only for the tests
that ask for the `marker_rules` fixture (and removed again afterwards).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from fsdl_check.cache import CACHE_DIR_VARIABLE
from fsdl_check.cli import main
from fsdl_check.model import REGISTRY, Finding, Rule, Severity, all_rules
from fsdl_check.repo import Repo, RepoFile


class _MarkerRule(Rule):
    marker: ClassVar[str] = ""
    fix = "Remove the marker."

    def check(self, files: list[RepoFile], repo: Repo) -> Iterator[Finding]:
        for file in files:
            for number, line in enumerate((repo.text(file.path) or "").splitlines(), start=1):
                if self.marker in line:
                    yield self.finding(file.path, number, f"marker on this line: {line.strip()}")


class ErrorMarker(_MarkerRule):
    """No line carries the error marker

    A test rule: it fires on every line containing its marker.
    """

    severity = Severity.ERROR
    marker = "MARK-ERROR"
    example = 'x = "MARK-ERROR"'
    template_file = "pyproject.toml"


class WarningMarker(_MarkerRule):
    """No line carries the warning marker"""

    severity = Severity.WARNING
    marker = "MARK-WARNING"


class InfoMarker(_MarkerRule):
    """No line carries the info marker"""

    severity = Severity.INFO
    marker = "MARK-INFO"


class WholeFile(Rule):
    """No file is named whole-file.txt"""

    severity = Severity.WARNING
    fix = "Rename it."

    def check(self, files: list[RepoFile]) -> Iterator[Finding]:
        for file in files:
            if file.name == "whole-file.txt":
                yield self.finding(file.path, None, "this file should not exist")


class NeedsWholeFile(Rule):
    """A rule that only makes sense once FC904 passes"""

    severity = Severity.WARNING
    fix = "Nothing to fix."
    requires = ("FC904",)

    def check(self) -> Iterator[Finding]:
        return iter(())


class TrainingOnly(Rule):
    """A rule for training projects that always fires"""

    severity = Severity.WARNING
    fix = "Nothing to fix."
    training_only = True

    def check(self) -> Iterator[Finding]:
        yield self.finding(".", None, "training-only rule ran")


# Codes are assigned after the class bodies so that defining the classes registers nothing.
MARKER_RULES: dict[str, type[Rule]] = {
    "FC901": ErrorMarker,
    "FC902": WarningMarker,
    "FC903": InfoMarker,
    "FC904": WholeFile,
    "FC905": NeedsWholeFile,
    "FC906": TrainingOnly,
}
for _code, _rule in MARKER_RULES.items():
    _rule.code = _code


@pytest.fixture
def marker_rules(monkeypatch: pytest.MonkeyPatch) -> dict[str, type[Rule]]:
    all_rules()  # register the real rules first, so the test rules are added to the full registry
    for code, rule in MARKER_RULES.items():
        monkeypatch.setitem(REGISTRY, code, rule)
    return MARKER_RULES


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run_cli("--select", "FC", root)`` -> (exit code, stdout, stderr), in-process and without colour."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def run(*args: str | Path) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh cache directory, also for audits run through the command line."""
    directory = tmp_path / "cache"
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(directory))
    return directory
