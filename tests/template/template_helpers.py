"""Helpers for the template's tests: a snapshot of the template, and renderers for Copier and cookiecutter.

Renders come from a snapshot of the files git would hand Copier (tracked plus untracked-but-not-ignored, as
`copier copy --vcs-ref HEAD` of a dirty checkout sees them) copied once per session into a plain folder: Copier
then renders it in place instead of cloning the repository for every combination.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import copier
import yaml
from cookiecutter.main import cookiecutter

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PARTS = ("copier.yml", "template", "hooks")
EXAMPLES = REPO_ROOT / "examples"

Answers = Mapping[str, Any]
RenderCopier = Callable[[Answers, Path], Path]
RenderCookiecutter = Callable[[Answers, Path], Path]


def template_files(root: Path = REPO_ROOT) -> list[str]:
    """The template's files as git lists them (tracked, plus untracked files that are not ignored)."""
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *TEMPLATE_PARTS],
        capture_output=True,
        check=True,
    ).stdout
    names = (p for p in out.decode().split("\0") if p)
    return sorted({p for p in names if (root / p).exists() or (root / p).is_symlink()})


def copy_template(destination: Path, root: Path = REPO_ROOT) -> Path:
    """Copy the template's files (links kept as links) into `destination`, a plain folder Copier renders in place."""
    for rel in template_files(root):
        source, target = root / rel, destination / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        else:
            shutil.copy2(source, target)
    return destination


def load_example(name: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / f"{name}.yml").read_text())
    assert isinstance(data, dict)
    return data


def copier_copy(template: Path, answers: Answers, destination: Path, **kwargs: Any) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Copier warns about dirty git templates; not the subject here
        copier.run_copy(
            str(template),
            str(destination),
            data=dict(answers),
            defaults=True,
            unsafe=False,
            quiet=True,
            **kwargs,
        )
    return destination


def cookiecutter_render(template: Path, answers: Answers, output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    state = output_dir / ".cookiecutter-state"  # keeps replay files out of the home directory
    project = cookiecutter(
        str(template),
        directory="template",
        no_input=True,
        extra_context=dict(answers),
        output_dir=str(output_dir),
        default_config={"replay_dir": str(state / "replay"), "cookiecutters_dir": str(state / "cache")},
    )
    return Path(project)
