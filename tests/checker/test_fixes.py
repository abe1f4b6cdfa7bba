"""`fsdl-check --diff` and `--fix`: what is shown is what is written, nothing the user wrote changes, a second run
changes nothing, and links and paths outside the root are never written through."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run

from fsdl_check import fixes
from fsdl_check.cli import main

MakeRepo = Callable[..., Path]
REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_GITIGNORE = REPO_ROOT / "template" / "{{cookiecutter.project_slug}}" / ".gitignore"

NOTEBOOK = json.dumps(
    {
        "cells": [{"cell_type": "code", "source": ["1"], "metadata": {}, "execution_count": 1,
                   "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1"]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    },
    indent=1,
)  # fmt: skip
WORKFLOW = (
    "name: CI\non: [push]\n\n# the jobs\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
)
PRECOMMIT = (
    "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n  rev: v0.6.9\n  hooks:\n  - id: ruff\n"
    "    args: [--fix]\n\n# pre-commit.ci\nci:\n  autofix_prs: false\n"
)
#: A repository most fixes apply to, with files the user wrote in every shape a fix must respect.
RICH = {
    "train.py": "import torch\nimport lightning\nimport mlflow\n",
    "README.md": "x\n",
    "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n',
    ".gitignore": "__pycache__/\nmlruns/",  # no newline at the end
    "Dockerfile": 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/train.py"]\n',
    ".dockerignore": "# mine\r\n.git\r\n",  # CRLF line endings
    "notebooks/explore.ipynb": NOTEBOOK,
    ".pre-commit-config.yaml": PRECOMMIT,
    ".github/workflows/ci.yml": WORKFLOW,
}


def tree(root: Path) -> dict[str, str]:
    """Every file under root (git's own folder aside) with its checksum."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts[:1]
    }


def findings(run_cli: Run, root: Path) -> int:
    _, out, _ = run_cli("--format", "json", "--select", "ALL", root)
    return int(json.loads(out)["summary"]["findings"])


def test_acceptance_a_bare_training_script(tmp_path: Path, run_cli: Run) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "train.py").write_text("import torch\n")
    (root / "README.md").write_text("x\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    before = tree(root)
    count = findings(run_cli, root)

    status, diff, _ = run_cli("--diff", root)
    assert status == 1 and diff.startswith("--- /dev/null\n+++ b/.gitignore\n")
    assert tree(root) == before

    status, out, err = run_cli("--fix", "--format", "json", root)
    assert "fixed VC003: created .gitignore" in err
    assert json.loads(out)["summary"]["findings"] < count
    assert findings(run_cli, root) < count
    after = tree(root)
    assert {k: after[k] for k in before} == before  # train.py and README.md untouched
    assert set(after) - set(before) == {".gitignore"}


def test_diff_applied_with_patch_is_what_fix_writes_and_nothing_is_rewritten(
    make_repo: MakeRepo, run_cli: Run, tmp_path: Path
) -> None:
    root = make_repo(RICH, git=True)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, symlinks=True)
    status, diff, err = run_cli("--diff", "--select", "ALL", root)
    assert err == "" and status == 1
    for path in (".gitignore", ".dockerignore", ".pre-commit-config.yaml", ".github/workflows/ci.yml"):
        assert f"+++ b/{path}\n" in diff
    subprocess.run(["patch", "-p1", "--quiet", "--batch"], input=diff, text=True, cwd=copy, check=True)

    run_cli("--fix", "--select", "ALL", root)
    assert tree(root) == tree(copy)
    for path, text in RICH.items():  # every file the user wrote is kept as it was, with lines added
        written = (root / path).read_bytes().decode()
        assert fixes.insertions_only(text, written), path
        assert written.startswith(text) or path.endswith((".yml", ".yaml")), path
    gitignore = (root / ".gitignore").read_text()
    assert gitignore.startswith("__pycache__/\nmlruns/\n\n# ML run artifacts (added by fsdl-check --fix)\n")
    assert (root / ".dockerignore").read_bytes().startswith(b"# mine\r\n.git\r\n\r\n# kept out")
    assert b"\n" not in (root / ".dockerignore").read_bytes().replace(b"\r\n", b"")
    workflow = (root / ".github/workflows/ci.yml").read_text()
    assert workflow == WORKFLOW.replace("\n# the jobs", "\npermissions:\n  contents: read\n\n# the jobs")
    precommit = (root / ".pre-commit-config.yaml").read_text()
    assert precommit.endswith("- id: nbstripout\n\n# pre-commit.ci\nci:\n  autofix_prs: false\n")
    dependabot = (root / ".github/dependabot.yml").read_text()
    assert "package-ecosystem: pip" in dependabot and "package-ecosystem: docker" in dependabot

    assert "mlartifacts/" in gitignore and "mlflow.db" in gitignore  # EX004: MLflow's other defaults
    for code in ("VC003", "EX004", "DK005", "NB002", "GA001", "GA003"):
        _, out, _ = run_cli("--select", code, "--format", "json", root)
        assert json.loads(out)["summary"]["findings"] == 0, code


def test_a_second_fix_changes_nothing(make_repo: MakeRepo, run_cli: Run) -> None:
    root = make_repo(RICH, git=True)
    run_cli("--fix", "--select", "ALL", root)
    first = tree(root)
    _, _, err = run_cli("--fix", "--select", "ALL", root)
    assert "fixed" not in err
    assert tree(root) == first
    assert run_cli("--diff", "--select", "ALL", root)[1] == ""


def test_refuses_to_write_through_a_symbolic_link(make_repo: MakeRepo, run_cli: Run, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ignore").write_text("keep\n")
    root = make_repo({"train.py": "import mlflow\n", "README.md": "x\n"}, git=True)
    (root / ".gitignore").symlink_to(outside / "ignore")
    (root / ".github").symlink_to(outside, target_is_directory=True)
    (root / "requirements.txt").write_text("torch==2.5.0\n")
    _, diff, err = run_cli("--diff", root)
    assert diff == ""
    assert "VC003: not fixed: .gitignore: .gitignore is a symbolic link" in err
    assert "GA003: not fixed: .github/dependabot.yml: .github is a symbolic link" in err
    run_cli("--fix", root)
    assert (outside / "ignore").read_text() == "keep\n"
    assert sorted(p.name for p in outside.iterdir()) == ["ignore"]


def test_workspace_never_leaves_the_root(tmp_path: Path) -> None:
    workspace = fixes.Workspace(tmp_path)
    for rel in ("../x", "/etc/passwd", "a/../../x", "a//b", "./a"):
        with pytest.raises(fixes.Refused):
            workspace.target(rel)


def test_a_fix_never_overwrites_a_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("mine\n")
    workspace = fixes.Workspace(tmp_path)
    with pytest.raises(fixes.Refused, match="never overwrites"):
        workspace.create("a", "theirs\n", "X")


def test_a_file_changed_after_planning_is_not_written(make_repo: MakeRepo) -> None:
    root = make_repo({".gitignore": "x/\n"})
    workspace = fixes.Workspace(root)
    workspace.append(".gitignore", ["mlruns/"], "VC003", "added")
    plan = fixes.Plan(root, list(workspace.changes.values()), [])
    (root / ".gitignore").write_text("changed meanwhile\n")
    assert plan.write() == []
    assert plan.notes == ["not written: .gitignore: changed since it was read"]
    assert (root / ".gitignore").read_text() == "changed meanwhile\n"


def test_workflow_that_may_need_write_access_is_left_alone(make_repo: MakeRepo, run_cli: Run) -> None:
    text = WORKFLOW.replace("- run: pytest", "- run: git push origin HEAD:gh-pages")
    root = make_repo({".github/workflows/ci.yml": text})
    _, diff, err = run_cli("--diff", "--select", "GA001", root)
    assert diff == ""
    assert "GA001: not fixed: .github/workflows/ci.yml may need more than read access" in err


@pytest.mark.parametrize(
    "config",
    ["repos: []\n", "repos:\n  - repo: local\n    hooks: []\n---\nrepos: []\n", "default_stages: [commit]\n"],
)
def test_precommit_config_without_a_block_repos_list_is_left_alone(
    make_repo: MakeRepo, run_cli: Run, config: str
) -> None:
    root = make_repo({".pre-commit-config.yaml": config, "nb.ipynb": NOTEBOOK}, git=True)
    _, diff, err = run_cli("--diff", "--select", "NB002", root)
    assert diff == ""
    assert "NB002: not fixed: .pre-commit-config.yaml" in err


def test_precommit_config_is_created_when_missing(make_repo: MakeRepo, run_cli: Run) -> None:
    root = make_repo({"nb.ipynb": NOTEBOOK}, git=True)
    run_cli("--fix", "--select", "NB002", root)
    assert "id: nbstripout" in (root / ".pre-commit-config.yaml").read_text()
    assert json.loads(run_cli("--format", "json", "--select", "NB002", root)[1])["summary"]["findings"] == 0


def test_gitignore_keeps_a_deliberate_negation_and_python_folders(make_repo: MakeRepo, run_cli: Run) -> None:
    files = {
        ".gitignore": "!outputs/\n",
        "checkpoints/__init__.py": "",
        "train.py": "import lightning, hydra, mlflow\n",
    }
    root = make_repo(files, git=True)
    run_cli("--fix", "--select", "VC003", root)
    added = (root / ".gitignore").read_text().split("\n", 1)[1]
    assert "outputs/" not in added and "checkpoints/" not in added
    assert "*.ckpt" in added


def test_new_gitignore_is_the_templates(tmp_path: Path) -> None:
    template = set(TEMPLATE_GITIGNORE.read_text().splitlines())
    ours = [line for line in fixes.NEW_GITIGNORE.splitlines() if line and not line.startswith("#")]
    assert set(ours) <= template


def test_fix_and_diff_flags(run_cli: Run, tmp_path: Path) -> None:
    assert run_cli("--fix", "--diff", tmp_path)[0] == 2
    assert "--diff prints a unified diff" in run_cli("--diff", "--format", "json", tmp_path)[2]
    assert "cannot be combined" in run_cli("--fix", "--statistics", tmp_path)[2]
    assert main(["--diff", "--exit-zero", str(tmp_path)]) == 0


def test_rules_say_whether_they_have_a_fix(run_cli: Run) -> None:
    listed = {r["code"]: r["fixable"] for r in json.loads(run_cli("--list-rules", "--format", "json")[1])}
    assert {code for code, fixable in listed.items() if fixable} == set(fixes.FIXERS)
    assert set(fixes.FIXERS) == {"VC003", "EX004", "DK005", "NB002", "GA001", "GA003", "DK007", "QA004"}
    text = run_cli("--list-rules")[1]
    assert next(line for line in text.splitlines() if line.startswith("GA001")).split()[4] == "yes"
    assert "Automatic fix: yes, `fsdl-check --fix` inserts" in run_cli("--explain", "GA001")[1]
    assert "Automatic fix: none" in run_cli("--explain", "TP002")[1]


def test_unified_diff_marks_a_missing_final_newline() -> None:
    assert fixes.unified_diff("a", "x", "x\ny\n") == (
        "--- a/a\n+++ b/a\n@@ -1 +1,2 @@\n-x\n\\ No newline at end of file\n+x\n+y\n"
    )
    assert fixes.insertions_only("x", "x\ny\n") and not fixes.insertions_only("x\n", "y\n")
