"""`copier update` brings a later template release into a generated project and keeps the user's own edits."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import copier
import yaml
from template_helpers import copier_copy, copy_template, load_example


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Template Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", message)


def test_update_applies_the_template_change_and_keeps_the_user_edit(tmp_path: Path) -> None:
    # A template repository with one release.
    template = copy_template(tmp_path / "template")
    git(template, "init", "-q")
    commit_all(template, "template v0.1.0")
    git(template, "tag", "v0.1.0")

    project = copier_copy(template, {**load_example("default"), "copyright_year": "2024"}, tmp_path / "project")
    git(project, "init", "-q")
    commit_all(project, "generated")

    # The user edits the README's end and the .gitignore's start.
    readme, gitignore = project / "README.md", project / ".gitignore"
    readme.write_text(readme.read_text() + "\n## Our notes\n\nNumbers from the team's own runs go here.\n")
    gitignore.write_text("# team scratch\nscratch/\n" + gitignore.read_text())
    commit_all(project, "our edits")

    # The template's next release changes the same two files elsewhere.
    tree = template / "template" / "{{cookiecutter.project_slug}}"
    template_readme = tree / "README.md"
    text = template_readme.read_text()
    anchor = "## Quick start\n"
    assert anchor in text
    template_readme.write_text(text.replace(anchor, anchor + "\nRead CONTRIBUTING.md before your first change.\n", 1))
    (tree / ".gitignore").write_text((tree / ".gitignore").read_text() + "\n# Profiler traces\n*.pt.trace.json\n")
    commit_all(template, "template v0.2.0")
    git(template, "tag", "v0.2.0")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(str(project), defaults=True, overwrite=True, unsafe=False, quiet=True)

    updated_readme = readme.read_text()
    assert "Read CONTRIBUTING.md before your first change." in updated_readme  # the template's change
    assert "## Our notes" in updated_readme  # the user's edit
    updated_gitignore = gitignore.read_text()
    assert updated_gitignore.startswith("# team scratch\nscratch/\n")
    assert updated_gitignore.rstrip().endswith("*.pt.trace.json")
    assert "<<<<<<<" not in updated_readme + updated_gitignore
    assert not list(project.rglob("*.rej"))

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0"
    assert answers["tracker"] == "mlflow" and answers["copyright_year"] == "2024"  # earlier answers kept


def test_vcs_ref_head_renders_the_working_tree(tmp_path: Path) -> None:
    """`--vcs-ref HEAD` picks up uncommitted and untracked template files; without it Copier renders the latest tag."""
    template = copy_template(tmp_path / "template")
    git(template, "init", "-q")
    commit_all(template, "template v0.1.0")
    git(template, "tag", "v0.1.0")
    tree = template / "template" / "{{cookiecutter.project_slug}}"
    readme = tree / "README.md"
    readme.write_text(readme.read_text() + "\nAn uncommitted line.\n")  # modified, not committed
    (tree / "NOTES.md").write_text("An untracked file.\n")  # untracked, not ignored
    answers = {**load_example("default"), "copyright_year": "2024"}

    working_tree = copier_copy(template, answers, tmp_path / "head", vcs_ref="HEAD")
    assert "An uncommitted line." in (working_tree / "README.md").read_text()
    assert (working_tree / "NOTES.md").is_file()

    release = copier_copy(template, answers, tmp_path / "release")
    assert "An uncommitted line." not in (release / "README.md").read_text()
    assert not (release / "NOTES.md").exists()
    assert yaml.safe_load((release / ".copier-answers.yml").read_text())["_commit"] == "v0.1.0"
