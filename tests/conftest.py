"""Shared fixtures: build small repositories on disk and run rules against them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from fsdl_check.testing import run_rule

Files = Mapping[str, str | bytes]

# Tests commit to throw-away repositories; a fresh machine may have no git identity configured.
for _var, _value in {
    "GIT_AUTHOR_NAME": "fsdl-stack tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "fsdl-stack tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}.items():
    os.environ.setdefault(_var, _value)


def write_tree(root: Path, files: Files) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """``make_repo({"pyproject.toml": "...", "src/pkg/__init__.py": ""}, git=True)`` -> the repository root."""
    counter = iter(range(1_000_000))

    def make(files: Files, git: bool = False) -> Path:
        root = tmp_path / f"repo{next(counter)}"
        root.mkdir()
        write_tree(root, files)
        if git:
            git_init(root)
        return root

    return make


check_rule = run_rule  # one rule's own findings on a repository (see fsdl_check.testing)
