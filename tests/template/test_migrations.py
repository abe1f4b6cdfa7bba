"""The move-file migration, run as Copier runs it: in the project's folder, after an update."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "move_file.py"


def git(project: Path, *arguments: str) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", *identity, *arguments], cwd=project, check=True, capture_output=True)


def migrate(project: Path, old: str, new: str) -> str:
    done = subprocess.run(
        [sys.executable, str(MIGRATION), old, new], cwd=project, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def project_with(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "start")
    return tmp_path


def test_the_users_edited_file_moves_to_the_new_path(tmp_path: Path) -> None:
    project = project_with(tmp_path, {".copier-answers.yml": "_commit: v1\n", "old.yaml": "ours: 1\n"})
    (project / "old.yaml").unlink()  # what Copier does to a file the new release no longer has
    (project / "new.yaml").write_text("template: 1\n")

    assert (
        migrate(project, "old.yaml", "new.yaml")
        == "migration: moved old.yaml -> new.yaml (your version from the last commit)"
    )
    assert (project / "new.yaml").read_text() == "ours: 1\n"


def test_an_adopted_file_at_the_old_path_is_the_users_own_and_stays(tmp_path: Path) -> None:
    # The template never owned it (adopt excluded it): a release that moves the template's file must not take it.
    answers = "_commit: v1\nadopted_files:\n  - old.yaml\n"
    project = project_with(tmp_path, {".copier-answers.yml": answers, "old.yaml": "ours: 1\n"})
    (project / "new.yaml").write_text("template: 1\n")

    assert (
        migrate(project, "old.yaml", "new.yaml")
        == "migration: old.yaml is your own file (adopted_files): left as it is"
    )
    assert (project / "old.yaml").read_text() == "ours: 1\n"
    assert (project / "new.yaml").read_text() == "template: 1\n"
