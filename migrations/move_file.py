"""Copier migration: keep the user's version of a file that a template release moves from OLD to NEW.

Run after the update (`_stage == "after"`) in the project's folder, as copier.yml's `_migrations` do:

    {{ _copier_python }} {{ _copier_conf.src_path }}/migrations/move_file.py OLD NEW

Copier deletes a file that the new release no longer has, edits and all, and renders NEW fresh. The update starts
from a clean git tree, so HEAD still holds the user's OLD: it becomes NEW, and OLD is gone as the release wants.
A release that moves a file does not also change its content (the user's content is kept as it is). Nothing
happens when the user had no OLD, when NEW is not rendered (its option is off), or when OLD is the user's own
file that `fsdl-check adopt` listed under `adopted_files` (it never was the template's to move).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path, PurePosixPath


def committed(path: str) -> bytes | None:
    """The file as the project's last commit has it, or None."""
    done = subprocess.run(["git", "show", f"HEAD:./{path}"], capture_output=True, check=False)
    return done.stdout if done.returncode == 0 else None


def adopted_files(answers: Path = Path(".copier-answers.yml")) -> set[str]:
    """The user's own files in an adopted project, as its answers file lists them."""
    try:
        import yaml  # Copier's own dependency: the Python that runs migrations has it

        data = yaml.safe_load(answers.read_text(encoding="utf-8"))
    except (ImportError, OSError, ValueError, yaml.YAMLError):
        return set()
    files = data.get("adopted_files") if isinstance(data, dict) else None
    return {str(path).strip("/") for path in files} if isinstance(files, list) else set()


def move(old: str, new: str) -> str:
    """What was done, in one line."""
    if old in adopted_files():
        return f"{old} is your own file (adopted_files): left as it is"
    target, source = Path(new), Path(old)
    if not target.is_file():
        return f"{new} is not part of this project: {old} left as it is"
    if source.is_file():  # still here (Copier keeps what it does not own): move it over the fresh render
        target.write_bytes(source.read_bytes())
        source.unlink()
        return f"moved {old} -> {new}"
    theirs = committed(old)
    if theirs is None:
        return f"no {old} in the last commit: {new} is the template's"
    if theirs == target.read_bytes():
        return f"{old} -> {new}: unchanged"
    target.write_bytes(theirs)
    return f"moved {old} -> {new} (your version from the last commit)"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or any(PurePosixPath(p).is_absolute() or ".." in PurePosixPath(p).parts for p in argv):
        print("usage: move_file.py OLD NEW (paths inside the project)", file=sys.stderr)
        return 2
    print(f"migration: {move(*argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
