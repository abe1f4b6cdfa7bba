"""fsdl-check audits this repository clean, with its own `[tool.fsdl-check]` configuration (every rule, fail-on info).

Audited twice: the working tree as a developer's pre-commit hook sees it, and a fresh copy holding only what git
would commit (tracked files plus untracked ones that are not ignored), as CI's clean clone sees it — so the result
never depends on a local virtual environment, caches or other ignored files.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fsdl_check import config as fsdl_config
from fsdl_check import engine
from fsdl_check.cli import main
from fsdl_check.model import Finding, Severity, Status
from fsdl_check.repo import Options, Repo
from fsdl_check.rules.ci_commands import ci_commands

REPO_ROOT = Path(__file__).resolve().parents[2]


def describe(findings: list[Finding]) -> str:
    return "\n".join(f"  {f.path}{f':{f.line}' if f.line else ''}: {f.code} {f.message}" for f in findings)


def clean_copy(destination: Path) -> Path:
    """The files a clean clone would have, committed to a new repository at `destination`."""
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    for rel in sorted({p for p in listed.decode().split("\0") if p}):
        source, target = REPO_ROOT / rel, destination / rel
        if not (source.exists() or source.is_symlink()):
            continue  # deleted in the working tree, not yet in the index
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        else:
            shutil.copy2(source, target)
    subprocess.run(["git", "init", "-q", str(destination)], check=True)
    subprocess.run(["git", "-C", str(destination), "add", "-A"], check=True)
    return destination


def test_configuration_audits_everything_at_every_severity() -> None:
    config = fsdl_config.load(REPO_ROOT)
    assert config.source == "pyproject.toml [tool.fsdl-check]"
    assert config.select == ("ALL",)
    assert config.fail_on is Severity.INFO
    assert "template/**" in config.exclude
    assert all(reason.strip() for reason in config.ignore.values()), f"an ignore without a reason: {config.ignore}"


@pytest.mark.parametrize("tree", ["working tree", "clean clone"])
def test_repository_audits_clean(tree: str, tmp_path: Path) -> None:
    root = REPO_ROOT if tree == "working tree" else clean_copy(tmp_path / "clone")
    report = engine.audit(root, fsdl_config.load(root))
    assert report.findings == [], f"fsdl-check findings on this repository ({tree}):\n{describe(report.findings)}"
    # Only the reasoned ignores and the rules for training projects are skipped: everything else really ran.
    skipped = {r.code for r in report.results if r.status is Status.SKIP}
    training_only = {r.code for r in report.results if r.rule.training_only}
    assert skipped <= set(report.config.ignore) | training_only, skipped


def test_cli_exits_zero_on_this_repository(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--format", "concise", str(REPO_ROOT)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out == "All selected checks passed.\n"


def test_ci_runs_the_repository_checks_through_its_entry_script() -> None:
    # CI says `bash .ci/run`; the checker follows it into the Makefile's lint and test recipes.
    config = fsdl_config.load(REPO_ROOT)
    repo = Repo(REPO_ROOT, Options(exclude=config.exclude))
    programs = {command.program for command in ci_commands(repo)}
    assert {"pytest", "ruff", "mypy"} <= programs, programs
