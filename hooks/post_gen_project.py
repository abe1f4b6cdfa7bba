"""Cookiecutter post-generation hook: remove the directories that only hold files of an option that is off, and
record where the template came from.

Copier skips a directory whose name renders empty; cookiecutter cannot, so the template names such a directory with
a condition that always holds under cookiecutter (`_copier_conf is not defined`), and cookiecutter skips the files
inside by their own empty names. Only directories left empty are removed here; no file is ever deleted.

Copier records the template's source and commit in `.copier-answers.yml`; for cookiecutter this hook writes them to
`.cookiecutter.json`, where the project's `make setup` finds the fsdl-check that belongs to the template.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Rendered by cookiecutter before the hook runs (the template as given, its folder, and the --checkout ref). Front
# ends that drive cookiecutter's generator themselves (cruft) give neither folder nor ref; cruft records its own
# source and commit in .cruft.json.
TEMPLATE = {
    "_template": r"""{{ cookiecutter._template | default('') }}""",
    "_repo_dir": r"""{{ cookiecutter._repo_dir | default('') }}""",
    "_checkout": r"""{{ cookiecutter._checkout | default('') }}""",
}

# Deepest first, so a parent is empty once its conditional children are gone.
CONDITIONAL_DIRECTORIES = (
    ".github/workflows",
    ".github",
    "docker",
    "configs/sweeps",
    "launch/slurm",
    "launch/k8s/gpu",
    "launch/k8s/job-gpu",
    "launch/k8s/trainjob-gpu",
    "launch/k8s/pytorchjob-gpu",
    "launch/k8s/rayjob-gpu",
    "launch/k8s/image",
    "launch/k8s/shared",
    "launch/k8s/job",
    "launch/k8s/trainjob",
    "launch/k8s/pytorchjob",
    "launch/k8s/rayjob",
    "launch/k8s/smoke",
    "launch/k8s",
    "launch",
)


def remove_empty_directories(project: Path) -> list[str]:
    removed = []
    for relative in CONDITIONAL_DIRECTORIES:
        directory = project / relative
        if directory.is_dir() and not directory.is_symlink() and not any(directory.iterdir()):
            directory.rmdir()
            removed.append(relative)
    return removed


def record_template_source(project: Path) -> None:
    """`.cookiecutter.json`: the template's folder and, when it is a git checkout, the commit it was rendered from."""
    source = dict(TEMPLATE)
    if not source["_repo_dir"]:  # nothing to resolve a commit in: the template as given, no commit
        source["_commit"] = ""
        (project / ".cookiecutter.json").write_text(json.dumps(source, indent=2) + "\n")
        return
    folder = Path(source["_repo_dir"])
    if not folder.is_absolute():  # relative to where cookiecutter was started, which the shell's PWD names
        folder = (Path(os.environ.get("PWD") or project.parent) / folder).resolve()
        source["_repo_dir"] = str(folder)
    commit = ""
    if source["_checkout"] in ("", "None"):
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain"], capture_output=True, text=True, check=False
        )
        # A checkout with uncommitted changes was rendered from its working tree, not from any commit.
        commit = done.stdout.strip() if done.returncode == 0 and not dirty.stdout.strip() else ""
    source["_commit"] = commit or (source["_checkout"] if source["_checkout"] not in ("", "None") else "")
    (project / ".cookiecutter.json").write_text(json.dumps(source, indent=2) + "\n")


if __name__ == "__main__":
    remove_empty_directories(Path.cwd())
    record_template_source(Path.cwd())
    sys.exit(0)
