"""Cookiecutter post-generation hook: remove the directories that only hold files of an option that is off.

Copier skips a directory whose name renders empty; cookiecutter cannot, so the template names such a directory with
a condition that always holds under cookiecutter (`_copier_conf is not defined`), and cookiecutter skips the files
inside by their own empty names. Only directories left empty are removed here; no file is ever deleted.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Deepest first, so a parent is empty once its conditional children are gone.
CONDITIONAL_DIRECTORIES = (".github/workflows", ".github")


def remove_empty_directories(project: Path) -> list[str]:
    removed = []
    for relative in CONDITIONAL_DIRECTORIES:
        directory = project / relative
        if directory.is_dir() and not directory.is_symlink() and not any(directory.iterdir()):
            directory.rmdir()
            removed.append(relative)
    return removed


if __name__ == "__main__":
    remove_empty_directories(Path.cwd())
    sys.exit(0)
